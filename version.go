package main

import (
	"runtime"
	"runtime/debug"
)

// version describes the running binary, from what the Go toolchain recorded in it: the main module's
// version, the VCS revision when the build stamped one, and the Go version, such as
// "v1.2.0 go1.26.8" or "(devel) 1a2b3c4d5e6f+dirty go1.26.8". `qovery-slack-bot version` prints it
// and the start-up log carries it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	return versionOf(bi, ok)
}

// versionOf is version for given build information; ok is false when the binary carries none.
func versionOf(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "(devel) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	var revision string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	// A release or pseudo-version (v0.0.0-20261127042800-bdcad67abcde) already names the revision;
	// "(devel)" does not, so the revision is added when the build recorded it (it does not under
	// -buildvcs=false, or outside a Git checkout).
	if v == "(devel)" && revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		if modified {
			revision += "+dirty"
		}
		v += " " + revision
	}
	return v + " " + goVersion
}
