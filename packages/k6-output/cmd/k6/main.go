// Command k6 is Stampede's k6: k6's own command line with the Stampede output extension
// compiled in (what `xk6 build --with <this module>` generates, kept in the repository so the
// build needs nothing but Go and its module proxy).
package main

import (
	k6cmd "go.k6.io/k6/v2/cmd"

	_ "stampede.local/k6-output"
)

func main() {
	k6cmd.Execute()
}
