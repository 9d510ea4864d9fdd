package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// summarize prints the medians over rounds of each configuration at each
// number of clients, then the ratios the targets are about: each
// the median of the per-round ratios, whose two figures were measured in
// the same minute of this run.
func (b *bench) summarize() {
	w := b.w
	fmt.Fprintf(w, "\nmedians over %d rounds (all figures from this one run):\n", b.o.rounds)
	configs := append(slices.Clone(b.o.configs), prefixed(benchConfig, pgbenchScripts)...)
	for _, c := range b.o.clients {
		for _, cfg := range configs {
			ms := b.measured(cfg, c)
			if len(ms) == 0 {
				continue
			}
			med := func(f func(measurement) float64) float64 { return median(mapTo(ms, f)) }
			if strings.HasPrefix(cfg, benchConfig) {
				fmt.Fprintf(w, "  %3d clients  %-26s %7.0f tps  latency average %6.2f ms  postgres cpu %4.0f µs/transaction\n", c, cfg, med(rps), med(p50), med(pgPerCreate))
				continue
			}
			note := fmt.Sprintf("  load generator %.0f%%, machine busy %.0f%%", med(func(m measurement) float64 { return m.genCPU }), med(func(m measurement) float64 { return m.machineCPU }))
			if g := med(func(m measurement) float64 { return m.perGroup }); g > 0 {
				note += fmt.Sprintf("  %.1f creates/commit, %.2f ms/commit", g, med(func(m measurement) float64 { return m.commitMs }))
			}
			fmt.Fprintf(w, "  %3d clients  %-8s %7.0f creates/s  p50 %6.2f ms  p99 %6.2f ms  sety cpu %4.0f%% (%4.0f µs/create)  postgres cpu %4.0f%% (%4.0f µs/create)%s\n",
				c, cfg, med(rps), med(p50), med(p99), med(func(m measurement) float64 { return m.setyCPU }), med(setyPerCreate),
				med(func(m measurement) float64 { return m.pgCPU }), med(pgPerCreate), note)
		}
	}
	fmt.Fprintln(w, "\nratios (median of per-round ratios):")
	for _, c := range b.o.clients {
		var parts []string
		add := func(name, num, den string, f func(measurement) float64) {
			if r, ok := b.ratio(num, den, c, f); ok {
				parts = append(parts, fmt.Sprintf("%s %.2fx", name, r))
			}
		}
		add("pg-1/sqlite creates", pg1Config, sqliteConfig, rps)
		add("pg-1/sqlite p99", pg1Config, sqliteConfig, p99)
		add("pg-2/sqlite p99", pg2Config, sqliteConfig, p99)
		add("pg-2/pg-1 creates", pg2Config, pg1Config, rps)
		add("pg-2/pg-1 sety µs/create", pg2Config, pg1Config, setyPerCreate)
		add("pg-2/pg-1 postgres µs/create", pg2Config, pg1Config, pgPerCreate)
		add("pg-1/base-1 creates", pg1Config, baseConfig, rps)
		add("pg-1/base-1 p99", pg1Config, baseConfig, p99)
		add("pg-1/base-1 sety µs/create", pg1Config, baseConfig, setyPerCreate)
		add("pg-1/base-1 postgres µs/create", pg1Config, baseConfig, pgPerCreate)
		add("pg-2/base-2 creates", pg2Config, base2Config, rps)
		add("pg-2/base-2 sety µs/create", pg2Config, base2Config, setyPerCreate)
		add("pg-2/base-2 postgres µs/create", pg2Config, base2Config, pgPerCreate)
		add("base-2/base-1 creates", base2Config, baseConfig, rps)
		add("bare-2/bare-1 creates", bare2Config, bareConfig, rps)
		add("bare-2/bare-1 p99", bare2Config, bareConfig, p99)
		add("bare-2/bare-1 server µs/create", bare2Config, bareConfig, setyPerCreate)
		add("bare-2/bare-1 postgres µs/create", bare2Config, bareConfig, pgPerCreate)
		add("pg-1/bare-1 creates", pg1Config, bareConfig, rps)
		for _, cfg := range b.o.configs {
			// A pool size against the default's: pg-1@N ÷ pg-1, pg-2@N ÷ pg-2.
			if _, ok := poolOf(cfg); ok {
				def, _, _ := strings.Cut(cfg, "@")
				add(cfg+"/"+def+" creates", cfg, def, rps)
				add(cfg+"/"+def+" sety µs/create", cfg, def, setyPerCreate)
				add(cfg+"/"+def+" postgres µs/create", cfg, def, pgPerCreate)
			}
			// One bare instance with N groups in flight against one with
			// one, and two instances against it.
			if n, ok := commitsOf(cfg); ok && strings.HasPrefix(cfg, bareConfig+"@") {
				add(cfg+"/"+bareConfig+" creates", cfg, bareConfig, rps)
				add(cfg+"/"+bareConfig+" postgres µs/create", cfg, bareConfig, pgPerCreate)
				add(bare2Config+"/"+cfg+" creates", bare2Config, cfg, rps)
				add(fmt.Sprintf("%s@%d/%s creates", bare2Config, n, cfg), fmt.Sprintf("%s@%d", bare2Config, n), cfg, rps)
			}
		}
		add("pg-1/pgbench create", pg1Config, benchConfig+"create", rps)
		add("pg-2/pgbench create", pg2Config, benchConfig+"create", rps)
		add("pgbench create/create+lock+count", benchConfig+"create", benchConfig+"create+lock+count", rps)
		fmt.Fprintf(w, "  %3d clients: %s\n", c, strings.Join(parts, ", "))
	}
	// Two instances against one, round by round: how far the median
	// stands from its rounds.
	pairs := [][2]string{{pg2Config, pg1Config}, {base2Config, baseConfig}, {bare2Config, bareConfig}}
	for _, cfg := range b.o.configs {
		if n, ok := commitsOf(cfg); ok && strings.HasPrefix(cfg, bareConfig+"@") {
			pairs = append(pairs, [2]string{bare2Config, cfg}, [2]string{fmt.Sprintf("%s@%d", bare2Config, n), cfg})
		}
	}
	header := false
	for _, c := range b.o.clients {
		for _, p := range pairs {
			if rs := b.roundRatios(p[0], p[1], c, rps); len(rs) > 0 {
				if !header {
					fmt.Fprintln(w, "\ntwo instances ÷ one, creates/s, by round:")
					header = true
				}
				text := make([]string, len(rs))
				for i, r := range rs {
					text[i] = fmt.Sprintf("%.2f", r)
				}
				fmt.Fprintf(w, "  %3d clients: %s/%s %s (%s)\n", c, p[0], p[1], strings.Join(text, " "), spread(rs))
			}
		}
	}
	waits, measured := map[string]int{}, 0
	for _, m := range b.results {
		if m.config != sqliteConfig && !strings.HasPrefix(m.config, benchConfig) {
			for typ, n := range m.createPathLockWaits {
				waits[typ] += n
			}
			measured++
		}
	}
	fmt.Fprintf(w, "\nlock waits on the create path (a backend waiting for a heavyweight lock in INSERT INTO incidents/outbox_events/incident_count_deltas, a group's WITH inserted_incidents, or COMMIT), "+
		"sampled every 50 ms in %d PostgreSQL measurements, by lock type: advisory %d, transactionid %d", measured, waits["advisory"], waits["transactionid"])
	for _, typ := range top(waits, len(waits)) {
		if typ != "advisory" && typ != "transactionid" {
			fmt.Fprintf(w, ", %s %d", typ, waits[typ])
		}
	}
	fmt.Fprintln(w)
	reported := map[string]bool{}
	for _, s := range append(b.servers(), b.stopped...) {
		if s == nil || reported[s.name] {
			continue
		}
		reported[s.name] = true
		if errs, warns, messages := s.errorLines(); errs+warns > 0 {
			fmt.Fprintf(w, "%s log: %d ERROR and %d WARN lines:", s.name, errs, warns)
			for _, m := range top(messages, len(messages)) {
				fmt.Fprintf(w, " %d × %s;", messages[m], m)
			}
			fmt.Fprintln(w)
		}
	}
}

func rps(m measurement) float64 { return m.rps }
func p50(m measurement) float64 { return m.p50 }
func p99(m measurement) float64 { return m.p99 }

func setyPerCreate(m measurement) float64 { return cpuPerCreate(m.setyCPU, m.rps) }
func pgPerCreate(m measurement) float64   { return cpuPerCreate(m.pgCPU, m.rps) }

// measured returns the measurements of cfg at clients, by round.
func (b *bench) measured(cfg string, clients int) []measurement {
	var out []measurement
	for _, m := range b.results {
		if m.config == cfg && m.clients == clients {
			out = append(out, m)
		}
	}
	return out
}

// ratio is the median over rounds of f(num) / f(den), both at clients.
func (b *bench) ratio(num, den string, clients int, f func(measurement) float64) (float64, bool) {
	var rs []float64
	for _, n := range b.measured(num, clients) {
		for _, d := range b.measured(den, clients) {
			if d.round == n.round && f(d) > 0 {
				rs = append(rs, f(n)/f(d))
			}
		}
	}
	if len(rs) == 0 {
		return 0, false
	}
	return median(rs), true
}

// roundRatios are f(num) / f(den) at clients in each round both were
// measured in, in round order.
func (b *bench) roundRatios(num, den string, clients int, f func(measurement) float64) []float64 {
	var out []float64
	for _, n := range b.measured(num, clients) {
		for _, d := range b.measured(den, clients) {
			if d.round == n.round && f(d) > 0 {
				out = append(out, f(n)/f(d))
			}
		}
	}
	return out
}

// spread says how far a median of per-round ratios can be trusted: the
// median, the middle half of the rounds, and how many rounds came out at
// 1.00 or more. On a shared 2-core machine single rounds of two ÷ one
// have swung from 0.76 to 1.25 in one run, so a median of three rounds
// moves by ±0.05 between runs of the same build; the spread shows when a
// figure near 1.00 needs more rounds.
func spread(rs []float64) string {
	s := slices.Clone(rs)
	slices.Sort(s)
	atLeastOne := 0
	for _, r := range s {
		if math.Round(r*100) >= 100 { // as printed: a round shown as 1.00 counts
			atLeastOne++
		}
	}
	return fmt.Sprintf("median %.2f, middle half %.2f–%.2f, %d of %d rounds ≥ 1.00",
		median(s), quantile(s, 0.25), quantile(s, 0.75), atLeastOne, len(s))
}

// quantile is the q-quantile of sorted s, interpolated between the two
// nearest ranks.
func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func mapTo(ms []measurement, f func(measurement) float64) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = f(m)
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}
