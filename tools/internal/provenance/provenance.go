// Package provenance names the build of Forge that produced a file. Version
// and Commit are set at link time by the Makefile (-ldflags -X), so every
// record can say which code measured it.
package provenance

// Version is Forge's release version.
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from ("unknown" for go run).
var Commit = "unknown"
