package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one example server process.
type server struct {
	name string
	cmd  *exec.Cmd
	url  string // http://127.0.0.1:port
	log  string // its output, a file
	done chan struct{}
}

// servingRE finds the address a server serves on in a line of its
// output: the example server's log line, or bench/baseline's
// "... listening on ADDR" (bare- instances).
var servingRE = regexp.MustCompile(`(?:msg="serving Sety API" addr=|listening on )(127\.0\.0\.1:\d+)`)

// startServer runs bin with args and env on a free loopback port, its
// output (stdout and stderr) in dir/name.log, and returns once it says it
// serves.
func startServer(ctx context.Context, bin, dir, name string, env, args []string) (*server, error) {
	s := &server{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) // a restart's output follows the last
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Env = append(append(os.Environ(), "SETY_ADDR=127.0.0.1:0", "SETY_LOG_FORMAT=text"), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		out.Close()
		return nil, err
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		out.Close()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	addr := make(chan string, 1)
	logged := &lockedWriter{w: out} // the lines of both pipes, whole
	var copying sync.WaitGroup
	for _, pipe := range []io.Reader{stderr, stdout} {
		copying.Go(func() {
			sc := bufio.NewScanner(pipe)
			for sc.Scan() {
				line := sc.Text()
				fmt.Fprintln(logged, line)
				if m := servingRE.FindStringSubmatch(line); m != nil {
					select {
					case addr <- m[1]:
					default:
					}
				}
			}
			_, _ = io.Copy(logged, pipe) // past a line too long to scan
		})
	}
	go func() { copying.Wait(); out.Close() }()
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	select {
	case a := <-addr:
		s.url = "http://" + a
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before serving; see %s", name, s.log)
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("%s did not serve within 2 minutes; see %s", name, s.log)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// lockedWriter serializes its writes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// stop shuts the server down gracefully (SIGTERM), killing it after 30 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

var msgRE = regexp.MustCompile(`level=(ERROR|WARN) msg=("(?:[^"\\]|\\.)*"|\S+)`)

// errorLines counts the ERROR and WARN lines of the server's log, and
// each message among them.
func (s *server) errorLines() (errs, warns int, messages map[string]int) {
	b, _ := os.ReadFile(s.log)
	messages = map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		m := msgRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[1] == "ERROR" {
			errs++
		} else {
			warns++
		}
		messages[m[1]+" "+m[2]]++
	}
	return errs, warns, messages
}

// cpuTicks is the user and system CPU time of the processes pids, and of
// their children that ended (and were waited for), in clock ticks.
func cpuTicks(pids ...int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command may hold spaces and parentheses: fields start after the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(f[i], 10, 64)
			total += n
		}
	}
	return total
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// clockTicks is the kernel's clock ticks per second (USER_HZ): 100 on
// Linux wherever Go runs.
const clockTicks = 100

// cpuMeter measures the CPU of a set of processes over an interval, in %
// of one core.
type cpuMeter struct {
	pids  func() []int
	ticks int64
	at    time.Time
}

func newCPUMeter(pids func() []int) *cpuMeter {
	return &cpuMeter{pids: pids, ticks: cpuTicks(pids()...), at: time.Now()}
}

func (m *cpuMeter) percent() float64 {
	ticks, at := cpuTicks(m.pids()...), time.Now()
	p := 100 * float64(ticks-m.ticks) / clockTicks / at.Sub(m.at).Seconds()
	m.ticks, m.at = ticks, at
	return p
}
