package sqlstore

// Group is a row of a GROUP BY count: the group's key and how many rows
// it has.
type Group struct {
	Key string
	N   int
}

// ScanGroup scans a Group from its two columns, key then count.
func ScanGroup(row RowScanner) (g Group, err error) { return g, row.Scan(&g.Key, &g.N) }
