// Command testsummary reads `go test -json` on its standard input, prints what `go test` would have
// printed without -json, and ends with one line saying which tests were skipped and why, grouped by
// skip message (each of this repository's skips says how to enable its tests). It exits 1 when a test
// or a build failed, or when no package was tested:
//
//	go test -race -count=1 -json ./... | go run ./internal/testsummary
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	s, err := summarize(in, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, s.line())
	switch {
	case s.failed:
		fmt.Fprintln(out, "FAIL") // go test's own last line when something failed
		return fmt.Errorf("tests failed")
	case s.packages == 0:
		return fmt.Errorf("no package was tested: is the input `go test -json` output?")
	}
	return nil
}
