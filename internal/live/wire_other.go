//go:build !unix

package live

// writeNow takes nothing here: every write goes through drain, which
// waits, so a slow screen costs a goroutine for writeWait as it would with
// one writer per screen.
func (w *wire) writeNow(p []byte) (int, error) { return 0, nil }

// waitReadable returns at once: the reader parks in the websocket library.
func (w *wire) waitReadable() error { return nil }
