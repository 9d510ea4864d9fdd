package httpapi

// PageQuery holds the pagination parameters of every list operation.
// huma enforces the ranges, so a handler always sees valid values.
type PageQuery struct {
	Page  int `query:"page" default:"1" minimum:"1" maximum:"1000000" doc:"Page number, from 1."`
	Limit int `query:"limit" default:"20" minimum:"1" maximum:"100" doc:"Items per page, 1 to 100."`
}

// Offset returns how many items precede the page.
func (q PageQuery) Offset() int { return (q.Page - 1) * q.Limit }

// Pagination is the "pagination" object of a PaginatedResponse.
type Pagination struct {
	Page       int  `json:"page" example:"1" doc:"This page's number, from 1."`
	Limit      int  `json:"limit" example:"20" doc:"Items per page."`
	Total      int  `json:"total" example:"134" doc:"Items across every page."`
	TotalPages int  `json:"total_pages" example:"7" doc:"How many pages there are."`
	HasMore    bool `json:"has_more" example:"true" doc:"Whether a later page has items."`
}

// PaginatedResponse is the body of every list operation.
type PaginatedResponse[T any] struct {
	Data       []T        `json:"data" nullable:"false" doc:"This page's items."`
	Pagination Pagination `json:"pagination" doc:"Where this page is."`
}

// NewPage builds the body for items of page q out of total.
func NewPage[T any](items []T, q PageQuery, total int) *PaginatedResponse[T] {
	if items == nil {
		items = []T{}
	}
	pages := (total + q.Limit - 1) / q.Limit
	return &PaginatedResponse[T]{
		Data: items,
		Pagination: Pagination{
			Page: q.Page, Limit: q.Limit, Total: total, TotalPages: pages,
			HasMore: q.Page < pages,
		},
	}
}
