package validate_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/validate"
)

//go:embed testdata/types.sql
var typesSQL string

func TestMain(m *testing.M) { pgtest.Main(m) }

// outcome is what the OpenAPI document and the validator are expected to say about a value, given
// PostgreSQL's verdict (ok or bad). Only one outcome rejects a value PostgreSQL accepts: docStrict, for JSON
// that PostgreSQL reads in a form other than the canonical one the document describes.
type outcome uint8

const (
	// exact: the document, the validator and PostgreSQL agree.
	exact outcome = iota
	// bothLax: PostgreSQL rejects the value; the document and the validator both leave it to PostgreSQL
	// (CHECK constraints, numeric precision, date/time fields, the text formats of inet, ranges, bytea, ...).
	bothLax
	// docLax: PostgreSQL and the validator reject the value; the document cannot say so (JSON Schema has one
	// number type: 1e3 and 1.0 are integers to it).
	docLax
	// valLax: PostgreSQL and the document reject the value; the validator leaves it to PostgreSQL (null for a
	// NOT NULL column, which a trigger may fill; array elements).
	valLax
	// docStrict: PostgreSQL and the validator accept the value; the document rejects it because it describes
	// the canonical JSON form of the column's values (to_json's), not every form json_to_record reads: the
	// text of a scalar ("42" for an integer, 1 for a boolean, 5 for text), spaces beyond a varchar or char
	// length (PostgreSQL truncates them), arrays of more than one dimension.
	docStrict
)

// sample is one value and PostgreSQL's verdict on it: a JSON value for the column in an insert body ("" means
// the key is absent: the body is {}), or a filter value (eq.VALUE).
type sample struct {
	v   string
	ok  bool
	out outcome
}

func ok(v string, out ...outcome) sample  { return sample{v: v, ok: true, out: first(out)} }
func bad(v string, out ...outcome) sample { return sample{v: v, ok: false, out: first(out)} }

func first(out []outcome) outcome {
	if len(out) > 0 {
		return out[0]
	}
	return exact
}

// want returns whether the document and the validator should accept s.
func (s sample) want() (doc, val bool) {
	switch s.out {
	case bothLax:
		return true, true
	case docLax:
		return true, false
	case valLax:
		return false, true
	case docStrict:
		return false, true
	}
	return s.ok, s.ok
}

type columnCase struct {
	table, column string
	body          []sample // insert bodies {"column": v}
	filter        []sample // ?column=eq.v
}

// typeCases: for every column of testdata/types.sql, values PostgreSQL accepts and rejects, as an insert body
// field and as a filter value, with what the document and the validator say when they differ from it.
var typeCases = []columnCase{
	{"types", "i2",
		[]sample{ok(`1`), ok(`-32768`), ok(`32767`), ok(`null`), ok(`"12"`, docStrict),
			bad(`32768`), bad(`-32769`), bad(`1.5`), bad(`"abc"`), bad(`true`), bad(`[1]`), bad(`{}`),
			bad(`1e3`, docLax), bad(`1.0`, docLax)},
		[]sample{ok("1"), ok(" 2 "), ok("-32768"), bad("32768"), bad("abc"), bad("1.5"), bad("")}},
	{"types", "i4",
		[]sample{ok(`2147483647`), ok(`-2147483648`), ok(`"42"`, docStrict), ok(`" 7 "`, docStrict),
			bad(`2147483648`), bad(`1.5`), bad(`"abc"`), bad(`{"a":1}`), bad(`1e3`, docLax)},
		[]sample{ok("2147483647"), ok(" 7 "), ok("+3"), bad("2147483648"), bad("abc"), bad("1e3"), bad("1.0")}},
	{"types", "i8",
		[]sample{ok(`9223372036854775807`), ok(`-9223372036854775808`),
			// 2^63 is float64(MaxInt64): a JSON Schema validator working in float64 cannot tell them apart.
			bad(`9223372036854775808`, docLax), bad(`"9223372036854775808"`)},
		[]sample{ok("9223372036854775807"), bad("9223372036854775808"), bad("1.5")}},
	{"types", "num",
		[]sample{ok(`1`), ok(`-1.5`), ok(`1e300`), ok(`"NaN"`, docStrict), ok(`"Infinity"`, docStrict),
			bad(`"abc"`), bad(`true`), bad(`[1]`)},
		[]sample{ok("1.5"), ok("NaN"), ok("-Infinity"), ok("1e400"), ok(" 2 "), bad("abc"), bad("1,5"), bad("")}},
	{"types", "num52",
		[]sample{ok(`123.45`), ok(`999.99`), ok(`1.005`),
			// numeric(5,2) overflow (22003) is left to PostgreSQL.
			bad(`1000`, bothLax), bad(`1234.5`, bothLax)},
		// A filter compares as numeric, without the typmod.
		[]sample{ok("1000"), bad("x")}},
	{"types", "f4",
		[]sample{ok(`1.5`), ok(`3.4e38`), ok(`"NaN"`, docStrict), ok(`"-Infinity"`, docStrict),
			bad(`1e39`, bothLax), bad(`"abc"`)},
		[]sample{ok("1.5"), ok("NaN"), ok("inf"), bad("1e39", bothLax), bad("abc")}},
	{"types", "f8",
		[]sample{ok(`1.7976931348623157e308`), ok(`-0.0`), ok(`5e-324`), bad(`1e-400`, bothLax), bad(`"abc"`)},
		[]sample{ok("1.5"), ok("-Infinity"), bad("1e-400", bothLax), bad("1e309", bothLax), bad("abc")}},
	{"types", "b",
		[]sample{ok(`true`), ok(`false`), ok(`"t"`, docStrict), ok(`"yes"`, docStrict), ok(`" on "`, docStrict),
			ok(`1`, docStrict), ok(`0`, docStrict),
			bad(`"maybe"`), bad(`2`), bad(`"o"`), bad(`[]`)},
		[]sample{ok("true"), ok("t"), ok("yes"), ok("1"), ok("off"), ok("FALSE"), bad("maybe"), bad("2"), bad("")}},
	{"types", "t",
		[]sample{ok(`"x"`), ok(`""`), ok(`"😀"`), ok(`5`, docStrict), ok(`true`, docStrict), ok(`{"a":1}`, docStrict),
			// json_to_record cannot turn \u0000 into text (22P05).
			bad(`"\u0000"`, bothLax)},
		[]sample{ok("anything"), ok("")}},
	{"types", "vc",
		[]sample{ok(`"abc"`), ok(`"😀😀😀"`), ok(`""`),
			// Spaces beyond the length are truncated, not an error (varchar's input function); the
			// document's maxLength describes the value stored.
			ok(`"ab   "`, docStrict),
			ok(`12`, docStrict), bad(`"abcd"`), bad(`"abc d"`), bad(`12345`), bad(`true`)},
		// A filter compares as varchar, without the typmod.
		[]sample{ok("abcdef")}},
	{"types", "vcu", []sample{ok(`"a long text without a limit"`)}, nil},
	{"types", "ch",
		[]sample{ok(`"ab"`), ok(`"abc"`), ok(`"abc   "`, docStrict),
			// bpchar's length check is left to PostgreSQL by the validator.
			bad(`"abcd"`, valLax)},
		[]sample{ok("abcd")}},
	{"types", "u",
		[]sample{ok(`"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`), ok(`"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"`),
			ok(`"A0EEBC999C0B4EF8BB6D6BB9BD380A11"`),
			bad(`"abc"`, docLax), bad(`"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"`, docLax), bad(`5`)},
		[]sample{ok("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), ok("{a0eebc999c0b4ef8bb6d6bb9bd380a11}"), bad("abc"),
			bad("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1")}},
	{"types", "j", []sample{ok(`{"a":[1,null]}`), ok(`[1]`), ok(`"s"`), ok(`1`), ok(`true`), ok(`null`), bad(`"\u0000"`, bothLax)}, nil},
	{"types", "jb",
		[]sample{ok(`{"a":[1,null]}`), ok(`[1]`), ok(`"s"`), ok(`1`), ok(`false`), ok(`null`),
			bad(`"\u0000"`, bothLax)},
		[]sample{ok(`{"a":1}`), ok(`1`), bad(`{`, bothLax)}},
	{"types", "d",
		[]sample{ok(`"2024-01-02"`), ok(`"infinity"`), ok(`"2024-1-2"`), ok(`"Jan 2, 2024"`), ok(`"today"`),
			ok(`"20240102"`), ok(`20240102`, docStrict),
			// Date fields are left to PostgreSQL; the document has no format for input (see inputFormat).
			bad(`"abc"`, docLax), bad(`"2024-02-30"`, bothLax), bad(`"2024-13-01"`, bothLax)},
		[]sample{ok("2024-01-02"), ok("infinity"), ok("today"), bad("abc"), bad("2024-02-30", bothLax)}},
	{"types", "tm",
		[]sample{ok(`"13:45"`), ok(`"13:45:00.123"`), ok(`"allballs"`), ok(`"24:00:00"`),
			bad(`"25:00"`, bothLax), bad(`"abc"`, docLax)},
		[]sample{ok("13:45"), ok("allballs"), bad("25:00", bothLax), bad("abc")}},
	{"types", "tmtz",
		[]sample{ok(`"13:45:00+02"`), ok(`"13:45"`), bad(`"13:45:00+99"`, bothLax), bad(`"abc"`, docLax)},
		[]sample{ok("13:45:00+02"), bad("abc")}},
	{"types", "ts",
		[]sample{ok(`"2024-01-02T03:04:05"`), ok(`"2024-01-02 03:04:05.123456"`), ok(`"infinity"`), ok(`"epoch"`),
			ok(`"2024-01-02"`),
			bad(`"2024-01-02T25:00:00"`, bothLax), bad(`"abc"`, docLax)},
		[]sample{ok("2024-01-02T03:04:05"), ok("-infinity"), bad("abc")}},
	{"types", "tstz",
		[]sample{ok(`"2024-01-02T03:04:05Z"`), ok(`"2024-01-02T03:04:05.123456+02:00"`), ok(`"2024-01-02 03:04:05"`),
			ok(`"2024-01-02"`), ok(`"infinity"`), ok(`"-infinity"`),
			bad(`"abc"`, docLax), bad(`"2024-02-30T00:00:00Z"`, bothLax)},
		[]sample{ok("2024-01-02T03:04:05Z"), ok("2024-01-02 03:04:05+02"), ok("now"), bad("abc")}},
	{"types", "iv",
		[]sample{ok(`"1 day"`), ok(`"P1D"`), ok(`"01:00:00"`), ok(`"1 day 02:00:00"`), bad(`"abc"`, bothLax)},
		[]sample{ok("1 day"), bad("abc", bothLax)}},
	{"types", "by",
		[]sample{ok(`"\\x0102"`), ok(`"abc"`), bad(`"\\xZZ"`, bothLax), bad(`"\\x0"`, bothLax)},
		[]sample{ok(`\x0102`), bad(`\xZZ`, bothLax)}},
	{"types", "ip",
		[]sample{ok(`"192.168.0.1"`), ok(`"::1"`), ok(`"10.0.0.0/8"`), bad(`"300.1.1.1"`, bothLax), bad(`"abc"`, bothLax)},
		[]sample{ok("192.168.0.1"), bad("abc", bothLax)}},
	{"types", "net", []sample{ok(`"10.0.0.0/8"`), bad(`"10.0.0.1/8"`, bothLax)}, nil},
	{"types", "mac", []sample{ok(`"08:00:2b:01:02:03"`), ok(`"08002b010203"`), bad(`"xyz"`, bothLax)}, nil},
	{"types", "mon",
		[]sample{ok(`"$1.50"`), ok(`"12.34"`), ok(`12.34`, docStrict), bad(`"abc"`, bothLax)},
		[]sample{ok("12.34"), bad("abc", bothLax)}},
	{"types", "mood",
		[]sample{ok(`"sad"`), ok(`"happy"`), ok(`null`), bad(`"angry"`), bad(`"Sad"`), bad(`1`), bad(`true`)},
		[]sample{ok("ok"), bad("angry"), bad("")}},
	{"types", "dom",
		[]sample{ok(`5`), ok(`"5"`, docStrict), bad(`"x"`), bad(`2147483648`)},
		[]sample{ok("5"), bad("x")}},
	{"types", "pos",
		[]sample{ok(`5`), bad(`-1`, bothLax), bad(`"x"`)},
		// A filter compares as the base type: the domain's CHECK does not apply.
		[]sample{ok("5"), ok("-1"), bad("x")}},
	{"types", "short",
		[]sample{ok(`"abc"`), bad(`"abcd"`)},
		[]sample{ok("abcd")}},
	{"types", "color",
		// Read through the domain representation's json → domain cast, which the validator and the
		// document leave alone.
		[]sample{ok(`"#00FF00"`), ok(`"00ff00"`), bad(`"zz"`, bothLax), bad(`"#1000000"`, bothLax)},
		[]sample{ok("00FF00"), bad("zz", bothLax)}},
	{"types", "ia",
		[]sample{ok(`[1,2]`), ok(`[]`), ok(`[null]`), ok(`"{1,2}"`, docStrict),
			// The document describes one dimension.
			ok(`[[1,2],[3,4]]`, docStrict),
			// The validator does not look into arrays.
			bad(`[1.5]`, valLax), bad(`["a"]`, valLax), bad(`[2147483648]`, valLax), bad(`1`, valLax),
			bad(`[[1],[2,3]]`, valLax)},
		[]sample{ok("{1,2}"), ok("{}"), bad("{1,x}", bothLax), bad("1", bothLax)}},
	{"types", "ta",
		[]sample{ok(`["a","b"]`), ok(`[1]`, docStrict), bad(`"abc"`, valLax)},
		[]sample{ok(`{a,"b c"}`), bad("abc", bothLax)}},
	{"types", "ua",
		[]sample{ok(`["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]`), bad(`["abc"]`, bothLax)},
		[]sample{ok("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"), bad("{abc}", bothLax)}},
	{"types", "moods",
		[]sample{ok(`["sad","ok"]`), bad(`["angry"]`, valLax)},
		[]sample{ok("{sad}"), bad("{angry}", bothLax)}},
	{"types", "ir",
		[]sample{ok(`"[1,10)"`), ok(`"empty"`), bad(`"[10,1)"`, bothLax), bad(`"abc"`, bothLax)},
		[]sample{ok("[1,10)"), bad("abc", bothLax)}},
	{"types", "nr", []sample{ok(`"(1.5,2.5]"`), bad(`"(a,b)"`, bothLax)}, nil},
	{"types", "dr", []sample{ok(`"[2024-01-01,2024-02-01)"`), bad(`"[2024-02-01,2024-01-01)"`, bothLax)}, nil},
	{"types", "pair",
		[]sample{ok(`{"a":1,"b":"x"}`), ok(`{"c":1}`), ok(`"(1,x)"`, docStrict),
			bad(`{"a":"x"}`, bothLax), bad(`5`, valLax)},
		// PostgreSQL cannot compare a composite column with a parameter of unknown type.
		[]sample{bad("(1,x)", bothLax), bad("x", bothLax)}},
	{"types", "tv",
		[]sample{ok(`"a fat cat"`), ok(`"'a':1"`), bad(`"'unterminated"`, bothLax)},
		[]sample{ok("'a':1"), bad("'unterminated", bothLax)}},
	{"types", "bt",
		[]sample{ok(`"101"`), bad(`"1011"`, bothLax), bad(`"102"`, bothLax)},
		[]sample{ok("101"), bad("102", bothLax)}},
	{"types", "vb", []sample{ok(`"101"`), bad(`"101010"`, bothLax)}, nil},
	{"types", "x", []sample{ok(`"<a/>"`), ok(`"text"`), bad(`"<a>"`, bothLax)}, nil},
	{"types", "o",
		[]sample{ok(`5`), ok(`4294967295`), ok(`-1`), bad(`4294967296`, bothLax), bad(`"abc"`, valLax)},
		[]sample{ok("5"), bad("abc", bothLax)}},
	{"types", "pt", []sample{ok(`"(1,2)"`), bad(`"(1"`, bothLax)}, nil},

	{"required", "v",
		[]sample{ok(`1`), bad(``), bad(`"x"`),
			// NOT NULL is left to PostgreSQL when a value is given (a trigger may fill it).
			bad(`null`, valLax)},
		nil},
	{"defaulted", "v", []sample{ok(``), ok(`5`), bad(`null`, valLax)}, nil},
	{"nn_domain", "v", []sample{ok(`1`), bad(``), bad(`null`, valLax)}, nil},
	{"generated", "id", []sample{ok(``), bad(`5`, bothLax), bad(`null`, bothLax)}, nil},
	{"generated", "bd", []sample{ok(`5`), bad(`null`, valLax)}, nil},
	{"generated", "s", []sample{ok(`5`)}, nil},
	{"generated", "g", []sample{bad(`5`, bothLax)}, nil},
}

// TestDocumentValidatorPostgresAgree checks, for one column of every type family and values on both sides of
// PostgreSQL's verdict, that the published OpenAPI document (3.0 and 3.1, through kin-openapi), the validator
// (body and filter checks) and PostgreSQL itself (the value inserted as pgway's SQL does, or compared in a
// filter, in a rolled-back transaction) agree — or differ only as the case says. Whatever the case says, the
// validator never rejects what PostgreSQL accepts, and the document does so only for non-canonical JSON forms.
func TestDocumentValidatorPostgresAgree(t *testing.T) {
	db := pgtest.NewDatabase(t, typesSQL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cache, err := schemacache.Load(ctx, conn, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	set := validate.Compile(cache)
	docs := map[string]*openapi3.T{}
	for _, v := range []string{"3.0", "3.1"} {
		doc, err := openapi.Build(cache, openapi.Options{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		docs[v] = doc
	}
	covered := map[string]bool{}
	for _, tc := range typeCases {
		covered[tc.table+"."+tc.column] = true
		rel, found := cache.Relation("api", tc.table)
		if !found {
			t.Fatalf("no relation api.%s", tc.table)
		}
		var col *schemacache.Column
		for _, c := range rel.Columns {
			if c.Name == tc.column {
				col = c
			}
		}
		if col == nil {
			t.Fatalf("no column api.%s.%s", tc.table, tc.column)
		}
		checker := set.Relation("api", tc.table)
		for _, s := range tc.body {
			body := "{}"
			if s.v != "" {
				body = `{"` + tc.column + `": ` + s.v + `}`
			}
			pgErr := pgInsert(ctx, conn, tc.table, col, s.v != "", body)
			val := validateBody(checker, body)
			got := map[string]error{"PostgreSQL": pgErr, "validator": val}
			for v, doc := range docs {
				got["document "+v] = documentVerdict(doc, tc.table+"_insert", body, v == "3.1")
			}
			wantDoc, wantVal := s.want()
			check(t, tc.table+" body "+body, s, got, map[string]bool{"PostgreSQL": s.ok, "validator": wantVal,
				"document 3.0": wantDoc, "document 3.1": wantDoc})
		}
		for _, s := range tc.filter {
			pgErr := pgFilter(ctx, conn, tc.table, col, s.v)
			val := validateFilter(checker, tc.table, tc.column, s.v)
			_, wantVal := s.want()
			if s.out == docStrict || s.out == valLax {
				t.Errorf("%s filter %s=eq.%s: a filter is not checked by the document; use bothLax or exact", tc.table, tc.column, s.v)
			}
			check(t, tc.table+" filter "+tc.column+"=eq."+s.v, s, map[string]error{"PostgreSQL": pgErr, "validator": val},
				map[string]bool{"PostgreSQL": s.ok, "validator": wantVal})
		}
	}
	// Every column of the fixture has a case.
	for q, rel := range cache.Relations {
		for _, c := range rel.Columns {
			if !covered[q.Name+"."+c.Name] {
				t.Errorf("column api.%s.%s (%s) has no case", q.Name, c.Name, c.Type)
			}
		}
	}
}

// check compares the verdicts got (nil: accepted) with want, and asserts the rule that holds whatever a case
// says: the validator never rejects a value PostgreSQL accepts, and the document only for a docStrict case.
func check(t *testing.T, what string, s sample, got map[string]error, want map[string]bool) {
	t.Helper()
	pgOK := got["PostgreSQL"] == nil
	for _, who := range []string{"PostgreSQL", "validator", "document 3.0", "document 3.1"} {
		err, present := got[who]
		if !present {
			continue
		}
		if accepted := err == nil; accepted != want[who] {
			t.Errorf("%s: %s %s, want %s (PostgreSQL: %s)", what, who, verdict(err), verdict(boolErr(want[who])), verdict(got["PostgreSQL"]))
		}
		if pgOK && err != nil && (who == "validator" || s.out != docStrict) {
			t.Errorf("%s: false rejection: PostgreSQL accepts it, the %s %s", what, who, verdict(err))
		}
	}
}

func boolErr(ok bool) error {
	if ok {
		return nil
	}
	return errors.New("")
}

func verdict(err error) string {
	if err == nil {
		return "accepts"
	}
	if err.Error() == "" {
		return "rejects"
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return "rejects (" + msg + ")"
}

// pgInsert inserts body as pgway does: its fields read by json_to_record with the column's type (or through
// the domain representation's json cast), in a transaction that is rolled back.
func pgInsert(ctx context.Context, conn *pgx.Conn, table string, col *schemacache.Column, present bool, body string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rel := "api." + pgx.Identifier{table}.Sanitize()
	name := pgx.Identifier{col.Name}.Sanitize()
	sql := "INSERT INTO " + rel + " DEFAULT VALUES"
	if present {
		read, typ := "b."+name, col.Type
		if col.Rep.FromJSON != "" {
			read, typ = col.Rep.FromJSON+"(b."+name+")", "json"
		}
		sql = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM json_to_record($1::json) AS b(%s %s)", rel, name, read, name, typ)
		_, err = tx.Exec(ctx, sql, body)
		return err
	}
	_, err = tx.Exec(ctx, sql)
	return err
}

// pgFilter compares the column with the filter value as pgway's eq filter does: the value is a parameter of
// unknown type that PostgreSQL reads with the column type's input function (or the domain representation's
// text cast).
func pgFilter(ctx context.Context, conn *pgx.Conn, table string, col *schemacache.Column, v string) error {
	param := "$1"
	if col.Rep.FromText != "" {
		param = col.Rep.FromText + "($1::text)"
	}
	sql := "SELECT 1 FROM api." + pgx.Identifier{table}.Sanitize() + " WHERE " + pgx.Identifier{col.Name}.Sanitize() + " = " + param
	_, err := conn.PgConn().ExecParams(ctx, sql, [][]byte{[]byte(v)}, []uint32{0}, nil, nil).Close()
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %s", pe.Code, pe.Message)
	}
	return err
}

// validateBody runs the validator's insert checks as the server does for a plain JSON insert.
func validateBody(rel *validate.Relation, body string) error {
	var p validate.Problems
	rel.Body([]byte(body), &p)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &obj); err != nil {
		return err
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	rel.Required(keys, &p)
	return p.Err()
}

// validateFilter parses GET /table?column=eq.v and runs the validator's filter checks.
func validateFilter(rel *validate.Relation, table, column, v string) error {
	req, err := request.Parse(request.Input{Method: "GET", Path: "/" + table, Query: column + "=eq." + url.QueryEscape(v)})
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	var p validate.Problems
	rel.Query(req, &p)
	return p.Err()
}

// documentVerdict validates body against the component schema key of doc with kin-openapi, formats asserted
// (as a strict client would), as JSON Schema 2020-12 for a 3.1 document.
func documentVerdict(doc *openapi3.T, key, body string, v31 bool) error {
	ref := doc.Components.Schemas[key]
	if ref == nil {
		return fmt.Errorf("no component schema %s", key)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	opts := []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation(), openapi3.VisitAsRequest()}
	if v31 {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return ref.Value.VisitJSON(v, opts...)
}
