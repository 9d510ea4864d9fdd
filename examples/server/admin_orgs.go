package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/sety-io/sety/auth"
)

// orgsCreate creates an organization with a first key, and prints both on
// one line of stdout: the key is shown this once.
func orgsCreate(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("orgs create")
	name := fs.String("name", "", "the organization's name, 1 to 200 characters")
	plan := fs.String("plan", "", "its plan: starter (60 requests a minute), growth (300) or enterprise (1,000)")
	env := fs.String("env", "live", "the first key's environment: live or test")
	scopes := fs.String("scopes", string(auth.All), "the first key's scopes, comma-separated: "+scopeList())
	keyName := fs.String("key-name", "first key", "the first key's name")
	if _, err := c.parse(fs, st, args, nil, "name", "plan"); err != nil {
		return err
	}
	// Everything is checked before anything is written: a bad key must
	// not leave an organization without one behind.
	if !auth.Plan(*plan).Valid() {
		return usageErrorf("--plan must be starter, growth or enterprise, not %q", *plan)
	}
	environment, err := parseEnv(*env)
	if err != nil {
		return err
	}
	granted, err := parseScopes(*scopes)
	if err != nil {
		return err
	}
	if n := len(*keyName); n == 0 || n > 100 {
		return usageErrorf("--key-name must be 1 to 100 characters")
	}
	s, done, err := c.open(ctx, *st, false)
	if err != nil {
		return err
	}
	defer done()
	o, err := s.Auth.CreateOrganization(ctx, *name, auth.Plan(*plan))
	if err != nil {
		return invalid(err, map[string]string{"name": "name", "plan": "plan"})
	}
	key, secret, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: o.ID, Env: environment}, auth.KeySpec{Name: *keyName, Scopes: granted})
	if err != nil {
		return fmt.Errorf("organization %s was created, but not its key (create one with: server keys create --org %s ...): %w", o.ID, o.ID, err)
	}
	fmt.Fprintf(c.stderr, "Created organization %s %q (%s) and its %s key %s with scopes %s. The id and the key, shown only this once:\n",
		o.ID, o.Name, o.Plan, key.Environment, key.ID, joinScopes(key.Scopes))
	fmt.Fprintln(c.stdout, o.ID, secret)
	return nil
}

// orgsList lists every organization, oldest first.
func orgsList(ctx context.Context, c *cli, args []string) error {
	fs, st := c.flags("orgs list")
	if _, err := c.parse(fs, st, args, nil); err != nil {
		return err
	}
	s, done, err := c.open(ctx, *st, false)
	if err != nil {
		return err
	}
	defer done()
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ORG_ID\tNAME\tPLAN\tSTATUS\tCREATED")
	err = pages(func(offset, limit int) ([]*auth.Organization, int, error) {
		return s.Auth.Organizations(ctx, offset, limit)
	}, func(o *auth.Organization) error {
		_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.ID, shown(o.Name), o.Plan, o.Status, when(o.CreatedAt.Time))
		return err
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

func orgsSuspend(ctx context.Context, c *cli, args []string) error {
	return setOrgStatus(ctx, c, "orgs suspend", args, auth.Suspended,
		"its keys answer 402 (servers sharing the database: within their -key-cache-ttl, 10 s by default)")
}

func orgsResume(ctx context.Context, c *cli, args []string) error {
	return setOrgStatus(ctx, c, "orgs resume", args, auth.Active, "its keys work again")
}

// setOrgStatus suspends or resumes the organization args name.
func setOrgStatus(ctx context.Context, c *cli, name string, args []string, status auth.OrgStatus, effect string) error {
	fs, st := c.flags(name)
	got, err := c.parse(fs, st, args, []string{"ORG_ID"})
	if err != nil {
		return err
	}
	s, done, err := c.open(ctx, *st, false)
	if err != nil {
		return err
	}
	defer done()
	o, err := organization(ctx, s, got[0])
	if err != nil {
		return err
	}
	if o.Status == status {
		fmt.Fprintf(c.stdout, "%s %q is %s already.\n", o.ID, o.Name, status)
		return nil
	}
	if o, err = s.Auth.SetOrganizationStatus(ctx, o.ID, status); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s %q is %s: %s.\n", o.ID, o.Name, o.Status, effect)
	return nil
}
