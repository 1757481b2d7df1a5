package importer

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// source is the file being imported.
type source struct {
	name string
	f    *os.File // nil for standard input read once
	r    io.Reader
	size int64 // 0 when unknown
}

// openSource opens the input and returns what closes it. Standard input is
// copied to a temporary file when it must be read twice.
func openSource(o Options) (*source, func(), error) {
	if o.File != "-" {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, nil, err
		}
		return fileSource(o.File, f), func() { f.Close() }, nil
	}
	if f, ok := o.Stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			// Redirected from a file: it can be re-read as it is.
			return fileSource("standard input", f), func() {}, nil
		}
	}
	if o.SkipInvalid || o.DryRun {
		return &source{name: "standard input", r: o.Stdin}, func() {}, nil
	}
	tmp, err := os.CreateTemp("", "pulseboard-import-*.csv")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, o.Stdin); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("copy standard input to %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, err
	}
	return fileSource("standard input", tmp), cleanup, nil
}

func fileSource(name string, f *os.File) *source {
	in := &source{name: name, f: f, r: f}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		in.size = fi.Size()
	}
	return in
}

// rewind makes the next pass read from the start.
func (in *source) rewind() error {
	if in.f == nil {
		return errors.New("standard input cannot be read twice")
	}
	_, err := in.f.Seek(0, io.SeekStart)
	return err
}
