package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// pprofRE finds, in a server's log, the address its Go profiles are
// served on (examples/server's SETY_PPROF_ADDR, here 127.0.0.1:0).
var pprofRE = regexp.MustCompile(`msg="serving pprof profiles" addr=(127\.0\.0\.1:\d+)`)

// pprofAddr is the address s serves its profiles on, or "" when it
// serves none.
func (s *server) pprofAddr() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return ""
	}
	// A restarted server's output follows the last: its newest address
	// is the last one logged.
	all := pprofRE.FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return ""
	}
	return string(all[len(all)-1][1])
}

// profileServers takes a CPU profile of d from each of the instances
// names, into dir as r<round>-c<clients>-<config>-<instance>.pprof, and
// returns a function that waits until every profile is written.
func (b *bench) profileServers(ctx context.Context, round, clients int, cfg string, names []string, d time.Duration) func() {
	var wg sync.WaitGroup
	for _, name := range names {
		s := b.pg[name]
		if s == nil {
			continue
		}
		addr := s.pprofAddr()
		if addr == "" {
			fmt.Fprintf(b.w, "           %s serves no profiles\n", name)
			continue
		}
		path := filepath.Join(b.o.profile, fmt.Sprintf("r%d-c%d-%s-%s.pprof", round, clients, cfg, name))
		wg.Go(func() {
			if err := fetchProfile(ctx, addr, d, path); err != nil {
				fmt.Fprintf(b.w, "           profile of %s: %v\n", name, err)
			}
		})
	}
	return wg.Wait
}

// fetchProfile writes to path the CPU profile of d that addr serves.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
