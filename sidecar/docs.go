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
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
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

// isDocsPath reports whether path is the docs page or one of its assets.
func isDocsPath(in request.Input) bool {
	return (in.Method == "GET" || in.Method == "HEAD") && (in.Path == "/docs" || in.Path == "/docs/" || strings.HasPrefix(in.Path, "/docs/"))
}

// serveDocs answers GET /docs (and /vN/docs: the version's document) and the page's assets.
func (s *Server) serveDocs(c *handling, in request.Input, version string) error {
	resp := &c.ctx.Response
	if in.Path == "/docs" || in.Path == "/docs/" {
		docURL := "/openapi.json"
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
	name := path.Base(in.Path)
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
