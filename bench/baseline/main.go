// Command baseline is the transport floor for Sety's HTTP benchmark
// (bench/http.sh): a bare net/http server that decodes and checks a
// create-incident body and answers with an incident of the same shape and
// size as Sety's, with no storage engine, no auth and no framework. Sety's
// figures are read as a ratio of this one's, measured side by side on the
// same machine in the same minute.
//
//	go run ./bench/baseline -addr 127.0.0.1:0   # prints "baseline listening on 127.0.0.1:PORT"
//	go run ./bench/baseline -db /tmp/floor.db   # the durable baseline
//	go run ./bench/baseline -pg postgres://...  # the durable baseline on PostgreSQL
//
// Incidents are kept in a map only so that get-incident has something to
// return; it is the cheapest store there is, not a model of one.
//
// With -db it is the durable baseline instead: each create commits one
// JSON row and one event row to a SQLite file through the same driver,
// pragmas (synchronous=FULL) and group commit as Sety's SQLite adapter
// (durable.go), and answers once that commit is on disk; a get reads the
// row back. It is the floor under any durable create on this machine.
//
// With -pg URL (or PG_URL) it is the durable baseline on PostgreSQL
// (pgdurable.go): the same two rows in two tables of the database at the
// URL (a pgx URL: pool_max_conns and application_name apply), which it
// creates if absent. Creates queue and are committed in groups of up to 64,
// one group at a time per instance (-pg-commits N: N at a time, N
// of the pool's connections): one multi-row insert of each table in
// one pipelined implicit transaction, answered once its commit is flushed
// (synchronous_commit on). Several instances may share one database: this
// is the simplest durable server that can run as two (bench/pgscale's
// bare-1 and bare-2). GET /debug/groups answers the groups committed and
// the creates they carried and the wall time of their commits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/gcheadroom"
)

type location struct {
	Coordinates []float64 `json:"coordinates"`
	Address     *string   `json:"address"`
	Landmark    *string   `json:"landmark"`
}

type subject struct {
	Name      *string           `json:"name"`
	Phone     *string           `json:"phone"`
	Email     *string           `json:"email"`
	Reference *string           `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
}

type timelineEntry struct {
	Status    string `json:"status"`
	Event     string `json:"event"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
}

type sla struct {
	AssignTarget int    `json:"assign_target_seconds"`
	ArriveTarget int    `json:"arrive_target_seconds"`
	AssignBy     string `json:"assign_by"`
	ArriveBy     string `json:"arrive_by"`
	TimeToAssign *int   `json:"time_to_assign_seconds"`
	TimeToArrive *int   `json:"time_to_arrive_seconds"`
	State        string `json:"state"`
}

// incident has the fields, order and nulls of Sety's Incident object.
type incident struct {
	ID             string          `json:"incident_id"`
	IdempotencyKey *string         `json:"idempotency_key"`
	Category       string          `json:"category"`
	Severity       string          `json:"severity"`
	Status         string          `json:"status"`
	Subject        subject         `json:"subject"`
	Title          string          `json:"title"`
	Description    *string         `json:"description"`
	Location       location        `json:"location"`
	Outcome        *string         `json:"resolution_outcome"`
	Notes          *string         `json:"resolution_notes"`
	IsDrill        bool            `json:"is_drill"`
	Timeline       []timelineEntry `json:"timeline"`
	SLA            sla             `json:"sla"`
	Responder      *struct{}       `json:"responder"`
	CreatedAt      string          `json:"created_at"`
	UpdatedAt      string          `json:"updated_at"`
	ResolvedAt     *string         `json:"resolved_at"`
	CancelledAt    *string         `json:"cancelled_at"`
}

type createRequest struct {
	Category       string   `json:"category"`
	Severity       string   `json:"severity"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	IdempotencyKey string   `json:"idempotency_key"`
	IsDrill        bool     `json:"is_drill"`
	Subject        *subject `json:"subject"`
	Location       struct {
		Coordinates []float64 `json:"coordinates"`
		Address     string    `json:"address"`
		Landmark    string    `json:"landmark"`
	} `json:"location"`
}

var titles = map[string]string{
	"sos": "SOS alert", "vehicle": "Vehicle emergency", "location_threat": "Location threat", "medical": "Medical emergency",
}

var severities = map[string]bool{"low": true, "medium": true, "high": true, "critical": true}

const wireTime = "2006-01-02T15:04:05.000Z"

// newIncident checks req as Sety does (the fields a benchmark body uses) and
// builds the incident it would answer with.
func newIncident(req createRequest, now time.Time) (*incident, error) {
	title, ok := titles[req.Category]
	if !ok {
		return nil, errors.New("category: must be sos, vehicle, location_threat or medical")
	}
	c := req.Location.Coordinates
	if len(c) != 2 || c[0] < -180 || c[0] > 180 || c[1] < -90 || c[1] > 90 {
		return nil, errors.New("location.coordinates: must be [longitude, latitude]")
	}
	sev := req.Severity
	if sev == "" {
		sev = "high"
		if req.Category == "location_threat" {
			sev = "medium"
		}
	}
	if !severities[sev] {
		return nil, errors.New("severity: must be low, medium, high or critical")
	}
	if req.Title != "" {
		title = req.Title
	}
	var subj subject
	if req.Subject != nil {
		subj = *req.Subject
	}
	if subj.Metadata == nil {
		subj.Metadata = map[string]string{}
	}
	ts := now.UTC().Format(wireTime)
	return &incident{
		ID:             ids.New("inc"), // time-ordered, as Sety's: keys that grow at the index's right edge
		IdempotencyKey: optional(req.IdempotencyKey),
		Category:       req.Category,
		Severity:       sev,
		Status:         "created",
		Subject:        subj,
		Title:          title,
		Description:    optional(req.Description),
		Location:       location{Coordinates: c, Address: optional(req.Location.Address), Landmark: optional(req.Location.Landmark)},
		IsDrill:        req.IsDrill,
		Timeline:       []timelineEntry{{Status: "created", Event: "created", Message: "Incident received", Timestamp: ts}},
		SLA: sla{AssignTarget: 90, ArriveTarget: 600, State: "on_track",
			AssignBy: now.Add(90 * time.Second).UTC().Format(wireTime), ArriveBy: now.Add(10 * time.Minute).UTC().Format(wireTime)},
		CreatedAt: ts,
		UpdatedAt: ts,
	}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type server struct {
	mu        sync.RWMutex
	incidents map[string]*incident

	durable store // with -db or -pg: incidents are kept there instead
}

// store is a durable baseline's: durableStore (SQLite) or pgStore.
type store interface {
	create(ctx context.Context, inc *incident, now time.Time) error
	get(ctx context.Context, id string) ([]byte, error)
}

func (s *server) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "invalid JSON body"})
		return
	}
	inc, err := newIncident(req, time.Now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": err.Error()})
		return
	}
	if s.durable != nil {
		if err := s.durable.create(r.Context(), inc, time.Now()); err != nil {
			log.Print(err)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"code": 500, "message": "internal error"})
			return
		}
	} else {
		s.mu.Lock()
		s.incidents[inc.ID] = inc
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusCreated, struct {
		Incident   *incident `json:"incident"`
		Idempotent bool      `json:"idempotent"`
	}{inc, false})
}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	if s.durable != nil {
		s.getDurable(w, r)
		return
	}
	s.mu.RLock()
	inc, ok := s.incidents[r.PathValue("id")]
	s.mu.RUnlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "Incident not found"})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Incident *incident `json:"incident"`
	}{inc})
}

// getDurable answers a get from the durable baseline's row, as stored.
func (s *server) getDurable(w http.ResponseWriter, r *http.Request) {
	doc, err := s.durable.get(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		log.Print(err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"code": 500, "message": "internal error"})
	case doc == nil:
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "Incident not found"})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(append([]byte(`{"incident":`), doc...), '}')) //nolint:errcheck // the client went away
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"code":500,"message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away; nothing to do
}

func main() {
	// The same collector setting as Sety's server (internal/gcheadroom),
	// so that a ratio against the baseline compares code, not settings.
	gcheadroom.Start(context.Background(), os.Getenv)
	def := os.Getenv("ADDR")
	if def == "" {
		def = "127.0.0.1:0"
	}
	addr := flag.String("addr", def, "listen address (ADDR); port 0 picks a free one")
	dbPath := flag.String("db", os.Getenv("DB"), "SQLite file (DB): be the durable baseline, on this file")
	pgURL := flag.String("pg", os.Getenv("PG_URL"), "PostgreSQL URL (PG_URL): be the durable baseline on this database")
	pgCommits := flag.Int("pg-commits", 1, "with -pg: groups committing at once, each on a connection of the pool")
	flag.Parse()
	if *dbPath != "" && *pgURL != "" {
		log.Fatal("-db and -pg: one durable store at a time")
	}

	s := &server{incidents: map[string]*incident{}}
	name := "baseline"
	if *dbPath != "" {
		d, err := openDurable(context.Background(), *dbPath)
		if err != nil {
			log.Fatal(err)
		}
		defer d.Close()
		s.durable, name = d, "durable baseline"
	}
	mux := http.NewServeMux()
	if *pgURL != "" {
		p, err := openPG(context.Background(), *pgURL, *pgCommits)
		if err != nil {
			log.Fatal(err)
		}
		defer p.Close()
		s.durable, name = p, "durable baseline"
		mux.HandleFunc("GET /debug/groups", func(w http.ResponseWriter, _ *http.Request) {
			groups, creates, nanos := p.stats()
			writeJSON(w, http.StatusOK, map[string]int64{"groups": groups, "creates": creates, "commit_nanos": nanos})
		})
	}
	mux.HandleFunc("POST /v1/external/incidents", s.create)
	mux.HandleFunc("GET /v1/external/incidents/{id}", s.get)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name, "listening on", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.Serve(ln))
}
