package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteReport: the scenario run, -large and -bigschema each replace only their own part of the report file.
func TestWriteReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	o := options{out: path}
	step := func(report string, heading string, want string) {
		t.Helper()
		if err := writeReport(o, "", report, heading); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if string(b) != want {
			t.Fatalf("after writing %q:\n%s\nwant\n%s", report, b, want)
		}
	}
	const h = "# pgway load benchmark\n\n"
	step(largeHeading+"\n\nL1\n", largeHeading, h+largeHeading+"\n\nL1\n")
	step(h+"S1\n", "", h+"S1\n\n"+largeHeading+"\n\nL1\n")
	step(h+"S2\n", "", h+"S2\n\n"+largeHeading+"\n\nL1\n")
	step(largeHeading+"\n\nL2\n", largeHeading, h+"S2\n\n"+largeHeading+"\n\nL2\n")
	step(bigHeading+"\n\nB1\n", bigHeading, h+"S2\n\n"+largeHeading+"\n\nL2\n\n"+bigHeading+"\n\nB1\n")
	step(largeHeading+"\n\nL3\n", largeHeading, h+"S2\n\n"+largeHeading+"\n\nL3\n\n"+bigHeading+"\n\nB1\n")
	step(h+"S3\n", "", h+"S3\n\n"+largeHeading+"\n\nL3\n\n"+bigHeading+"\n\nB1\n")
	step(bigHeading+"\n\nB2\n", bigHeading, h+"S3\n\n"+largeHeading+"\n\nL3\n\n"+bigHeading+"\n\nB2\n")
}

// TestPgBouncerSection: -pgbouncer replaces only its section, and the scenario run and -large keep it.
func TestPgBouncerSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	o := options{out: path}
	check := func(want string) {
		t.Helper()
		b, _ := os.ReadFile(path)
		if string(b) != want {
			t.Fatalf("got\n%s\nwant\n%s", b, want)
		}
	}
	const title = "# pgway load benchmark\n\n"
	if err := writeSection(o, "", pgbouncerHeading, pgbouncerHeading+"\n\nB1\n"); err != nil {
		t.Fatal(err)
	}
	check(title + pgbouncerHeading + "\n\nB1\n")
	if err := writeReport(o, "", title+"S1\n", ""); err != nil {
		t.Fatal(err)
	}
	check(title + "S1\n\n" + pgbouncerHeading + "\n\nB1\n")
	if err := writeReport(o, "", largeHeading+"\n\nL1\n", largeHeading); err != nil {
		t.Fatal(err)
	}
	check(title + "S1\n\n" + largeHeading + "\n\nL1\n\n" + pgbouncerHeading + "\n\nB1\n")
	if err := writeSection(o, "", pgbouncerHeading, pgbouncerHeading+"\n\nB2\n"); err != nil {
		t.Fatal(err)
	}
	check(title + "S1\n\n" + largeHeading + "\n\nL1\n\n" + pgbouncerHeading + "\n\nB2\n")
	if err := writeReport(o, "", title+"S2\n", ""); err != nil {
		t.Fatal(err)
	}
	check(title + "S2\n\n" + largeHeading + "\n\nL1\n\n" + pgbouncerHeading + "\n\nB2\n")
	if err := writeReport(o, "", largeHeading+"\n\nL2\n", largeHeading); err != nil {
		t.Fatal(err)
	}
	check(title + "S2\n\n" + largeHeading + "\n\nL2\n\n" + pgbouncerHeading + "\n\nB2\n")
}
