// Command ossmount mounts an OSS bucket read-only with temporary credentials.
package main

import (
	"fmt"
	"os"
)

// version is set by the Makefile through -ldflags.
var version = "dev"

func main() {
	fmt.Fprintln(os.Stderr, "ossmount", version, ": not yet wired")
	os.Exit(2)
}
