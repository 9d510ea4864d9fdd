// Package authapi is the HTTP side of package auth: the huma middleware
// that authenticates every Sety operation needing a scope (an API key in
// the Authorization header, the console's session cookie from the
// server's own pages, or the host's Authenticator) and sets the rate-limit
// headers; [Handle] and [FromContext], through which handlers read the
// caller (the principal, the context that carries it and the rate-limit
// headers' values are one allocation per request); the API key and
// session operations; and the schemas of the auth
// enums, which the other domains' HTTP packages use too ([Enums]). The
// auth package itself knows nothing of HTTP, so the storage adapters build
// without huma (ports' TestStorageDependsOnNoHTTP keeps it so).
//
// Hosts mount it through sety.Register, not directly.
package authapi
