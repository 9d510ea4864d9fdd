package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// groupsOf sums, over the bench/baseline servers at targets, the commits
// each has made and the creates they carried (its GET /debug/groups).
func groupsOf(ctx context.Context, targets []string) (groups, creates int64, err error) {
	for _, t := range targets {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t+"/debug/groups", nil)
		if err != nil {
			return 0, 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		var g struct{ Groups, Creates int64 }
		err = json.NewDecoder(resp.Body).Decode(&g)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("%s/debug/groups: %s (%v)", t, resp.Status, err)
		}
		groups, creates = groups+g.Groups, creates+g.Creates
	}
	return groups, creates, nil
}
