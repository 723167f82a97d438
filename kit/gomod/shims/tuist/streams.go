package tuist

import "os"

var (
	stdin  = os.Stdin
	stdout = os.Stdout
	stderr = os.Stderr
)
