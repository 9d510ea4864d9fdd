package pgtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// LinguisticLocale is the locale most PostgreSQL databases are created
// with (Debian's and the official Docker image's default, and the usual
// default of hosted PostgreSQL), where text compares by the locale's rules
// rather than byte by byte: the throwaway cluster's own databases are C.
const LinguisticLocale = "en_US.utf8"

// localeTemplates holds, by locale, the template LocaleURL's databases
// copy: made once, from template0 with the locale, and readied by Main's
// prepare.
var localeTemplates sync.Map // locale → *localeTemplate

type localeTemplate struct {
	once sync.Once
	name string // "" when the server does not have the locale
	err  error
}

// LocaleURL is URL for a database created with locale as its collation
// and character classification (LC_COLLATE, LC_CTYPE): a copy of a
// template made with that locale and readied as URL's template is. It
// skips tb when the server's operating system has no such locale (on
// Debian, `localedef -i en_US -f UTF-8 en_US.UTF-8` makes
// LinguisticLocale; .ci/run does).
func LocaleURL(tb testing.TB, locale string) string {
	tb.Helper()
	started(tb)
	v, _ := localeTemplates.LoadOrStore(locale, &localeTemplate{})
	lt := v.(*localeTemplate)
	lt.once.Do(func() { lt.name, lt.err = makeLocaleTemplate(locale) })
	if lt.err != nil {
		tb.Fatalf("pgtest: template with locale %s: %v", locale, lt.err)
	}
	if lt.name == "" {
		tb.Skipf("pgtest: the PostgreSQL server's system has no locale %s", locale)
	}
	return newDatabase(tb, ` TEMPLATE `+lt.name)
}

// makeLocaleTemplate creates and readies the template of locale's
// databases, returning its name, or "" when the server refuses the
// locale as unknown.
func makeLocaleTemplate(locale string) (string, error) {
	ctx := context.Background()
	name := fmt.Sprintf("%s_template_%s", srv.prefix, strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' { // a name PostgreSQL keeps as written, unquoted
			return r
		}
		return '_'
	}, locale))
	quoted := `'` + strings.ReplaceAll(locale, `'`, `''`) + `'`
	_, err := srv.admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE `+quoted+` LC_CTYPE `+quoted)
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "22023" { // invalid_parameter_value: an unknown locale
		return "", nil
	}
	if err != nil {
		return "", err
	}
	dropLater(name)
	if prepare != nil {
		if err := prepare(ctx, srv.url(name)); err != nil {
			return "", fmt.Errorf("prepare: %w", err)
		}
	}
	return name, nil
}

// templates are the locale templates Main drops on a server of
// SETY_TEST_DATABASE_URL (a throwaway cluster goes whole).
var (
	templatesMu sync.Mutex
	templates   []string
)

func dropLater(name string) {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	templates = append(templates, name)
}

// dropTemplates drops the locale templates made on an existing server.
func dropTemplates(ctx context.Context) {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	for _, name := range templates {
		srv.admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	}
}
