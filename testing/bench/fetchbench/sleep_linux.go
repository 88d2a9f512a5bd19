// SPDX-License-Identifier: Apache-2.0

package main

import (
	"syscall"
	"time"
)

// sleep sleeps for d with the kernel's precision (tens of microseconds)
// rather than time.Sleep's: the Go runtime waits for its timers in
// epoll_wait, in whole milliseconds, when it has nothing else to do, so a
// time.Sleep of 500µs lasts about 1ms. At 2000 requests per second, that
// would put up to a millisecond of the generator's own lateness into every
// latency measured from the due times. nanosleep blocks this goroutine's
// thread only; the runtime gives its P to another thread meanwhile.
func sleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for ts.Sec > 0 || ts.Nsec > 0 {
		var left syscall.Timespec
		if err := syscall.Nanosleep(&ts, &left); err != syscall.EINTR {
			return
		}
		ts = left
	}
}
