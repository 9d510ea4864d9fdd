package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
)

// SelectCode is the select of access codes both adapters read; each scans
// its time columns into its own type.
const SelectCode = `SELECT id, org_id, environment, hash, code_hint, site, doc, valid_from, valid_until, max_uses, uses, sequence, created_at, revoked_at FROM access_codes`

// codeDoc is the part of an access code kept as JSON (its doc column):
// never filtered on.
type codeDoc struct {
	Visitor access.Visitor `json:"visitor"`
	Host    access.Host    `json:"host"`
	Purpose *string        `json:"purpose"`
}

// EncodeCodeDoc returns the doc column of c.
func EncodeCodeDoc(c *access.AccessCode) (string, error) {
	doc, err := json.Marshal(codeDoc{c.Visitor, c.Host, c.Purpose})
	return string(doc), err
}

// DecodeCodeDoc sets the fields of c that its doc column holds.
func DecodeCodeDoc(c *access.AccessCode, doc string) error {
	var d codeDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return fmt.Errorf("decode access code %s: %w", c.ID, err)
	}
	c.Visitor, c.Host, c.Purpose = d.Visitor, d.Host, d.Purpose
	return nil
}

// SelectLog is the select of access logs both adapters read: the log is
// its JSON document, with the identity the columns carry.
const SelectLog = `SELECT id, org_id, environment, sequence, doc FROM access_logs`

// ScanAccessLog reads and decodes one access log row (SelectLog's columns).
func ScanAccessLog(row RowScanner) (*access.AccessLog, error) {
	var (
		l                 access.AccessLog
		id, org, env, doc string
		seq               int64
	)
	if err := row.Scan(&id, &org, &env, &seq, &doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &l); err != nil {
		return nil, fmt.Errorf("decode access log %s: %w", id, err)
	}
	l.ID, l.OrgID, l.Environment, l.Sequence = id, org, auth.Environment(env), seq
	return &l, nil
}

// AccessSearch is what the access log search filter matches (the search
// column), lower-cased: the visitor's name, phone and plate, the host's
// name and unit, and the purpose.
func AccessSearch(l *access.AccessLog) string {
	parts := []string{l.Visitor.Name}
	for _, p := range []*string{l.Visitor.Phone, l.Visitor.VehiclePlate, l.Host.Name, l.Host.Unit, l.Purpose} {
		if p != nil {
			parts = append(parts, *p)
		}
	}
	return strings.ToLower(strings.Join(parts, "\x1f"))
}
