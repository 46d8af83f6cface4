package sidecar

import (
	"embed"
	"html"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// docsAssets are Swagger UI's files from the swagger-ui-dist npm package pinned in docsui/package-lock.json
// (`make docs-assets` refreshes them); they are served by pgway itself, never from a CDN.
//
//go:embed docsui/assets
var docsAssets embed.FS

// docsPage is the interactive reference for the live document: Swagger UI with its Authorize box (the
// document's bearerAuth scheme) and "Try it out" requests against this pgway.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<link rel="stylesheet" href="/pgway/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/pgway/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/pgway/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: %URL%,
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
  displayRequestDuration: true
});
</script>
</body>
</html>
`

// pagePrefix is where pgway's own pages live (the docs page, its assets, the OpenAPI document under a plain
// name): a path of two segments that is not /rpc/…, which PostgREST never routes, so no relation or function
// can be shadowed. /docs, /openapi.json and /openapi.yaml are kept as aliases while the schema has no relation
// of that name.
const pagePrefix = "/pgway"

// page is one of pgway's own pages: the docs page or an asset of it, or the document in a format.
type page struct {
	docs   bool
	asset  string // the docs page's asset ("" for the page)
	format string // the document's format ("json", "yaml")
}

// pgwayPage recognises GET/HEAD of pgway's pages: under /pgway always; at /docs, /openapi.json and /openapi.yaml
// when the schema the request would read has no relation of that name (the relation wins).
func pgwayPage(in request.Input, snap *snapshot) (page, bool) {
	if in.Method != "GET" && in.Method != "HEAD" {
		return page{}, false
	}
	p, ok := strings.CutPrefix(in.Path, pagePrefix)
	if !ok || p != "" && p[0] != '/' {
		// Legacy aliases, unless a relation answers there.
		p = in.Path
		name := strings.Trim(p, "/")
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[:i]
		}
		if name != "docs" && name != "openapi.json" && name != "openapi.yaml" && name != "openapi.yml" || snap.hasRelation(in.AcceptProfile, name) {
			return page{}, false
		}
	}
	switch {
	case p == "/docs" || p == "/docs/":
		return page{docs: true}, true
	case strings.HasPrefix(p, "/docs/"):
		return page{docs: true, asset: path.Base(p)}, true
	case p == "/openapi.json":
		return page{format: "json"}, true
	case p == "/openapi.yaml" || p == "/openapi.yml":
		return page{format: "yaml"}, true
	}
	return page{}, false
}

// serveDocs answers GET /pgway/docs (and /vN/pgway/docs: the version's document) and the page's assets.
func (s *Server) serveDocs(c *handling, pg page, version string) error {
	resp := &c.ctx.Response
	c.etag = true
	if pg.asset == "" {
		docURL := pagePrefix + "/openapi.json"
		title := "pgway API"
		if version != "" {
			docURL = "/" + version + docURL
			title += " " + version
		}
		page := strings.NewReplacer("%TITLE%", html.EscapeString(title), "%URL%", `"`+docURL+`"`).Replace(docsPage)
		resp.Header.Set("Content-Type", "text/html; charset=utf-8")
		resp.Header.Set("Cache-Control", "no-cache")
		resp.SetBodyString(page)
		return nil
	}
	name := pg.asset
	b, err := docsAssets.ReadFile("docsui/assets/" + name)
	if err != nil {
		return apierr.New(http.StatusNotFound, "PGRST125", "Invalid path specified in request URL")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	resp.Header.Set("Content-Type", ct)
	resp.Header.Set("Cache-Control", "public, max-age=86400")
	resp.SetBody(b)
	return nil
}
