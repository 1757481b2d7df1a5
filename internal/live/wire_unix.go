//go:build unix

package live

import "syscall"

// writeNow writes what the kernel takes without waiting.
func (w *wire) writeNow(p []byte) (int, error) {
	if w.raw == nil {
		return 0, nil // everything goes through drain, which waits
	}
	var n int
	var werr error
	err := w.raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true // the buffer is full: the rest waits in the backlog
			case e != nil:
				werr = e
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// waitReadable parks until the socket has bytes to read, an error or the
// read deadline. It parks a few frames deep, where the websocket library's
// read parks a dozen deep: an idle screen's reader then needs the smallest
// goroutine stack, which the garbage collector shrinks it to.
func (w *wire) waitReadable() error {
	if w.raw == nil {
		return nil
	}
	var b [1]byte
	var werr error
	err := w.raw.Read(func(fd uintptr) bool {
		_, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch e {
		case syscall.EAGAIN, syscall.EINTR:
			return false // wait for the poller, then look again
		case nil:
			return true // bytes, or the peer's end of stream
		default:
			werr = e
			return true
		}
	})
	if err == nil {
		err = werr
	}
	return err
}
