// Package tuist is an inert stand-in for github.com/vito/tuist, whose pinned
// version the Go module proxy reachable here refuses (HTTP 403). Dagger uses it
// only for its interactive terminal UI, which runs when stdout is a TTY; the
// kit drives the CLI without one, so the plain frontend prints progress. Every
// type here has the shape dagger's code uses and draws nothing.
package tuist

import (
	"context"
	"io"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
)

// Context carries layout constraints and collects a component's lines.
type Context struct {
	context.Context
	Width  int
	Height int
	screen int
	lines  *[]string
}

// ScreenHeight is the terminal's height in rows.
func (ctx Context) ScreenHeight() int { return ctx.screen }

// Line appends one rendered line.
func (ctx Context) Line(line string) { ctx.Lines(line) }

// Lines appends rendered lines.
func (ctx Context) Lines(lines ...string) {
	if ctx.lines != nil {
		*ctx.lines = append(*ctx.lines, lines...)
	}
}

// Resize returns a copy of ctx with other dimensions.
func (ctx Context) Resize(width, height int) Context {
	ctx.Width, ctx.Height = width, height
	return ctx
}

// SetFocus is a no-op: nothing is interactive without a terminal.
func (ctx Context) SetFocus(Component) {}

// Compo is embedded by every component.
type Compo struct{}

// Update marks the component dirty; there is no render loop to notify.
func (c *Compo) Update() {}

// RenderChildInline renders child and joins its lines.
func (c *Compo) RenderChildInline(ctx Context, child Component) string {
	var lines []string
	ctx.lines = &lines
	child.Render(ctx)
	out := ""
	for _, l := range lines {
		out += l
	}
	return out
}

// RenderResult is a child's rendered output.
type RenderResult struct{ Lines []string }

// RenderChild renders child into ctx.
func (c *Compo) RenderChild(ctx Context, child Component) { child.Render(ctx) }

// RenderChildResult renders child and returns its lines.
func (c *Compo) RenderChildResult(ctx Context, child Component) RenderResult {
	var lines []string
	ctx.lines = &lines
	child.Render(ctx)
	return RenderResult{Lines: lines}
}

// Component renders itself into a Context.
type Component interface {
	Render(ctx Context)
}

// Interactive components take key presses.
type Interactive interface{ Component }

// Focusable components track focus.
type Focusable interface {
	Component
	SetFocused(ctx Context, focused bool)
}

// Mounter components are told when they are mounted.
type Mounter interface {
	Component
	OnMount(ctx Context)
}

// Dismounter components are told when they are removed.
type Dismounter interface{ Component }

// MouseEnabled components take mouse events.
type MouseEnabled interface {
	Component
	HandleMouse(ctx Context, ev MouseEvent) bool
}

// Hoverable components track hover state.
type Hoverable interface {
	Component
	SetHovered(ctx Context, hovered bool)
}

// MouseEvent is a mouse event at a row and column of a component.
type MouseEvent struct {
	uv.MouseEvent
	Row, Col int
}

// Container holds child components in order.
type Container struct {
	Compo
	Children []Component
}

// AddChild appends a child.
func (c *Container) AddChild(child Component) { c.Children = append(c.Children, child) }

// Render renders every child in order.
func (c *Container) Render(ctx Context) {
	for _, child := range c.Children {
		child.Render(ctx)
	}
}

// Terminal is the output device of a TUI.
type Terminal struct{}

// NewStdTerminal returns the process's terminal.
func NewStdTerminal() *Terminal { return &Terminal{} }

// TUI is the render loop; the stand-in never draws.
type TUI struct {
	Container
	debug io.Writer
}

// New returns a TUI for term.
func New(*Terminal) *TUI { return &TUI{} }

func (t *TUI) Start()                      {}
func (t *TUI) Stop()                       {}
func (t *TUI) RemoveChild(Component)       {}
func (t *TUI) SetFocus(Component)          {}
func (t *TUI) SetShowHardwareCursor(bool)  {}
func (t *TUI) RequestRender(bool)          {}
func (t *TUI) SetDebugWriter(w io.Writer)  { t.debug = w }
func (t *TUI) Dispatch(fn func())          { fn() }

// RenderLines renders every child to lines.
func (t *TUI) RenderLines() []string {
	var lines []string
	t.Container.Render(Context{Context: context.Background(), lines: &lines})
	return lines
}

// Exec runs fn with the process's standard streams.
func (t *TUI) Exec(fn func(in io.Reader, out io.Writer, errOut io.Writer) error) error {
	return fn(stdin, stdout, stderr)
}

// ShowOverlay returns a handle; overlays are never drawn.
func (t *TUI) ShowOverlay(Component, *OverlayOptions) *OverlayHandle { return &OverlayHandle{} }

// SizeAbs is an absolute size in cells.
type SizeAbs int

// Anchor says where an overlay sits.
type Anchor int

// AnchorTopRight puts an overlay in the top right corner.
const AnchorTopRight Anchor = 1

// OverlayMargin is the gap around an overlay.
type OverlayMargin struct{ Top, Right, Bottom, Left int }

// OverlayOptions position an overlay.
type OverlayOptions struct {
	Width  SizeAbs
	Anchor Anchor
	Margin OverlayMargin
}

// OverlayHandle removes an overlay.
type OverlayHandle struct{}

// Remove hides the overlay.
func (*OverlayHandle) Remove() {}

// Spinner is an activity indicator.
type Spinner struct {
	Compo
	Epoch time.Time
}

// NewSpinner returns a spinner.
func NewSpinner() *Spinner { return &Spinner{} }

// Render draws one static frame.
func (s *Spinner) Render(ctx Context) { ctx.Line("*") }

// TextInput is a one-line editor.
type TextInput struct {
	Compo
	Prompt         string
	OnSubmit       func(ctx Context, value string) bool
	KeyInterceptor func(ctx Context, ev uv.KeyPressEvent) bool
	value          []rune
}

// NewTextInput returns an editor holding value.
func NewTextInput(value string) *TextInput { return &TextInput{value: []rune(value)} }

func (t *TextInput) Value() string       { return string(t.value) }
func (t *TextInput) SetValue(v string)   { t.value = []rune(v) }
func (t *TextInput) InsertRune(r rune)   { t.value = append(t.value, r) }
func (t *TextInput) Render(ctx Context)  { ctx.Line(t.Prompt + string(t.value)) }

// Completion is one completion candidate.
type Completion struct {
	Label         string
	Detail        string
	Documentation string
}

// CompletionResult is what a completer offers at a cursor position.
type CompletionResult struct {
	Items       []Completion
	ReplaceFrom int
}

// CompletionMenu offers completions for a TextInput.
type CompletionMenu struct {
	Compo
	complete func(string, int) CompletionResult
}

// NewCompletionMenu returns a menu for input.
func NewCompletionMenu(_ *TextInput, complete func(input string, cursorPos int) CompletionResult) *CompletionMenu {
	return &CompletionMenu{complete: complete}
}

// HandleKeyPress never consumes a key.
func (m *CompletionMenu) HandleKeyPress(Context, uv.KeyPressEvent) bool { return false }

// Render draws nothing.
func (m *CompletionMenu) Render(Context) {}
