// Package midterm is a line-buffer stand-in for github.com/vito/midterm, whose
// pinned version the Go module proxy reachable here refuses (HTTP 403). Dagger
// only needs it for the interactive TUI and for the ANSI reset sequence; the
// plain (non-TTY) output the kit uses keeps every log line through Content.
package midterm

import (
	"io"
	"strings"
	"sync"
)

// Format is an SGR attribute set; only the reset sequence is ever rendered.
type Format struct{ reset bool }

// Reset is the SGR sequence that clears all attributes.
var Reset = Format{reset: true}

// Render returns the escape sequence for the format.
func (f Format) Render() string {
	if f.reset {
		return "\x1b[0m"
	}
	return ""
}

// Color is an opaque terminal colour; the stand-in renders none.
type Color interface{}

// SearchMatch is one occurrence of a search query.
type SearchMatch struct {
	Row, Col, Len int
}

// Terminal keeps written text as rows of runes, splitting on newlines.
type Terminal struct {
	mu            sync.Mutex
	Content       [][]rune
	AutoResizeX   bool
	Width         int
	SearchMatches []SearchMatch
	current       int
	pendingCR     bool
}

// NewAutoResizingTerminal returns an empty terminal that grows with its input.
func NewAutoResizingTerminal() *Terminal {
	return &Terminal{AutoResizeX: true, current: -1}
}

func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.Content) == 0 {
		t.Content = append(t.Content, nil)
	}
	for _, r := range string(p) {
		last := len(t.Content) - 1
		switch r {
		case '\n':
			t.Content = append(t.Content, nil)
			t.pendingCR = false
		case '\r':
			t.pendingCR = true
		default:
			if t.pendingCR {
				t.Content[last] = t.Content[last][:0]
				t.pendingCR = false
			}
			t.Content[last] = append(t.Content[last], r)
		}
	}
	return len(p), nil
}

// UsedHeight is the number of rows holding text.
func (t *Terminal) UsedHeight() int {
	n := len(t.Content)
	for n > 0 && len(t.Content[n-1]) == 0 {
		n--
	}
	return n
}

// ResizeX records the width; rows are never wrapped.
func (t *Terminal) ResizeX(w int) { t.Width = w }

// RenderLine writes one row without styling.
func (t *Terminal) RenderLine(w io.Writer, row int) error {
	if row < 0 || row >= len(t.Content) {
		return nil
	}
	_, err := io.WriteString(w, string(t.Content[row]))
	return err
}

// RenderLineFgBg writes one row; colours are ignored.
func (t *Terminal) RenderLineFgBg(w io.Writer, row int, _ Color, _ Color) error {
	return t.RenderLine(w, row)
}

// Search records every occurrence of query and returns how many there are.
func (t *Terminal) Search(query string) int {
	t.SearchMatches = nil
	t.current = -1
	if query == "" {
		return 0
	}
	for row, line := range t.Content {
		text := string(line)
		offset := 0
		for {
			i := strings.Index(text[offset:], query)
			if i < 0 {
				break
			}
			t.SearchMatches = append(t.SearchMatches, SearchMatch{Row: row, Col: offset + i, Len: len(query)})
			offset += i + len(query)
		}
	}
	return len(t.SearchMatches)
}

// SearchClear forgets the last search.
func (t *Terminal) SearchClear() {
	t.SearchMatches = nil
	t.current = -1
}

// SearchSetCurrent selects match i and returns its row.
func (t *Terminal) SearchSetCurrent(i int) (int, bool) {
	if i < 0 || i >= len(t.SearchMatches) {
		t.current = -1
		return -1, false
	}
	t.current = i
	return t.SearchMatches[i].Row, true
}

// SearchMatchRows lists the rows holding a match, once each.
func (t *Terminal) SearchMatchRows() []int {
	var rows []int
	for _, m := range t.SearchMatches {
		if len(rows) == 0 || rows[len(rows)-1] != m.Row {
			rows = append(rows, m.Row)
		}
	}
	return rows
}
