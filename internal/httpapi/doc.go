// Package httpapi is the HTTP plumbing every Sety domain shares when it
// mounts its operations on a huma API: the operation builder (scope, body
// limit, documented errors), the conversion of errors to the wire body
// {code, message}, pagination and date-range parameters, and JSON answers for
// unknown routes and wrong methods.
//
// It is internal: users mount Sety through sety.Register.
package httpapi
