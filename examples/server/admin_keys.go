package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/setyerr"
)

// keysCreate issues a key, printed alone on stdout, once.
func keysCreate(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("keys create")
	org := fs.String("org", "", "the organization's id, org_... (orgs list shows them)")
	env := fs.String("env", "", "the key's environment: live or test")
	scopes := fs.String("scopes", "", "what the key may do, comma-separated: "+scopeList())
	name := fs.String("name", "", "your name for the key, 1 to 100 characters")
	if _, err := c.parse(fs, st, args, nil, "org", "env", "scopes", "name"); err != nil {
		return err
	}
	environment, err := parseEnv(*env)
	if err != nil {
		return err
	}
	granted, err := parseScopes(*scopes)
	if err != nil {
		return err
	}
	s, done, err := c.open(ctx, *st, false)
	if err != nil {
		return err
	}
	defer done()
	o, err := organization(ctx, s, *org)
	if err != nil {
		return err
	}
	key, secret, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: o.ID, Env: environment}, auth.KeySpec{Name: *name, Scopes: granted})
	if err != nil {
		return invalid(err, map[string]string{"name": "name", "scopes": "scopes"})
	}
	fmt.Fprintf(c.stderr, "Created API key %s %q (%s) of %s %q, with scopes %s. The key is shown only this once:\n",
		key.ID, key.Name, key.Environment, o.ID, o.Name, joinScopes(key.Scopes))
	fmt.Fprintln(c.stdout, secret)
	if o.Status != auth.Active {
		fmt.Fprintf(c.stderr, "Note: %s is %s: its keys answer 402 until `server orgs resume %s`.\n", o.ID, o.Status, o.ID)
	}
	return nil
}

// keysList lists keys, newest first within each organization and
// environment, organizations oldest first.
func keysList(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("keys list")
	org := fs.String("org", "", "only this organization's keys")
	env := fs.String("env", "", "only this environment's keys: live or test")
	if _, err := c.parse(fs, st, args, nil); err != nil {
		return err
	}
	envs := []auth.Environment{auth.Live, auth.Test}
	if *env != "" {
		e, err := parseEnv(*env)
		if err != nil {
			return err
		}
		envs = []auth.Environment{e}
	}
	s, done, err := c.open(ctx, *st, false)
	if err != nil {
		return err
	}
	defer done()
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "KEY_ID\tORG_ID\tENV\tNAME\tPREFIX\tSCOPES\tCREATED\tLAST_USED\tSTATE")
	list := func(o *auth.Organization) error {
		for _, e := range envs {
			err := pages(func(offset, limit int) ([]*auth.APIKey, int, error) {
				return s.Auth.Keys(ctx, auth.Tenant{OrgID: o.ID, Env: e}, offset, limit)
			}, func(k *auth.APIKey) error {
				_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.OrgID, k.Environment, shown(k.Name), k.Prefix,
					joinScopes(k.Scopes), when(k.CreatedAt.Time), when(k.LastUsedAt.Time), keyState(k, time.Now()))
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	if *org != "" {
		var o *auth.Organization
		if o, err = organization(ctx, s, *org); err == nil {
			err = list(o)
		}
	} else {
		err = pages(func(offset, limit int) ([]*auth.Organization, int, error) {
			return s.Auth.Organizations(ctx, offset, limit)
		}, list)
	}
	if err != nil {
		return err
	}
	return w.Flush()
}

// keysRevoke revokes a key of whichever organization.
func keysRevoke(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("keys revoke")
	got, err := c.parse(fs, st, args, []string{"KEY_ID"})
	if err != nil {
		return err
	}
	s, done, err := c.open(ctx, *st, false)
	if err != nil {
		return err
	}
	defer done()
	k, err := s.Auth.Key(ctx, got[0])
	if setyerr.Is(err, setyerr.NotFound) {
		return fmt.Errorf("no API key %s (keys list shows them)", got[0])
	}
	if err != nil {
		return err
	}
	already := !k.RevokedAt.IsZero()
	// Revoking again is not skipped: it ends whatever session of the key
	// is still running (one started through a server that had not yet
	// heard of the first revocation).
	if k, err = s.Auth.RevokeKey(ctx, k.Tenant(), k.ID); err != nil {
		return err
	}
	if already {
		fmt.Fprintf(c.stdout, "%s %q was revoked already, at %s; its console sessions are ended too.\n", k.ID, k.Name, when(k.RevokedAt.Time))
		return nil
	}
	fmt.Fprintf(c.stdout, "Revoked %s %q, %s key of %s, at %s, and the console sessions started with it. "+
		"Servers sharing the database refuse them within their -key-cache-ttl (10 s by default).\n",
		k.ID, k.Name, k.Environment, k.OrgID, when(k.RevokedAt.Time))
	return nil
}

// organization reads the organization id, or says how to find one.
func organization(ctx context.Context, s *sety.Sety, id string) (*auth.Organization, error) {
	o, err := s.Auth.Organization(ctx, id)
	if setyerr.Is(err, setyerr.NotFound) {
		return nil, fmt.Errorf("no organization %s (orgs list shows them)", id)
	}
	return o, err
}

// pages calls each with every item of a paged list, a page at a time,
// until an error.
func pages[T any](page func(offset, limit int) ([]T, int, error), each func(T) error) error {
	const limit = 100
	for offset := 0; ; offset += limit {
		items, total, err := page(offset, limit)
		if err != nil {
			return err
		}
		for _, item := range items {
			if err := each(item); err != nil {
				return err
			}
		}
		if len(items) < limit || offset+limit >= total {
			return nil
		}
	}
}

func parseEnv(v string) (auth.Environment, error) {
	if e := auth.Environment(v); e.Valid() {
		return e, nil
	}
	return "", usageErrorf("--env must be live or test, not %q", v)
}

// parseScopes reads a comma-separated list of the auth package's scopes,
// each once.
func parseScopes(v string) ([]auth.Scope, error) {
	var out []auth.Scope
	for _, s := range strings.Split(v, ",") {
		sc := auth.Scope(strings.TrimSpace(s))
		if !sc.Valid() {
			return nil, usageErrorf("--scopes: unknown scope %q; the scopes are %s", sc, scopeList())
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// scopeList is every scope a key may hold, as the auth package lists them.
func scopeList() string { return joinScopes(auth.Scopes) + " (* is every one; quote it in a shell)" }

func joinScopes(scopes []auth.Scope) string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return strings.Join(out, ",")
}

// when is a time as the listings show it: UTC to the second; "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// keyState is whether a key works at now: active, revoked or expired.
func keyState(k *auth.APIKey, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt.Time):
		return "expired"
	}
	return "active"
}
