package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/sety-io/sety/internal/pgtest"
)

// startPostgres starts a throwaway PostgreSQL cluster with PostgreSQL's
// durability settings (fsync and synchronous_commit on, as a deployment
// runs it) for the server, and returns its URL and how to stop it.
func startPostgres() (url string, stop func() error, err error) {
	c, err := pgtest.StartCluster(pgtest.Options{Durable: true})
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: start a cluster: %w", err)
	}
	return c.URL("postgres"), c.Stop, nil
}

// storageOf reads the server's storage from its environment (the last
// value of a variable wins, as for the server): a PostgreSQL URL, or a
// SQLite file; memory means neither.
func storageOf(env []string) (dbPath, dbURL string) {
	memory := false
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "SETY_DB":
			dbPath = v
		case "SETY_DATABASE_URL":
			dbURL = v
		case "SETY_MEMORY":
			memory = v != "" && v != "0" && v != "false"
		}
	}
	switch {
	case dbURL != "":
		return "", dbURL
	case memory:
		return "", ""
	}
	return dbPath, ""
}

// databaseSize returns a function that measures the server's database: a
// SQLite file with its write-ahead log, or a PostgreSQL database
// (pg_database_size). nil when there is none (memory).
func databaseSize(dbPath, dbURL string) func(ctx context.Context) (int64, error) {
	switch {
	case dbURL != "":
		return func(ctx context.Context) (int64, error) {
			conn, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				return 0, err
			}
			defer conn.Close(ctx)
			var n int64
			err = conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
			return n, err
		}
	case dbPath != "":
		return func(context.Context) (int64, error) { return sqliteSize(dbPath) }
	}
	return nil
}

// sqliteSize is the size of a SQLite database file plus its write-ahead
// log, which holds committed pages until a checkpoint copies them back.
func sqliteSize(path string) (int64, error) {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}
