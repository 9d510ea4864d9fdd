package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The operations of the workload.
var opNames = []string{"create", "get", "list", "resolve", "cancel", "note", "validate", "checkout", "score", "heatmap"}

// defaultMix resembles a ride-hailing integration: riders' apps poll their
// incident and check safety scores and heatmaps, gates validate visitor
// codes (checking visitors in) and check some out, operators add notes and
// resolve what responders finish, and a few incidents are cancelled. resolve outweighs create (one in five takes two steps,
// on_scene then resolved) so the pool of 40 demo responders can keep up:
// a queue that grows anyway is the server's doing, not the workload's.
const defaultMix = "create=10,get=20,list=10,resolve=15,cancel=2,note=4,validate=14,checkout=6,score=12,heatmap=7"

// mix picks operations at random in proportion to their weights.
type mix struct {
	names   []string
	weights []int
	total   int
}

// parseMix reads "op=weight,op=weight". Operations left out have weight 0.
func parseMix(s string) (mix, error) {
	var m mix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, ws, found := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !found || !slices.Contains(opNames, name) {
			return mix{}, fmt.Errorf("mix: %q is not op=weight with op one of %s", part, strings.Join(opNames, ", "))
		}
		if slices.Contains(m.names, name) {
			return mix{}, fmt.Errorf("mix: %s given twice", name)
		}
		w, err := strconv.Atoi(strings.TrimSpace(ws))
		if err != nil || w < 0 {
			return mix{}, fmt.Errorf("mix: weight of %s must be a whole number ≥ 0, not %q", name, ws)
		}
		if w == 0 {
			continue
		}
		m.names = append(m.names, name)
		m.weights = append(m.weights, w)
		m.total += w
	}
	if m.total == 0 {
		return mix{}, fmt.Errorf("mix: no operation has a weight")
	}
	return m, nil
}

// without returns the mix with op removed (its share goes to the others).
func (m mix) without(op string) mix {
	var out mix
	for i, n := range m.names {
		if n != op {
			out.names = append(out.names, n)
			out.weights = append(out.weights, m.weights[i])
			out.total += m.weights[i]
		}
	}
	return out
}

func (m mix) weight(op string) int {
	if i := slices.Index(m.names, op); i >= 0 {
		return m.weights[i]
	}
	return 0
}

func (m mix) pick(r *rand.Rand) string {
	n := r.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.names[i]
		}
		n -= w
	}
	return m.names[len(m.names)-1]
}

func (m mix) String() string {
	parts := make([]string, len(m.names))
	for i, n := range m.names {
		parts[i] = fmt.Sprintf("%s=%d", n, m.weights[i])
	}
	return strings.Join(parts, ",")
}
