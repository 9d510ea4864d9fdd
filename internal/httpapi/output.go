package httpapi

import "github.com/danielgtaylor/huma/v2"

// Output is a response whose status is the operation's (huma.Operation.DefaultStatus).
type Output[T any] struct{ Body T }

// Reply wraps a service's result as the operation's response.
func Reply[T any](v T, err error) (*Output[T], error) {
	if err != nil {
		return nil, err
	}
	return &Output[T]{Body: v}, nil
}

// StatusOutput is a response whose status depends on the request, like a
// create that answers 200 when it only replays an earlier one.
type StatusOutput[T any] struct {
	Status int
	Body   T
}

// ListOutput is the response of every list operation.
type ListOutput[T any] = Output[*PaginatedResponse[T]]

// List wraps one page of a service's list as the operation's response.
func List[T any](q PageQuery, items []T, total int, err error) (*ListOutput[T], error) {
	if err != nil {
		return nil, err
	}
	return &ListOutput[T]{Body: NewPage(items, q, total)}, nil
}

// EnumSchema is the schema of a string type whose values are values. A type
// returns it from its huma.SchemaProvider method, so an enum in the OpenAPI
// document is stated once, by the Go constants, wherever the type is used.
func EnumSchema[T ~string](values []T) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Enum: make([]any, len(values))}
	for i, v := range values {
		s.Enum[i] = string(v)
	}
	return s
}
