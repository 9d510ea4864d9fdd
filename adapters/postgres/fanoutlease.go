package postgres

import (
	"context"
	"time"
)

// fanOutLease names the webhook fan-out's row in sweep_leases.
const fanOutLease = "webhook fan-out"

// LeaseFanOut is the webhook fan-out's lease (webhook.FanOutLeaser): a row
// of sweep_leases, as the engine's sweeps' (incidentStore.Lease), one
// upsert a second from each worker woken by its commits. Every fan-out
// takes every committed event, whatever instance wrote it, so one leading
// worker fans out for all; each instance's fan-outs, 20 a second each
// under load, took the sequencer's lock in turn, each a transaction with
// a sequencer run, a read of the log and a commit (bench/README.md, issue
// 24's "second server"). Nothing else changes: FanOut is the same from any
// worker.
func (q *webhookQueue) LeaseFanOut(ctx context.Context, owner string, now, until time.Time) (bool, error) {
	return (&incidentStore{db: q.db}).Lease(ctx, fanOutLease, owner, now, until)
}
