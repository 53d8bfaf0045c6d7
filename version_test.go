package main

import (
	"bytes"
	"io"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	stamped := func(version string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/qovery-slack-bot/qovery-slack-bot", Version: version}, Settings: settings}
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "bdcad67e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build information", nil, false, "(devel) " + runtime.Version()},
		{"release", stamped("v1.2.0"), true, "v1.2.0 go1.26.8"},
		{"pseudo-version names its revision", stamped("v0.0.0-20261127042800-bdcad67e0f1a+dirty", rev), true, "v0.0.0-20261127042800-bdcad67e0f1a+dirty go1.26.8"},
		{"devel without VCS stamp (-buildvcs=false)", stamped("(devel)"), true, "(devel) go1.26.8"},
		{"devel with a revision", stamped("(devel)", rev, debug.BuildSetting{Key: "vcs.modified", Value: "false"}), true, "(devel) bdcad67e0f1a go1.26.8"},
		{"devel with local changes", stamped("", rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), true, "(devel) bdcad67e0f1a+dirty go1.26.8"},
	} {
		if got := versionOf(tc.bi, tc.ok); got != tc.want {
			t.Errorf("%s: versionOf = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version"}, env(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := "qovery-slack-bot " + version() + "\n"; out.String() != want {
		t.Errorf("version printed %q; want %q", out.String(), want)
	}
}
