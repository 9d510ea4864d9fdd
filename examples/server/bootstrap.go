package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/auth"
)

// bootstrap makes an empty database usable: one organization on the
// enterprise plan with a live and a test key holding every scope. The keys
// are printed once, to stdout, never to the logs. Keys given in the
// configuration are used instead of random ones, so scripts know them.
func bootstrap(ctx context.Context, s *sety.Sety, cfg config, stdout io.Writer, log *slog.Logger) error {
	n, err := s.Auth.CountOrganizations(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if cfg.bootstrapLive != "" || cfg.bootstrapTest != "" {
			log.Warn("the database already has an organization: the bootstrap keys are ignored (they only seed an empty database)")
		}
		return nil
	}
	// Check fixed keys before writing anything: a bad key must not leave an
	// organization without keys behind.
	for env, fixed := range map[auth.Environment]string{auth.Live: cfg.bootstrapLive, auth.Test: cfg.bootstrapTest} {
		if fixed != "" {
			if err := auth.CheckKeyFormat(env, fixed); err != nil {
				return fmt.Errorf("bootstrap %s key: %w", env, err)
			}
		}
	}
	org, err := s.Auth.CreateOrganization(ctx, "Sety sandbox", auth.Plan(cfg.plan))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created organization %s (%s). Its API keys, shown only this once:\n", org.ID, org.Plan)
	for _, k := range []struct {
		env   auth.Environment
		fixed string
	}{{auth.Live, cfg.bootstrapLive}, {auth.Test, cfg.bootstrapTest}} {
		tenant := auth.Tenant{OrgID: org.ID, Env: k.env}
		spec := auth.KeySpec{Name: "bootstrap " + string(k.env) + " key", Scopes: []auth.Scope{auth.All}}
		secret := k.fixed
		if secret == "" {
			_, secret, err = s.Auth.IssueKey(ctx, tenant, spec)
		} else {
			_, err = s.Auth.ImportKey(ctx, tenant, spec, secret)
		}
		if err != nil {
			return fmt.Errorf("%s key: %w", k.env, err)
		}
		fmt.Fprintf(stdout, "  %-4s %s\n", k.env, secret)
	}
	return nil
}
