// Command ossemu runs the local OSS + STS emulator.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "ossemu: not yet wired")
	os.Exit(2)
}
