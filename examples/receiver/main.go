// Command receiver is a webhook receiver that verifies Sety's signatures
// and prints each event: the smallest correct receiver, to copy from.
//
//	SETY_WEBHOOK_SECRET=whsec_... go run ./examples/receiver -addr :9000
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sety-io/sety/webhook"
)

func main() {
	addr := flag.String("addr", ":9000", "listen address")
	flag.Parse()
	secret := os.Getenv("SETY_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set SETY_WEBHOOK_SECRET to the endpoint's secret")
	}
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler(secret, os.Stdout, time.Now)))
}

// handler verifies each delivery, drops repeats (deliveries are at least
// once) and prints the event. It answers 2xx only once the event is handled:
// anything else makes Sety retry.
func handler(secret string, out io.Writer, now func() time.Time) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{} // a real receiver keeps this in its database
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		// Verify the raw bytes: re-encoded JSON would not match.
		if err := webhook.Verify(secret, r.Header, body, now(), webhook.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev webhook.Payload
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		mu.Lock()
		repeat := seen[ev.ID]
		seen[ev.ID] = true
		mu.Unlock()
		if !repeat {
			fmt.Fprintf(out, "%s %s sequence %d\n", ev.ID, ev.Type, ev.Sequence)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
