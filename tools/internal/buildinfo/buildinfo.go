// Package buildinfo names the build of Forge that produced a file. Version
// and Commit are set at link time by the Makefile (-ldflags -X), so every
// record can say which code measured it.
package buildinfo

import "strings"

// Version is Forge's release version.
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from ("unknown" for go run).
var Commit = "unknown"

// Short is the commit cut to 12 characters, without "-dirty", for run ids.
func Short() string {
	c := strings.TrimSuffix(Commit, "-dirty")
	if len(c) > 12 {
		c = c[:12]
	}
	return c
}
