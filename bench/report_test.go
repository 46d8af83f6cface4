package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteReport: the scenario run and -large each replace only their own part of the report file.
func TestWriteReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	o := options{out: path}
	step := func(report string, large bool, want string) {
		t.Helper()
		if err := writeReport(o, "", report, large); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if string(b) != want {
			t.Fatalf("after writing %q:\n%s\nwant\n%s", report, b, want)
		}
	}
	step(largeHeading+"\n\nL1\n", true, "# pgway load benchmark\n\n"+largeHeading+"\n\nL1\n")
	step("# pgway load benchmark\n\nS1\n", false, "# pgway load benchmark\n\nS1\n\n"+largeHeading+"\n\nL1\n")
	step("# pgway load benchmark\n\nS2\n", false, "# pgway load benchmark\n\nS2\n\n"+largeHeading+"\n\nL1\n")
	step(largeHeading+"\n\nL2\n", true, "# pgway load benchmark\n\nS2\n\n"+largeHeading+"\n\nL2\n")
}
