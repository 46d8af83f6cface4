package main

import (
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/pgtest"
)

// The flows of PostgREST's two tutorials (docs/tutorials/tut0.rst "Tutorial 0 - Get it Running" and tut1.rst
// "Tutorial 1 - The Golden Key"), with their SQL (testdata/tutorials/*.sql), their configuration file
// (testdata/tutorials/tutorial.conf) and their requests, run as the tutorials run PostgREST:
// `postgrest tutorial.conf`. What differs from a reader's machine: the database is a throwaway one (db-uri's
// host, port and database name are replaced, as the tutorial says to), PGRST_SERVER_HOST and
// PGRST_SERVER_PORT choose a free loopback port instead of 3000, and the tutorials' `create role` statements
// also accept a role that exists already (roles are cluster-wide; other tests create web_anon and
// authenticator).

func tutorialFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tutorials", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var createRole = regexp.MustCompile(`(?m)^create role (\w+)([^;]*);`)

// sharedRoles makes each `create role NAME OPTIONS;` create the role, or give an existing one those options.
func sharedRoles(sql string) string {
	return createRole.ReplaceAllString(sql,
		"DO $$$$ BEGIN CREATE ROLE $1$2; EXCEPTION WHEN duplicate_object THEN ALTER ROLE $1$2; END $$$$;")
}

// tutorialSecret is what Tutorial 1 has the reader generate: 32 random letters and digits.
func tutorialSecret() string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func TestTutorials(t *testing.T) {
	db := pgtest.NewDatabase(t, sharedRoles(tutorialFile(t, "tut0.sql")))
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "tutorial.conf")
	text := strings.Replace(tutorialFile(t, "tutorial.conf"), "localhost:5432/postgres", u.Host+"/"+db.Name, 1)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	appendConf := func(line string) {
		f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	t.Setenv("PGRST_SERVER_HOST", "127.0.0.1")
	t.Setenv("PGRST_SERVER_PORT", strconv.Itoa(port))

	// Tutorial 0, step 4: postgrest tutorial.conf
	srv := startCLI(t, port, "/todos", "postgrest", conf)
	res := srv.do(t, "GET", "/todos", "")
	if res.status != 200 {
		t.Fatalf("GET /todos: %d %s", res.status, res.body)
	}
	sameJSON(t, "Tutorial 0: curl http://localhost:3000/todos", res.body, `[
    {"id": 1, "done": false, "task": "finish tutorial 0", "due": null},
    {"id": 2, "done": false, "task": "pat self on back", "due": null}]`)
	res = srv.do(t, "POST", "/todos", `{"task": "do bad thing"}`, "Content-Type", "application/json")
	if res.status != 401 {
		t.Errorf("Tutorial 0: anonymous POST: %d, want 401 Unauthorized", res.status)
	}
	sameJSON(t, "Tutorial 0: anonymous POST", res.body,
		`{"code": "42501", "details": null, "hint": null, "message": "permission denied for table todos"}`)
	srv.stop()

	// Tutorial 1, steps 1 and 2: the todo_user role, a secret in tutorial.conf, and a restart.
	db.Exec(t, sharedRoles(tutorialFile(t, "tut1.sql")))
	secret := tutorialSecret()
	appendConf(`jwt-secret = "` + secret + `"`)
	srv = startCLI(t, port, "/todos", "postgrest", conf)

	// Step 3 and 4: a token signed by hand, then POST and PATCH with it.
	token := hs256(secret, `{"role":"todo_user"}`)
	res = srv.do(t, "POST", "/todos", `{"task": "learn how to auth"}`,
		"Authorization", "Bearer "+token, "Content-Type", "application/json")
	if res.status != 201 {
		t.Errorf("Tutorial 1: POST with the token: %d %s, want 201", res.status, res.body)
	}
	res = srv.do(t, "PATCH", "/todos", `{"done": true}`, "Authorization", "Bearer "+token, "Content-Type", "application/json")
	if res.status != 204 {
		t.Errorf("Tutorial 1: PATCH with the token: %d %s, want 204", res.status, res.body)
	}
	sameJSON(t, "Tutorial 1: curl http://localhost:3000/todos", srv.do(t, "GET", "/todos", "").body, `[
    {"id": 1, "done": true, "task": "finish tutorial 0", "due": null},
    {"id": 2, "done": true, "task": "pat self on back", "due": null},
    {"id": 3, "done": true, "task": "learn how to auth", "due": null}]`)

	// Step 5: expiration. A token five minutes from expiring works; once expired (a token whose exp passed a
	// minute ago, beyond the 30 seconds of clock skew PostgREST allows, instead of waiting) it is refused. The tutorial's text shows the code PGRST301 of
	// older PostgREST versions; PostgREST now answers PGRST303 (Error.hs: JwtClaimsErr JWTExpired), as pgway.
	exp := time.Now().Add(5 * time.Minute).Unix()
	newToken := hs256(secret, `{"role":"todo_user","exp":`+strconv.FormatInt(exp, 10)+`}`)
	if res := srv.do(t, "GET", "/todos", "", "Authorization", "Bearer "+newToken); res.status != 200 {
		t.Errorf("Tutorial 1: before expiration: %d %s", res.status, res.body)
	}
	expired := hs256(secret, `{"role":"todo_user","exp":`+strconv.FormatInt(time.Now().Unix()-60, 10)+`}`)
	res = srv.do(t, "GET", "/todos", "", "Authorization", "Bearer "+expired)
	if res.status != 401 {
		t.Errorf("Tutorial 1: after expiration: %d, want 401 Unauthorized", res.status)
	}
	sameJSON(t, "Tutorial 1: after expiration", res.body, `{"code": "PGRST303", "details": null, "hint": null, "message": "JWT expired"}`)
	srv.stop()

	// Bonus topic: immediate revocation with db-pre-request, and a restart.
	db.Exec(t, tutorialFile(t, "tut1-bonus.sql"))
	appendConf("\n# add this line to tutorial.conf\n\ndb-pre-request = \"auth.check_token\"")
	srv = startCLI(t, port, "/todos", "postgrest", conf)
	wayward := hs256(secret, `{"role": "todo_user", "email": "disgruntled@mycompany.com"}`)
	res = srv.do(t, "PATCH", "/todos", `{"done": true}`, "Authorization", "Bearer "+token, "Content-Type", "application/json")
	if res.status != 204 {
		t.Errorf("Tutorial 1 bonus: this request still works: %d %s", res.status, res.body)
	}
	res = srv.do(t, "PATCH", "/todos", `{"task": "AAAHHHH!", "done": false}`,
		"Authorization", "Bearer "+wayward, "Content-Type", "application/json")
	if res.status != 403 {
		t.Errorf("Tutorial 1 bonus: the revoked token: %d, want 403 Forbidden", res.status)
	}
	sameJSON(t, "Tutorial 1 bonus: the revoked token", res.body,
		`{"code": "42501", "details": null, "hint": "Nope, we are on to you", "message": "insufficient_privilege"}`)
}
