package incident

import (
	"os"
	"slices"
	"strings"
)

// Every change in this package's tests checks that the JSON handed to the
// store (Effects.Encoded) is the incident's own: a change that moved the
// incident after its last event panics there. Benchmarks (-test.bench)
// run without the check, which would add an encoding to every change.
func init() {
	verifyEncoded = !slices.ContainsFunc(os.Args, func(arg string) bool { return strings.HasPrefix(arg, "-test.bench") })
}
