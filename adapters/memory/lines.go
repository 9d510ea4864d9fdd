package memory

import (
	"slices"
	"time"
)

// endpointQueue is one endpoint's pending deliveries, kept in the two
// orders a claim reads: by due time, and by line (subject) in sequence
// order. A claim walks the due order and stops once it has the endpoint's
// room, so an endpoint's backlog costs a claim only what it takes.
type endpointQueue struct {
	byDue []*delivery            // by (NextAttemptAt, insertion)
	lines map[string][]*delivery // by subject, each by (sequence, insertion)
}

// byDue orders deliveries by due time, then insertion.
func byDue(a, b *delivery) int {
	if c := a.d.NextAttemptAt.Compare(b.d.NextAttemptAt.Time); c != 0 {
		return c
	}
	return a.seq - b.seq
}

// inLine orders one line's deliveries: by the event's sequence, then
// insertion.
func inLine(a, b *delivery) int {
	if a.sequence != b.sequence {
		if a.sequence < b.sequence {
			return -1
		}
		return 1
	}
	return a.seq - b.seq
}

func (q *endpointQueue) add(d *delivery) {
	i, _ := slices.BinarySearchFunc(q.byDue, d, byDue)
	q.byDue = slices.Insert(q.byDue, i, d)
	line := q.lines[d.subject]
	i, _ = slices.BinarySearchFunc(line, d, inLine)
	q.lines[d.subject] = slices.Insert(line, i, d)
}

func (q *endpointQueue) remove(d *delivery) {
	if i, ok := slices.BinarySearchFunc(q.byDue, d, byDue); ok {
		q.byDue = slices.Delete(q.byDue, i, i+1)
	}
	line := q.lines[d.subject]
	if i, ok := slices.BinarySearchFunc(line, d, inLine); ok {
		line = slices.Delete(line, i, i+1)
	}
	if len(line) == 0 {
		delete(q.lines, d.subject)
	} else {
		q.lines[d.subject] = line
	}
}

// firsts returns up to n claimable deliveries at now, by due time: due,
// unleased, first of their line, and no delivery of their line leased.
func (q *endpointQueue) firsts(now time.Time, n int) []*delivery {
	var out []*delivery
	for _, d := range q.byDue {
		if len(out) == n || d.d.NextAttemptAt.After(now) {
			break
		}
		line := q.lines[d.subject]
		if line[0] != d || slices.ContainsFunc(line, func(o *delivery) bool { return o.leaseUntil.After(now) }) {
			continue
		}
		out = append(out, d)
	}
	return out
}
