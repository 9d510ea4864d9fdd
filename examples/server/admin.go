package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/setyerr"
)

// The server binary also administers its storage: its commands work on the
// storage settings of the server (-db, -database-url and their SETY_
// twins), beside running servers or without one. serve, the server, is the
// default command.

// A command is one of the binary's commands.
type command struct {
	name    string // "keys create"
	args    string // what follows the name, for its usage line
	summary string // one line, for the list of commands
	help    string // more, for its -h; "" for none
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands lists the binary's commands, serve first. (A function, not a
// variable: the commands' own usage lists them.)
func commands() []command {
	return []command{
		{name: "serve", args: "[flags]", summary: "run the API server (the default command)"},
		{name: "keys create", args: "--org ORG --env live|test --scopes SCOPE,... --name NAME", run: keysCreate,
			summary: "issue an API key and print it, once",
			help:    "Prints the key alone on stdout, so a script can keep it: KEY=$(server keys create ...)."},
		{name: "keys list", args: "[--org ORG] [--env live|test]", run: keysList, summary: "list API keys, of every organization by default"},
		{name: "keys revoke", args: "KEY_ID", run: keysRevoke, summary: "revoke an API key",
			help: "Servers sharing the database refuse the key within their -key-cache-ttl (10 s by default)."},
		{name: "orgs create", args: "--name NAME --plan starter|growth|enterprise", run: orgsCreate,
			summary: "create an organization and print its id and a first key, once",
			help:    "Prints the organization's id and its key on one line of stdout: read -r ORG KEY < <(server orgs create ...)."},
		{name: "orgs list", args: "", run: orgsList, summary: "list the organizations"},
		{name: "orgs suspend", args: "ORG_ID", run: orgsSuspend, summary: "suspend an organization: its keys answer 402",
			help: "Servers sharing the database refuse its keys within their -key-cache-ttl (10 s by default)."},
		{name: "orgs resume", args: "ORG_ID", run: orgsResume, summary: "lift a suspension"},
		{name: "migrate", args: "", run: migrate, summary: "create the database if need be, apply pending migrations, and exit",
			help: "Servers migrate when they start anyway; this is for a deployment step that migrates first."},
		{name: "backup", args: "FILE", run: backup, summary: "copy the SQLite database, while servers use it, to a new FILE",
			help: "The copy is consistent (VACUUM INTO: every write committed before the backup began, none half) and a complete database: " +
				"start a server on it with -db FILE. FILE must not exist. PostgreSQL databases are backed up with pg_dump."},
	}
}

// commandNames lists the commands' names, for error messages.
func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// cli is what every command writes to and reads its environment from.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// dispatch runs the command args name: serve when they name none (they are
// empty or start with a flag).
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return run(ctx, args, getenv, stdout, stderr, nil)
	}
	if args[0] == "serve" {
		return run(ctx, args[1:], getenv, stdout, stderr, nil)
	}
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		if cmd.run != nil && len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return cmd.run(ctx, c, args[len(words):])
		}
	}
	if args[0] == "help" {
		listCommands(stderr)
		return nil
	}
	return usageErrorf("unknown command %q: the commands are %s; add -h to one for its flags",
		strings.Join(args[:min(2, len(args))], " "), commandNames())
}

// listCommands writes the list of commands.
func listCommands(w io.Writer) {
	fmt.Fprintf(w, "Commands (the storage flags -db and -database-url, and their SETY_ twins, choose the database):\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
}

// serveUsage is the -h of serve, the default command.
func serveUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: server [serve] [flags]\n       server COMMAND [flags] [arguments]\n\n")
	listCommands(w)
	fmt.Fprintf(w, "\nFlags of serve (each has a SETY_ environment twin: -addr is SETY_ADDR; a flag wins over the environment):\n")
	fs.PrintDefaults()
}

// A usageError is bad input on the command line (a flag, an argument): the
// process exits with status 2, not 1.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usageErrorf(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode writes err to stderr and returns the exit status it means: 0
// for none or a request for help, 2 for bad input on the command line, 1
// for a failure (an unknown id, an existing file, storage that does not
// answer, a port in use).
func exitCode(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "sety:", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// flags returns the flag set of the command named name, with the storage
// flags, and the storage they fill.
func (c *cli) flags(name string) (*flag.FlagSet, *storage) {
	var cmd command
	for _, cmd = range commands() {
		if cmd.name == name {
			break
		}
	}
	fs := flag.NewFlagSet("server "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	st := &storage{}
	st.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: server %s %s\n\n%s.", name, cmd.args, upperFirst(cmd.summary))
		if cmd.help != "" {
			fmt.Fprintf(c.stderr, " %s", cmd.help)
		}
		fmt.Fprintf(c.stderr, "\n\nFlags (-db and -database-url fall back on SETY_DB and SETY_DATABASE_URL; -flag and --flag are one):\n")
		fs.PrintDefaults()
	}
	return fs, st
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parse reads args into fs, flags and arguments in any order, and the
// storage's environment twins; it checks that want arguments came (named
// as in the usage line), that the flags named required are set, and the
// storage: an admin command refuses -memory. It returns the arguments.
func (c *cli) parse(fs *flag.FlagSet, st *storage, args []string, want []string, required ...string) ([]string, error) {
	var got []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		got, args = append(got, fs.Arg(0)), fs.Args()[1:]
	}
	if len(got) != len(want) {
		if len(want) == 0 {
			return nil, usageErrorf("%s takes no arguments, got %q", fs.Name(), got)
		}
		return nil, usageErrorf("%s takes %s, got %d arguments %q", fs.Name(), strings.Join(want, " "), len(got), got)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range required {
		if !set[name] {
			return nil, usageErrorf("%s needs --%s (-h lists its flags)", fs.Name(), name)
		}
	}
	if err := applyEnv(fs, c.getenv, storageFlags...); err != nil {
		return nil, err
	}
	if st.memory {
		return nil, usageErrorf("-memory (or SETY_MEMORY): a memory store lives and dies with its server, there is nothing to administer; " +
			"name the database with -db or -database-url")
	}
	return got, st.check()
}

// open opens the storage st names and Sety over it. A SQLite database must
// exist already unless create (migrate makes one): a typo in -db must not
// leave an empty database behind. close closes it.
func (c *cli) open(ctx context.Context, st storage, create bool) (s *sety.Sety, close func(), err error) {
	if err := st.mustExist(create); err != nil {
		return nil, nil, err
	}
	stores, closeStores, err := openStores(ctx, config{storage: st})
	if err != nil {
		return nil, nil, err
	}
	if s, err = sety.New(stores, sety.WithRateLimiter(nil)); err != nil {
		closeStores()
		return nil, nil, err
	}
	return s, closeStores, nil
}

// mustExist reports a SQLite database that does not exist, unless create.
func (st storage) mustExist(create bool) error {
	if st.databaseURL != "" || create {
		return nil
	}
	if _, err := os.Stat(st.dbPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s (-db, SETY_DB): a server creates it when it first starts, or run: server migrate -db %s", st.dbPath, st.dbPath)
	}
	return nil
}

// invalid turns a service's Invalid error, whose message begins with the
// input at fault, into bad input naming its flag; other errors pass.
func invalid(err error, flags map[string]string) error {
	var e *setyerr.Error
	if !errors.As(err, &e) || e.Kind != setyerr.Invalid {
		return err
	}
	if flag, ok := flags[e.Field]; ok {
		return usageErrorf("--%s%s", flag, strings.TrimPrefix(e.Message, e.Field))
	}
	return usageError{err}
}

// shown is s as a terminal may show it: as it is when every character
// prints, else quoted with Go's escapes. Names come from tenants (through
// the API), and a name must not move the cursor or recolour the terminal
// of the operator who lists it.
func shown(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
