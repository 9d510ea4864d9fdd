package sqlstore

import (
	"errors"
	"strings"
)

// Found passes on the result of reading one row, v and err, with a
// missing row (err is noRows, the driver's error for it) turned into
// notFound, the error the port documents.
func Found[T any](v T, err, noRows, notFound error) (T, error) {
	if errors.Is(err, noRows) {
		var zero T
		return zero, notFound
	}
	return v, err
}

// Update is a read-modify-write in one transaction of inTx: get reads the
// value, write changes and stores it, and the value is returned as write
// left it. An error of either ends the transaction and is returned, and
// nothing is written.
func Update[Tx, T any](inTx func(func(Tx) error) error, get func(Tx) (T, error), write func(Tx, T) error) (T, error) {
	var out T
	err := inTx(func(tx Tx) error {
		v, err := get(tx)
		if err != nil {
			return err
		}
		if err := write(tx, v); err != nil {
			return err
		}
		out = v
		return nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Where is the WHERE clause of conds, all of which must hold; "" for none.
func Where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
