package ipc

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The engine reads and writes its sockets with non-blocking system calls
// made as raw calls: the runtime is not told of them. A call the runtime is
// told of costs bookkeeping on the way in and out, and one that lasts
// over 20 µs (a 64 KiB write does) makes the runtime's monitor hand the
// processor to another thread; on a busy stream that was most of the cost
// of a write. These calls never block, since the fds are non-blocking, and
// what one copies is bounded by the socket's buffer, so keeping the
// processor through them holds up nothing for long. A call cut short by a
// signal (EINTR) is made again here, so that no caller sees it.

// maxIovecs is the most buffers one writev takes (IOV_MAX).
const maxIovecs = 1024

// readNow reads into p once, without waiting.
func readNow(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return rawCall(unix.SYS_READ, fd, unsafe.Pointer(&p[0]), len(p))
}

// writevNow writes bufs, less the first skip bytes of bufs[0], once,
// without waiting, and returns how many bytes it wrote.
func writevNow(fd int, bufs [][]byte, skip int) (int, error) {
	var small [16]unix.Iovec
	iov, _ := iovecs(small[:0], bufs, skip)
	if len(iov) == 0 {
		return 0, nil
	}
	return rawCall(unix.SYS_WRITEV, fd, unsafe.Pointer(&iov[0]), len(iov))
}

// epollNow collects the events of an epoll instance that are ready now,
// without waiting (epoll_pwait with a timeout of 0).
func epollNow(epfd int, evs []unix.EpollEvent) (int, error) {
	return rawCall(unix.SYS_EPOLL_PWAIT, epfd, unsafe.Pointer(&evs[0]), len(evs))
}

// rawCall makes the system call trap(fd, p, n, 0, 0, 0), which returns a
// count, again while a signal cuts it short.
func rawCall(trap uintptr, fd int, p unsafe.Pointer, n int) (int, error) {
	for {
		r, _, e := unix.RawSyscall6(trap, uintptr(fd), uintptr(p), uintptr(n), 0, 0, 0)
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// iovecs appends to iov the bytes of bufs, less the first skip bytes of
// bufs[0], in at most maxIovecs vectors, and returns it and their size.
func iovecs(iov []unix.Iovec, bufs [][]byte, skip int) ([]unix.Iovec, int) {
	size := 0
	for _, b := range bufs {
		b, skip = b[skip:], 0
		if len(b) == 0 {
			continue
		}
		if len(iov) == maxIovecs {
			break
		}
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
		size += len(b)
	}
	return iov, size
}
