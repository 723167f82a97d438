// Package teav1 is an inert stand-in for github.com/vito/tuist/teav1 (refused
// by the Go module proxy reachable here); it hosts bubbletea v1 models inside
// the interactive TUI, which the kit never starts.
package teav1

import "github.com/vito/tuist"

// Wrap hosts a bubbletea model as a component.
type Wrap struct {
	tuist.Compo
	model  any
	onQuit func()
}

// New wraps model.
func New(model any) *Wrap { return &Wrap{model: model} }

// OnQuit registers fn to run when the model quits.
func (w *Wrap) OnQuit(fn func()) { w.onQuit = fn }

// Render draws nothing.
func (w *Wrap) Render(tuist.Context) {}
