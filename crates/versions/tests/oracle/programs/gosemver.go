// The Go module version oracle: golang.org/x/mod/semver. "P\tv" answers ok/err (IsValid),
// "C\ta\tb" answers semver.Compare(a, b) (or err when either is invalid).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		parts := strings.Split(in.Text(), "\t")
		switch {
		case parts[0] == "P" && semver.IsValid(parts[1]):
			fmt.Fprintln(out, "ok")
		case parts[0] == "C" && semver.IsValid(parts[1]) && semver.IsValid(parts[2]):
			fmt.Fprintln(out, semver.Compare(parts[1], parts[2]))
		default:
			fmt.Fprintln(out, "err")
		}
		out.Flush()
	}
}
