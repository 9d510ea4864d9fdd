package sqlstore

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migration is one embedded migration file, migrations/NNNN_what.sql.
type Migration struct {
	Version int    // NNNN
	Name    string // the file's base name, as schema_migrations records it
	SQL     string // the file's statements
}

// Migrations lists the migrations of fsys (migrations/*.sql) in the order
// they apply: by file name, which starts with the zero-padded version.
// Applying them stays with each adapter: its transactions and its lock.
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s has no numeric version", base)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: base, SQL: string(body)})
	}
	return out, nil
}
