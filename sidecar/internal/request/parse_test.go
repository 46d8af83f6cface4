package request_test

import (
	"errors"
	"testing"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// TestPostgRESTErrors pins error objects exactly as PostgREST's own test suite and doctests state them
// (test/spec/Feature/Query/*.hs, ApiRequest/QueryParams.hs); the golden files cover the rest.
func TestPostgRESTErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      request.Input
		status  int
		code    string
		message string
		details string
	}{
		{"empty or", get("/entities", "or=()"), 400, "PGRST100",
			`"failed to parse logic tree (())" (line 1, column 4)`,
			`unexpected ")" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)`},
		{"empty columns", request.Input{Method: "POST", Path: "/articles", Query: "columns="}, 400, "PGRST100",
			`"failed to parse columns parameter ()" (line 1, column 1)`,
			`unexpected end of input expecting field name (* or [a..z0..9_$])`},
		{"reserved json key char", get("/json_arr", "id=eq.10&select=data->(!@#$%^%26*_d->>!@#$%^%26*_e::integer"), 400, "PGRST100",
			`"failed to parse select parameter (data->(!@#$%^&*_d->>!@#$%^&*_e::integer)" (line 1, column 7)`,
			`unexpected "(" expecting "-", digit or any non reserved character different from: .,>()`},
		{"bad negative index", get("/json_arr", "select=data->>--34"), 400, "PGRST100",
			`"failed to parse select parameter (data->>--34)" (line 1, column 9)`,
			`unexpected "-" expecting digit`},
		{"order nullslasttt", get("/items", "order=id.asc.nullslasttt"), 400, "PGRST100",
			`"failed to parse order (id.asc.nullslasttt)" (line 1, column 17)`,
			`unexpected 't' expecting "," or end of input`},
		{"filter without operator", get("/ghostBusters", "id=0"), 400, "PGRST100",
			`"failed to parse filter (0)" (line 1, column 1)`,
			`unexpected "0" expecting "not" or operator (eq, gt, ...)`},
		{"select bracket", get("/items", "select=id,clients(name[])"), 400, "PGRST100",
			`"failed to parse select parameter (id,clients(name[]))" (line 1, column 16)`,
			`unexpected '[' expecting letter, digit, "-", "->>", "->", "::", ".", ")", "," or end of input`},
		{"select bad negative", get("/items", "select=data->>-78xy"), 400, "PGRST100",
			`"failed to parse select parameter (data->>-78xy)" (line 1, column 11)`,
			`unexpected 'x' expecting digit, "->", "::", ".", "," or end of input`},
		{"fts empty lang", get("/items", "a=fts().value"), 400, "PGRST100",
			`"failed to parse filter (fts().value)" (line 1, column 5)`, `unexpected ")" expecting operator (eq, gt, ...)`},
		{"quant empty", get("/items", "a=eq().value"), 400, "PGRST100",
			`"failed to parse filter (eq().value)" (line 1, column 4)`, `unexpected ")" expecting operator (eq, gt, ...)`},
		{"is paren", get("/items", "a=is().value"), 400, "PGRST100",
			`"failed to parse filter (is().value)" (line 1, column 3)`, `unexpected "(" expecting operator (eq, gt, ...)`},
		{"in paren", get("/items", "a=in().value"), 400, "PGRST100",
			`"failed to parse filter (in().value)" (line 1, column 3)`, `unexpected "(" expecting operator (eq, gt, ...)`},
		{"order relation two columns", get("/items", "order=clients(name,id)"), 400, "PGRST100",
			`"failed to parse order (clients(name,id))" (line 1, column 8)`,
			`unexpected '(' expecting letter, digit, "-", "->>", "->", delimiter (.), "," or end of input`},
		{"order ac", get("/items", "order=id.ac"), 400, "PGRST100",
			`"failed to parse order (id.ac)" (line 1, column 4)`, `unexpected "c" expecting "asc", "desc", "nullsfirst" or "nullslast"`},
		{"order descc", get("/items", "order=id.descc"), 400, "PGRST100",
			`"failed to parse order (id.descc)" (line 1, column 8)`, `unexpected 'c' expecting delimiter (.), "," or end of input`},
		{"order nullslasttt no dir", get("/items", "order=id.nullslasttt"), 400, "PGRST100",
			`"failed to parse order (id.nullslasttt)" (line 1, column 13)`, `unexpected 't' expecting "," or end of input`},
		{"order smth", get("/items", "order=id.asc.smth34"), 400, "PGRST100",
			`"failed to parse order (id.asc.smth34)" (line 1, column 8)`, `unexpected "s" expecting "nullsfirst" or "nullslast"`},
		{"logic in without parens", get("/items", "or=(id.in.1,2,id.eq.3)"), 400, "PGRST100",
			`"failed to parse logic tree ((id.in.1,2,id.eq.3))" (line 1, column 10)`, `unexpected "1" expecting "("`},
		{"logic ord", get("/items", "and=(ord(id.eq.1,id.eq.1),id.eq.2)"), 400, "PGRST100",
			`"failed to parse logic tree ((ord(id.eq.1,id.eq.1),id.eq.2))" (line 1, column 7)`, `unexpected "d" expecting "("`},
		{"logic xor", get("/items", "or=(id.eq.1,not.xor(id.eq.2,id.eq.3))"), 400, "PGRST100",
			`"failed to parse logic tree ((id.eq.1,not.xor(id.eq.2,id.eq.3)))" (line 1, column 16)`,
			`unexpected "x" expecting logic operator (and, or)`},
		{"nested path", get("/first/second/third", "select=*"), 404, "PGRST125", "Invalid path specified in request URL", ""},
		{"rpc delete", request.Input{Method: "DELETE", Path: "/rpc/sayhello"}, 405, "PGRST101", "Cannot use the DELETE method on RPC", ""},
		{"unknown accept", request.Input{Method: "GET", Path: "/simple_pk", Accept: "text/unknowntype"}, 406, "PGRST107",
			"None of these media types are available: text/unknowntype", ""},
		{"text on table", request.Input{Method: "GET", Path: "/lines", Accept: "text/plain"}, 406, "PGRST107",
			"None of these media types are available: text/plain", ""},
		{"strict prefs", request.Input{Method: "GET", Path: "/items", Prefer: "handling=strict, anything"}, 400, "PGRST122",
			"Invalid preferences given with handling=strict", "Invalid preferences: anything"},
		{"strict prefs two headers", request.Input{Method: "GET", Path: "/items", Prefer: "handling=strict, something, else"}, 400, "PGRST122",
			"Invalid preferences given with handling=strict", "Invalid preferences: something, else"},
		{"negative limit", get("/items", "select=id&limit=-1"), 416, "PGRST103", "Requested range not satisfiable",
			"Limit should be greater than or equal to zero."},
		{"inverted range", request.Input{Method: "GET", Path: "/items", Range: "1-0"}, 416, "PGRST103", "Requested range not satisfiable",
			"The lower boundary must be lower than or equal to the upper boundary in the Range header."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := request.Parse(tt.in)
			if err == nil && req.AcceptErr != nil {
				err = req.AcceptErr // reads defer PGRST107 to the plan, which knows the media type handlers
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *apierr.Error", err)
			}
			if ae.Status != tt.status || ae.Code != tt.code || ae.Message != tt.message || ae.Details != tt.details {
				t.Errorf("got %d %s %q %q\nwant %d %s %q %q", ae.Status, ae.Code, ae.Message, ae.Details,
					tt.status, tt.code, tt.message, tt.details)
			}
		})
	}
}

func get(path, query string) request.Input {
	return request.Input{Method: "GET", Path: path, Query: query}
}
