package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// serverPkg is built from the module, so the soak runs from anywhere inside it.
const serverPkg = "github.com/sety-io/sety/examples/server"

// server is an example server the soak built and started.
type server struct {
	dir     string // temp dir: binary, database, log
	bin     string // the server binary, for its admin commands
	env     []string
	logPath string
	url     string
	liveKey string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startServer builds the example server and starts it on loopback over a
// SQLite file in a temp dir, with the demo pool, private webhooks allowed
// and fixed keys, and rate limits off unless rateLimits. The environment
// passes through, then env (KEY=VALUE) on top. liveKey, when empty, is
// random.
// bin, when not empty, is a server binary to run instead of a build.
func startServer(ctx context.Context, bin, liveKey string, env []string, rateLimits bool, progress io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "sety-soak-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, logPath: filepath.Join(dir, "server.log"), liveKey: liveKey, exited: make(chan struct{})}
	if s.liveKey == "" {
		s.liveKey = "sety_live_" + randomHex(16)
	}
	if bin == "" {
		bin = filepath.Join(dir, "sety-server")
		fmt.Fprintf(progress, "building %s\n", serverPkg)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, serverPkg)
		build.Stdout, build.Stderr = progress, progress
		if err := build.Run(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("build %s: %w", serverPkg, err)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.bin = bin
	logf, err := os.Create(s.logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()

	s.cmd = exec.Command(bin)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.Env = append([]string{
		"SETY_DB=" + filepath.Join(dir, "sety.db"),
		"SETY_RATE_LIMITS=" + fmt.Sprint(rateLimits),
		"SETY_DEMO=1",
		"SETY_ALLOW_PRIVATE_WEBHOOKS=1",
		"SETY_LOG_FORMAT=json",
	}, os.Environ()...)
	s.cmd.Env = append(s.cmd.Env,
		"SETY_ADDR=127.0.0.1:0",
		"SETY_BOOTSTRAP_LIVE_KEY="+s.liveKey,
		"SETY_BOOTSTRAP_TEST_KEY=sety_test_"+randomHex(16),
	)
	s.cmd.Env = append(s.cmd.Env, env...) // last wins
	s.env = s.cmd.Env
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()

	addr, err := s.waitAddr(ctx, 2*time.Minute)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n--- server output (%s) ---\n%s", err, s.logPath, s.tail(60))
	}
	s.url = "http://" + addr
	return s, nil
}

// addrRE finds the API's address in the server's log line "serving Sety
// API" (JSON or text), not the address of another listener such as
// -pprof-addr's, which is logged first.
var addrRE = regexp.MustCompile(`"msg":"serving Sety API","addr":"(127\.0\.0\.1:\d+)"|msg="serving Sety API" addr=(127\.0\.0\.1:\d+)`)

// waitAddr waits for the server to log the address it serves on.
func (s *server) waitAddr(ctx context.Context, limit time.Duration) (string, error) {
	deadline := time.After(limit)
	for {
		if b, err := os.ReadFile(s.logPath); err == nil {
			if m := addrRE.FindSubmatch(b); m != nil {
				return string(m[1]) + string(m[2]), nil
			}
		}
		select {
		case <-s.exited:
			return "", fmt.Errorf("the server exited before serving: %v", s.waitErr)
		case <-deadline:
			return "", fmt.Errorf("the server did not start serving within %s", limit)
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits up to 15 s, then kills.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// remove deletes the temp dir (binary, database, log).
func (s *server) remove() { os.RemoveAll(s.dir) }

// tail is the last n lines of the server's output.
func (s *server) tail(n int) string {
	b, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logSummary counts the server's log lines by level and its ERROR and WARN
// lines by message: what went wrong under load, in a few lines.
type logSummary struct {
	Levels   map[string]int `json:"levels"`
	Problems []logProblem   `json:"problems,omitempty"`
}

type logProblem struct {
	Level   string `json:"level"`
	Message string `json:"msg"`
	Count   int    `json:"count"`
	Example string `json:"example"`
}

func summarizeLog(path string) (logSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return logSummary{}, err
	}
	defer f.Close()
	sum := logSummary{Levels: map[string]int{}}
	byMsg := map[string]*logProblem{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Error string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Level == "" {
			sum.Levels["other"]++ // the printed keys, or a non-JSON line
			continue
		}
		sum.Levels[rec.Level]++
		if rec.Level != "ERROR" && rec.Level != "WARN" {
			continue
		}
		key := rec.Level + " " + rec.Msg + ": " + genericError(rec.Error)
		p := byMsg[key]
		if p == nil {
			p = &logProblem{Level: rec.Level, Message: rec.Msg, Example: truncate(sc.Bytes(), 400)}
			byMsg[key] = p
		}
		p.Count++
	}
	for _, p := range byMsg {
		sum.Problems = append(sum.Problems, *p)
	}
	sort.Slice(sum.Problems, func(i, j int) bool { return sum.Problems[i].Count > sum.Problems[j].Count })
	return sum, sc.Err()
}

var idRE = regexp.MustCompile(`\b[a-z]{2,4}_[a-z0-9]{16}\b|\d+`)

// genericError replaces ids and numbers so that one kind of error is one line.
func genericError(s string) string { return idRE.ReplaceAllString(s, "#") }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// procStats reads a process's resident memory and CPU time from /proc.
type procStats struct{ pid int }

// rss is VmRSS in bytes.
func (p procStats) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(b))
}

func parseVmRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if rest, found := strings.CutPrefix(line, "VmRSS:"); found {
			var kb int64
			if _, err := fmt.Sscan(rest, &kb); err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS")
}

// userHZ is the unit of /proc/<pid>/stat times: USER_HZ, 100 on every
// mainstream Linux architecture (the standard library cannot ask sysconf).
const userHZ = 100

// cpu is the user plus system CPU time the process has used.
func (p procStats) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of /proc/<pid>/stat.
// The command name (field 2) may hold spaces, so fields count from its ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	var utime, stime int64
	if _, err := fmt.Sscan(f[11], &utime); err != nil {
		return 0, err
	}
	if _, err := fmt.Sscan(f[12], &stime); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}
