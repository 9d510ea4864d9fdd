package sety_test

import (
	"net/http"
	"testing"
)

// BenchmarkCreateRequestPath measures a create's request path around the
// store — net/http on loopback, the strict body, huma's decoding and
// validation, auth, the service, the answer's JSON — on the memory store,
// so no disk wait hides it; one client, bench/http.sh's create body. With
// -cpu 1, ns/op is close to the CPU of a create (client included):
//
//	go test . -run '^$' -bench CreateRequestPath -benchmem -cpu 1 -benchtime 20000x
func BenchmarkCreateRequestPath(b *testing.B) {
	h := newMemoryHarness(b)
	send := serveLoopback(b, h)
	body := `{"category":"vehicle","severity":"high","title":"Vehicle emergency reported by rider","description":"Rider reports the driver left the agreed route and stopped in an unlit street.","subject":{"name":"Amaka Obi","phone":"+2348012345678","email":"amaka.obi@example.com","reference":"TRIP-44821","metadata":{"trip_id":"trp_9x2k4m","vehicle_plate":"LND-482-KJ"}},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos","landmark":"Opposite the filling station"}}`
	for b.Loop() {
		if status, out := send(b, http.MethodPost, "/incidents", body); status != http.StatusCreated {
			b.Fatalf("create: %d %s", status, out)
		}
	}
}
