// Package httpapi is the HTTP plumbing every Sety domain shares when it
// mounts its operations on a huma API. A domain registers each operation
// with huma.Register and a plain huma.Operation (its id, tags, summary,
// description, success status, the errors it answers beyond those its shape
// implies), states the scope it needs in the operation's Metadata
// ([Scope]), and wraps its handler in [Errors], the one conversion of a
// domain error to the wire body {code, message}. What every operation
// shares — the body limit, security, the scope sentence, the documented
// error responses with their headers and examples — is done once, by the
// modifier of the group [NewGroup] returns.
//
// It also holds the pagination and date-range parameters, the answers to
// unknown routes and wrong methods, the completion of the OpenAPI document
// (nulls, examples), and the guest API through which Sety registers on a
// host's API without clashing with it. The guest marshals with the host's
// formats, except that a body carrying JSON encoded earlier ([PreEncoded])
// is written as it is wherever the host's format would write the same
// bytes; and it decodes a body into an any (huma's pass for validation) in
// one read of its own wherever the host's format decodes as encoding/json
// does, leaving anything but plain valid JSON, and every error, to the
// host's format.
//
// [StrictBody] reads a request body's text once, byte by byte, for its
// depth, its keys' spelling and repeated keys, before huma decodes it. A
// body that checks itself ([CheckedBody], a create's) skips huma's
// validation: its input's resolver decodes it once and checks the typed
// values ([ResolveBody]), and leaves any body they refuse to huma's way,
// answers and all.
//
// It is internal: users mount Sety through sety.Register.
package httpapi
