// Package incidentapi is the HTTP side of package incident: its operations on a
// huma API, each a huma.Operation registered through a group of
// internal/httpapi (which does what every Sety operation shares), its
// request and response bodies, and the schemas of its enums. The incident
// package itself knows nothing of HTTP, so the storage adapters build
// without huma (ports' TestStorageDependsOnNoHTTP keeps it so).
//
// get-incident reads through incident.Service.Peek and keeps, per incident,
// the JSON of its last answer with the incident's Version and SLA fields
// (encoded.go): while both are the same, a get writes those bytes instead
// of encoding the incident again.
//
// Hosts mount it through sety.Register, not directly.
package incidentapi
