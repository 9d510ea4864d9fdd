//go:build unix

package threat

import (
	"syscall"
	"time"
)

// cpuTime is the CPU this process has used, user and system: on a machine
// shared with other work it varies far less than the time on the wall.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
