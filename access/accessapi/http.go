package accessapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/auth/authapi"
	"github.com/sety-io/sety/internal/httpapi"
)

// CreateCodeResponse is the only answer that shows the code's digits.
type CreateCodeResponse struct {
	AccessCode *access.AccessCode `json:"access_code" nullable:"false" doc:"The new code, without its digits."`
	Code       string             `json:"code" example:"482913" doc:"The digits to give the visitor. Shown only now."`
}

// CodeResponse wraps one code.
type CodeResponse struct {
	AccessCode *access.AccessCode `json:"access_code" nullable:"false" doc:"The code."`
}

// LogResponse wraps one log.
type LogResponse struct {
	AccessLog *access.AccessLog `json:"access_log" nullable:"false" doc:"The visit."`
}

// CurrentVisitorsResponse lists who is on site.
type CurrentVisitorsResponse struct {
	Visitors []access.CurrentVisitor `json:"visitors" nullable:"false" doc:"Visitors on site now, longest there first."`
	Total    int                     `json:"total" example:"6" doc:"How many are on site."`
}

type createCodeInput struct{ Body access.CreateCodeRequest }

// CodeIDParam is the path parameter of operations on one access code.
type CodeIDParam struct {
	CodeID string `path:"codeId" maxLength:"64" example:"acc_a1b2c3d4e5f6g7h8" doc:"The access code id."`
}

// LogIDParam is the path parameter of operations on one access log.
type LogIDParam struct {
	LogID string `path:"logId" maxLength:"64" example:"log_a1b2c3d4e5f6g7h8" doc:"The access log id."`
}

type listCodesInput struct {
	Status string `query:"status" enum:"active,used,expired,revoked" doc:"Only codes in this status (as of now)."`
	Site   string `query:"site" maxLength:"100" example:"lekki-gardens" doc:"Only codes of this site."`
	httpapi.PageQuery
}
type validateInput struct{ Body access.ValidateRequest }
type createLogInput struct{ Body access.CreateLogRequest }
type listLogsInput struct {
	Status   string `query:"status" enum:"checked_in,checked_out" doc:"Only visits in this status."`
	Site     string `query:"site" maxLength:"100" example:"lekki-gardens" doc:"Only visits to this site."`
	Search   string `query:"search" maxLength:"100" doc:"Matches visitor name, phone or plate, host name or unit, and purpose."`
	FromDate string `query:"from_date" doc:"Checked in at or after: RFC 3339 or YYYY-MM-DD."`
	ToDate   string `query:"to_date" doc:"Checked in at or before: RFC 3339 or YYYY-MM-DD (end of day)."`
	httpapi.PageQuery
}
type statsInput struct {
	Site     string `query:"site" maxLength:"100" example:"lekki-gardens" doc:"Only visits to this site; default: every site."`
	FromDate string `query:"from_date" doc:"Window start, on check-in time: RFC 3339 or YYYY-MM-DD. Default: 30 days before to_date."`
	ToDate   string `query:"to_date" doc:"Window end: RFC 3339 or YYYY-MM-DD (end of day). Default: now."`
}
type currentInput struct {
	Site string `query:"site" maxLength:"100" example:"lekki-gardens" doc:"Only visitors at this site; default: every site."`
}
type checkoutInput struct {
	LogIDParam
	Body *access.CheckoutRequest `required:"false"`
}

type (
	codeOutput = httpapi.Output[CodeResponse]
	logOutput  = httpapi.Output[LogResponse]
)

func codeResult(c *access.AccessCode, err error) (*codeOutput, error) {
	return httpapi.Reply(CodeResponse{AccessCode: c}, err)
}

func logResult(l *access.AccessLog, err error) (*logOutput, error) {
	return httpapi.Reply(LogResponse{AccessLog: l}, err)
}

// Register mounts the access code and access log operations on api.
func Register(api huma.API, svc *access.Service, log *slog.Logger) {
	authapi.Enums(api.OpenAPI().Components.Schemas)
	read, write := string(auth.AccessRead), string(auth.AccessWrite)
	bad, missing, conflict, large := http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge

	huma.Register(api, huma.Operation{
		OperationID: "create-access-code", Method: http.MethodPost, Path: "/access-codes", Tags: []string{"Access codes"}, Summary: "Create access code",
		Description: "Issues a visitor code of 4–10 random digits (default 6), valid at one site within a window and, optionally, for a number of uses. " +
			"The digits are in this response only; Sety keeps a keyed hash.",
		Metadata: httpapi.Scope(write), DefaultStatus: http.StatusCreated, Errors: []int{bad, conflict, large},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *createCodeInput) (*httpapi.Output[CreateCodeResponse], error) {
		c, digits, err := svc.CreateCode(ctx, tenant, in.Body)
		return httpapi.Reply(CreateCodeResponse{AccessCode: c, Code: digits}, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-access-codes", Method: http.MethodGet, Path: "/access-codes", Tags: []string{"Access codes"}, Summary: "List access codes",
		Description: "Returns this environment's codes, newest first; status is as of now.", Metadata: httpapi.Scope(read), Errors: []int{bad},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *listCodesInput) (*httpapi.ListOutput[*access.AccessCode], error) {
		items, total, err := svc.Codes(ctx, tenant, access.CodeFilter{Status: in.Status, Site: in.Site, Offset: in.Offset(), Limit: in.Limit})
		return httpapi.List(in.PageQuery, items, total, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "validate-access-code", Method: http.MethodPost, Path: "/access-codes/validate", Tags: []string{"Access codes"}, Summary: "Validate access code",
		Description: "Checks a code at a gate. 200 whatever the verdict: `valid` and `reason` say whether and why not. A valid code with `check_in` " +
			"(default) opens the visit in the same transaction that counts the use, so a code is never used more than `max_uses` times. " +
			"Five guesses at a site (codes that match no code of the organization there: `not_found`) within 10 minutes lock its validation " +
			"for 10 minutes (`reason: locked`). A real code that is used up, expired, not yet valid or revoked is not a guess and never locks the site.",
		Metadata: httpapi.Scope(write), Errors: []int{bad, large},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *validateInput) (*httpapi.Output[*access.ValidationResult], error) {
		return httpapi.Reply(svc.Validate(ctx, tenant, in.Body))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "get-access-code", Method: http.MethodGet, Path: "/access-codes/{codeId}", Tags: []string{"Access codes"}, Summary: "Get access code",
		Description: "Returns one code (never its digits).", Metadata: httpapi.Scope(read), Errors: []int{missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *CodeIDParam) (*codeOutput, error) {
		return codeResult(svc.Code(ctx, tenant, in.CodeID))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "revoke-access-code", Method: http.MethodPost, Path: "/access-codes/{codeId}/revoke", Tags: []string{"Access codes"}, Summary: "Revoke access code",
		Description: "Stops an active code from working; 409 if it is not active.", Metadata: httpapi.Scope(write), Errors: []int{missing, conflict},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *CodeIDParam) (*codeOutput, error) {
		return codeResult(svc.RevokeCode(ctx, tenant, in.CodeID))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-access-logs", Method: http.MethodGet, Path: "/access-logs", Tags: []string{"Access logs"}, Summary: "List access logs",
		Description: "Returns visits, newest check-in first, filtered and paginated.", Metadata: httpapi.Scope(read), Errors: []int{bad},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *listLogsInput) (*httpapi.ListOutput[*access.AccessLog], error) {
		from, to, err := httpapi.DateRange(in.FromDate, in.ToDate)
		if err != nil {
			return nil, err
		}
		items, total, err := svc.Logs(ctx, tenant, access.LogFilter{Status: in.Status, Site: in.Site, Search: in.Search, From: from, To: to, Offset: in.Offset(), Limit: in.Limit})
		return httpapi.List(in.PageQuery, items, total, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "access-log-stats", Method: http.MethodGet, Path: "/access-logs/stats", Tags: []string{"Access logs"}, Summary: "Access log stats",
		Description: "Entries, visitors on site now, visit length (mean, median), check-ins by method, UTC hour and weekday, the peak hour and overstays, " +
			"over visits checked in within the window (default: the last 30 days).",
		Metadata: httpapi.Scope(read), Errors: []int{bad},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *statsInput) (*httpapi.Output[*access.Stats], error) {
		from, to, err := httpapi.DateRange(in.FromDate, in.ToDate)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(svc.Stats(ctx, tenant, in.Site, from, to))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "create-access-log", Method: http.MethodPost, Path: "/access-logs", Tags: []string{"Access logs"}, Summary: "Create access log",
		Description: "Checks a visitor in by hand, without a code (method `manual`).", Metadata: httpapi.Scope(write), DefaultStatus: http.StatusCreated, Errors: []int{bad, large},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *createLogInput) (*logOutput, error) {
		return logResult(svc.CreateLog(ctx, tenant, in.Body))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "get-current-visitors", Method: http.MethodGet, Path: "/access-logs/current", Tags: []string{"Access logs"}, Summary: "Get current visitors",
		Description: "Who is on site now, longest there first, with time on site and overstays.", Metadata: httpapi.Scope(read), Errors: []int{bad},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *currentInput) (*httpapi.Output[CurrentVisitorsResponse], error) {
		vs, err := svc.CurrentVisitors(ctx, tenant, in.Site)
		return httpapi.Reply(CurrentVisitorsResponse{Visitors: vs, Total: len(vs)}, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "checkout-visitor", Method: http.MethodPatch, Path: "/access-logs/{logId}/checkout", Tags: []string{"Access logs"}, Summary: "Checkout visitor",
		Description: "Closes a visit, now or at `checked_out_at` (not before the check-in, not in the future); 409 if already checked out.",
		Metadata:    httpapi.Scope(write), Errors: []int{bad, missing, conflict, large},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *checkoutInput) (*logOutput, error) {
		var req access.CheckoutRequest
		if in.Body != nil {
			req = *in.Body
		}
		return logResult(svc.Checkout(ctx, tenant, in.LogID, req))
	})))
}
