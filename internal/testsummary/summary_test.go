package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// testdata/fail.json is `go test -json ./...` over a module with a package that does not build and
// one with a passing, a skipped and a failing test (with a failing subtest).
func TestRunPrintsWhatGoTestPrintsThenTheSkips(t *testing.T) {
	in, err := os.Open("testdata/fail.json")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	err = run(in, &out)
	if err == nil {
		t.Error("run = nil; want an error: tests failed")
	}
	// What `go test ./...` printed for the same module (its build errors on stderr), then the line.
	want := `# example.com/fhts/b [example.com/fhts/b.test]
b/b.go:3:12: undefined: x
FAIL	example.com/fhts/b [build failed]
--- FAIL: TestFail (0.00s)
    --- FAIL: TestFail/sub (0.00s)
        p_test.go:8: boom
FAIL
FAIL	example.com/fhts/p	0.018s
skipped: 1 test: 1 × FOO is not set; set it to run
FAIL
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunPassing(t *testing.T) {
	lines := []string{
		`{"Action":"start","Package":"m/a"}`,
		`{"Action":"run","Package":"m/a","Test":"TestDB"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB","Output":"=== RUN   TestDB\n"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB","Output":"    pgtest.go:27: DB_URL is not set: set it to run the database tests\n"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB","Output":"--- SKIP: TestDB (0.00s)\n"}`,
		`{"Action":"skip","Package":"m/a","Test":"TestDB"}`,
		`{"Action":"run","Package":"m/a","Test":"TestDB2"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB2","Output":"    pgtest.go:27: DB_URL is not set: set it to run the database tests\n"}`,
		`{"Action":"skip","Package":"m/a","Test":"TestDB2"}`,
		`{"Action":"run","Package":"m/a","Test":"TestSpec"}`,
		`{"Action":"output","Package":"m/a","Test":"TestSpec","Output":"    spec_test.go:9: SPEC is not set\n"}`,
		`{"Action":"skip","Package":"m/a","Test":"TestSpec"}`,
		`{"Action":"run","Package":"m/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"m/a","Test":"TestOK","Output":"    a_test.go:3: chatter\n"}`,
		`{"Action":"pass","Package":"m/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"m/a","Output":"PASS\n"}`,
		`{"Action":"output","Package":"m/a","Output":"ok  \tm/a\t0.1s\n"}`,
		`{"Action":"pass","Package":"m/a"}`,
		`{"Action":"output","Package":"m/b","Output":"?   \tm/b\t[no test files]\n"}`,
		`{"Action":"skip","Package":"m/b"}`,
	}
	var out bytes.Buffer
	if err := run(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out); err != nil {
		t.Errorf("run = %v; want nil", err)
	}
	want := "ok  \tm/a\t0.1s\n?   \tm/b\t[no test files]\n" +
		"skipped: 3 tests: 2 × DB_URL is not set: set it to run the database tests; 1 × SPEC is not set\n"
	if got := out.String(); got != want {
		t.Errorf("output = %q; want %q", got, want)
	}
}

func TestRunNothingTested(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader("go: cannot find main module\n"), &out); err == nil {
		t.Error("run with no test events = nil; want an error")
	}
	if got, want := out.String(), "go: cannot find main module\nskipped: none\n"; got != want {
		t.Errorf("output = %q; want %q", got, want)
	}
}
