package access_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/clock"
)

// BenchmarkValidate measures code validation on SQLite (synchronous=FULL,
// the production setting): a check-in (counts the use, opens the visit,
// writes its event) and a check only.
//
//	go test ./access -run '^$' -bench Validate -benchtime 2000x
func BenchmarkValidate(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sety.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	f := newFixture(b, db)
	_, digits, err := f.s.Access.CreateCode(f.ctx, f.tenant, access.CreateCodeRequest{
		Site: "lekki-gardens", Visitor: access.Visitor{Name: "Tolu"}, ValidUntil: clock.At(t0.Add(300 * 24 * time.Hour)),
	})
	if err != nil {
		b.Fatal(err)
	}
	no := false
	for _, c := range []struct {
		name    string
		checkIn *bool
	}{{"check-in", nil}, {"check-only", &no}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := f.s.Access.Validate(f.ctx, f.tenant, access.ValidateRequest{Code: digits, Site: "lekki-gardens", CheckIn: c.checkIn})
				if err != nil || !res.Valid {
					b.Fatal(res, err)
				}
			}
		})
	}
}
