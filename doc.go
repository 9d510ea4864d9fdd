// Package sety is a library that safety platforms (ride-hailing, delivery,
// gated estates, campuses) embed to run emergency incidents, and the facade
// that wires its domains to a store and mounts them as the Sety v1 HTTP API
// on a huma API: incidents with dispatch, SLA clocks and a sandbox; visitor
// access codes and logs; signed webhooks for every change.
//
//	db, err := sqlite.Open(ctx, "sety.db", nil)   // or memory.New()
//	s, err := sety.New(db, sety.WithLogger(logger))
//	err = s.Register(api)                          // any huma.API; an error names a clash and the option that avoids it
//	go s.Run(ctx)                                  // threat history, then dispatch, simulator, SLA clocks, webhooks
//	defer s.Close()                                // after the HTTP server stops, before the store closes
//	inc, _, err := s.Incidents.Create(ctx, tenant, req) // or call the services directly
//
// Layout: one package per domain (incident, access, threat, webhook, auth), each declaring the
// storage and notifier ports it consumes; adapters/memory and adapters/sqlite
// implement every port and pass the one conformance suite in
// adapters/storetest; geo, clock, ids, setyerr and outbox are small leaves
// every package may use. See README.md for the example server.
package sety
