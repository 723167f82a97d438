// Package dangv2 replaces dagger's Dang v2 module SDK in the kit's patched copy of dagger:
// its interpreter, github.com/vito/dang/v2, is refused by the Go module proxy reachable
// here (HTTP 403). Modules written in Dang v2 get this error; every other SDK and the
// Dang v1 SDK are untouched. The shipyard pipeline uses the Python SDK.
package dangv2

import (
	"context"
	"errors"

	"github.com/dagger/dagger/core"
	"github.com/dagger/dagger/dagql"
)

var errUnavailable = errors.New(
	"the Dang v2 module SDK is not in this engine: the offline kit builds it without " +
		"github.com/vito/dang/v2, which the module proxy does not serve; use another SDK")

// Impl answers every Dang v2 request with errUnavailable.
type Impl struct{}

func (Impl) ModuleTypes(
	context.Context,
	*core.SchemaBuilder,
	dagql.ObjectResult[*core.ModuleSource],
	dagql.ObjectResult[*core.Module],
) (inst dagql.ObjectResult[*core.Module], err error) {
	return inst, errUnavailable
}

func (Impl) Runtime(
	context.Context,
	*core.SchemaBuilder,
	dagql.ObjectResult[*core.ModuleSource],
) (core.ModuleRuntime, error) {
	return nil, errUnavailable
}
