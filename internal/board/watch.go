package board

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// Load reads and validates a boards file.
func Load(path string, schema store.Schema, rollups []store.Rollup) ([]Board, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read boards file: %w", err)
	}
	boards, err := Parse(data, schema, rollups)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return boards, data, nil
}

// WatchFile polls a boards file and calls apply with the new definitions after
// every change that parses; a change that does not parse is reported and
// the running boards stay. Polling (not inotify) also sees files replaced
// by editors' renames and by Kubernetes ConfigMap symlink swaps.
func WatchFile(ctx context.Context, path string, every time.Duration, schema store.Schema, rollups []store.Rollup, last []byte, apply func([]Board), report func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(path)
		if err != nil {
			report(fmt.Errorf("read boards file: %w", err))
			continue
		}
		if bytes.Equal(data, last) {
			continue
		}
		last = data
		boards, err := Parse(data, schema, rollups)
		if err != nil {
			report(fmt.Errorf("%s: %w (keeping the running boards)", path, err))
			continue
		}
		apply(boards)
	}
}
