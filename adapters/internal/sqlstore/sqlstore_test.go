package sqlstore_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

func TestMigrationsInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0010_ten.sql": {Data: []byte("SELECT 10")},
		"migrations/0002_two.sql": {Data: []byte("SELECT 2")},
		"migrations/README":       {Data: []byte("not a migration")},
	}
	got, err := sqlstore.Migrations(fsys)
	want := []sqlstore.Migration{{Version: 2, Name: "0002_two.sql", SQL: "SELECT 2"}, {Version: 10, Name: "0010_ten.sql", SQL: "SELECT 10"}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	fsys["migrations/init.sql"] = &fstest.MapFile{Data: []byte("SELECT 0")}
	if _, err := sqlstore.Migrations(fsys); err == nil {
		t.Fatal("a migration without a version was accepted")
	}
}

func TestNearestOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	r := func(id string, idle time.Time) *incident.Responder {
		return &incident.Responder{ID: id, IdleSince: clock.At(idle)}
	}
	found := []sqlstore.Ranked{
		{r("rsp_d", t0), 300},
		{r("rsp_c", t0), 100},                // ties with b and a on distance; idle as long as a
		{r("rsp_b", t0.Add(time.Hour)), 100}, // idle the shortest
		{r("rsp_a", t0), 100},
	}
	var got []string
	for _, r := range sqlstore.Nearest(found, 3) {
		got = append(got, r.ID)
	}
	if want := []string{"rsp_a", "rsp_c", "rsp_b"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v (nearest, then longest idle, then id)", got, want)
	}
	if got := sqlstore.Nearest(nil, 3); len(got) != 0 {
		t.Fatalf("nothing found: got %v", got)
	}
}

func TestFound(t *testing.T) {
	noRows, notFound, other := errors.New("no rows"), errors.New("not found"), errors.New("other")
	for _, c := range []struct {
		err, want error
	}{{nil, nil}, {noRows, notFound}, {other, other}} {
		if _, err := sqlstore.Found(1, c.err, noRows, notFound); err != c.want {
			t.Errorf("Found(%v): %v, want %v", c.err, err, c.want)
		}
	}
}

func TestWhere(t *testing.T) {
	for _, c := range []struct {
		conds []string
		want  string
	}{{nil, ""}, {[]string{"a = 1"}, " WHERE a = 1"}, {[]string{"a = 1", "b = 2"}, " WHERE a = 1 AND b = 2"}} {
		if got := sqlstore.Where(c.conds); got != c.want {
			t.Errorf("Where(%q) = %q, want %q", c.conds, got, c.want)
		}
	}
}

func TestChangeEndpoint(t *testing.T) {
	tenant := auth.Tenant{OrgID: "org_a", Env: auth.Live}
	for _, c := range []struct {
		from, to string
		resumed  bool
	}{{webhook.Disabled, webhook.Enabled, true}, {webhook.Enabled, webhook.Enabled, false}, {webhook.Disabled, webhook.Disabled, false}} {
		e := &webhook.Endpoint{ID: "we_1", OrgID: tenant.OrgID, Environment: tenant.Env, Status: c.from}
		resumed, err := sqlstore.ChangeEndpoint(e, tenant, "we_1", func(e *webhook.Endpoint) error {
			e.ID, e.OrgID, e.Status = "we_moved", "org_b", c.to
			return nil
		})
		if err != nil || resumed != c.resumed || e.ID != "we_1" || e.OrgID != "org_a" {
			t.Errorf("%s to %s: resumed %v, %v, endpoint %s of %s; want resumed %v, we_1 of org_a", c.from, c.to, resumed, err, e.ID, e.OrgID, c.resumed)
		}
	}
}

func TestChangeEndpoints(t *testing.T) {
	page := []*webhook.Endpoint{{ID: "we_1", OrgID: "org_a"}, {ID: "we_2", OrgID: "org_a"}, {ID: "we_3", OrgID: "org_a"}}
	var stored []string
	last, err := sqlstore.ChangeEndpoints(page, func(e *webhook.Endpoint) (bool, error) {
		changed := e.ID != "we_2"
		e.ID, e.OrgID = "we_moved", "org_b"
		return changed, nil
	}, func(e *webhook.Endpoint) error {
		stored = append(stored, e.ID+"/"+e.OrgID)
		return nil
	})
	if want := []string{"we_1/org_a", "we_3/org_a"}; err != nil || last != "we_3" || !slices.Equal(stored, want) {
		t.Fatalf("last %q, %v, stored %v; want we_3, %v", last, err, stored, want)
	}
	boom := errors.New("boom")
	if last, err := sqlstore.ChangeEndpoints(page, func(*webhook.Endpoint) (bool, error) { return false, boom }, nil); err != boom || last != "" {
		t.Fatalf("a failed change: %q, %v", last, err)
	}
}

func TestEndpointsOfLoadsEachTenantOnce(t *testing.T) {
	var loads []auth.Tenant
	of := sqlstore.EndpointsOf(func(t auth.Tenant) ([]*webhook.Endpoint, error) {
		loads = append(loads, t)
		return []*webhook.Endpoint{{ID: "we_" + t.OrgID}}, nil
	})
	for _, ev := range []outbox.Event{{OrgID: "a", Environment: "live"}, {OrgID: "b", Environment: "live"}, {OrgID: "a", Environment: "live"}, {OrgID: "a", Environment: "test"}} {
		got, err := of(ev)
		if err != nil || len(got) != 1 || got[0].ID != "we_"+ev.OrgID {
			t.Fatalf("%s/%s: %v, %v", ev.OrgID, ev.Environment, got, err)
		}
	}
	if len(loads) != 3 {
		t.Fatalf("loaded %v; want a/live, b/live and a/test once each", loads)
	}
}

func TestNumbered(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ?", "a = $1"},
		{"a = ? AND b = ANY(?) LIMIT ? OFFSET ?", "a = $1 AND b = ANY($2) LIMIT $3 OFFSET $4"},
		{"??", "$1$2"},
	} {
		if got := sqlstore.Numbered(c.in); got != c.want {
			t.Errorf("Numbered(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestList(t *testing.T) {
	l := sqlstore.List{Sel: `SELECT id, doc FROM things`, Order: `id`}
	l.Tenant(auth.Tenant{OrgID: "org_a", Env: auth.Live})
	l.And(`kind = ?`, "x")
	if got, want := l.Query(), `SELECT id, doc FROM things WHERE org_id = ? AND environment = ? AND kind = ? ORDER BY id`; got != want {
		t.Errorf("Query() = %q, want %q", got, want)
	}
	count, args := l.Count()
	if want := `SELECT count(*) FROM things WHERE org_id = ? AND environment = ? AND kind = ?`; count != want || !slices.Equal(args, []any{"org_a", "live", "x"}) {
		t.Errorf("Count() = %q %v, want %q", count, args, want)
	}
	page, args := l.Page(20, 10)
	if want := l.Query() + ` LIMIT ? OFFSET ?`; page != want || !slices.Equal(args, []any{"org_a", "live", "x", 10, 20}) {
		t.Errorf("Page(20, 10) = %q %v, want %q", page, args, want)
	}
	if len(l.Args) != 3 {
		t.Errorf("Page changed the list's arguments: %v", l.Args)
	}
	l.Total, l.TotalArgs = `SELECT sum(n) FROM counts WHERE org_id = ?`, []any{"org_a"}
	if count, args := l.Count(); count != l.Total || !slices.Equal(args, l.TotalArgs) {
		t.Errorf("Count() with a Total = %q %v", count, args)
	}
}

func TestTimeScansEitherEngine(t *testing.T) {
	at := time.Date(2026, 3, 10, 14, 22, 5, 123e6, time.UTC)
	lagos := time.FixedZone("WAT", 3600)
	for _, c := range []struct {
		src  any
		want time.Time
	}{
		{nil, time.Time{}},
		{at.UnixMilli(), at}, // SQLite: Unix milliseconds
		{at.In(lagos), at},   // PostgreSQL: timestamptz, read back in UTC
		{time.Time{}, time.Time{}},
	} {
		var got sqlstore.Time
		if err := got.Scan(c.src); err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("Scan(%v) = %v (%v), %v; want %v in UTC", c.src, got.Time, got.Location(), err, c.want)
		}
	}
	var got sqlstore.Time
	if err := got.Scan("2026-03-10"); err == nil {
		t.Error("a text column scanned as a time")
	}
}

func TestIn(t *testing.T) {
	var l sqlstore.List
	sqlstore.In(&l, questionDialect{}, "status", []incident.Status{})
	if len(l.Conds) != 0 {
		t.Fatalf("an empty filter added %v", l.Conds)
	}
	sqlstore.In(&l, questionDialect{}, "status", []incident.Status{incident.Created, incident.Dispatching})
	if l.Where() != ` WHERE status IN (?, ?)` || !slices.Equal(l.Args, []any{"created", "dispatching"}) {
		t.Fatalf("In: %q %v", l.Where(), l.Args)
	}
}

// questionDialect is enough of a Dialect for In: "IN (?, ?)".
type questionDialect struct{ sqlstore.Dialect }

func (questionDialect) In(column string, n int) (string, bool) {
	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")", false
}
