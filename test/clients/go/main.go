// Checks the query endpoint the way Grafana's ClickHouse data source reaches it: clickhouse-go v2 over
// HTTP with gzip, 10 s dial and 60 s read timeouts (its connect runs the driver's hello query), then
// Ping, SHOW DATABASES, SHOW TABLES, DESC TABLE, system.columns, a time series with GROUP BY, and
// SELECT * over every table. Prints one JSON object per step; exits 1 at the first failure.
//
//	go run . <host:port> <user> <password>
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

type step struct {
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Columns int    `json:"columns"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: clients-go <host:port> <user> <password>")
		os.Exit(2)
	}
	db := clickhouse.OpenDB(&clickhouse.Options{
		Addr:        []string{os.Args[1]},
		Protocol:    clickhouse.HTTP,
		Auth:        clickhouse.Auth{Database: "default", Username: os.Args[2], Password: os.Args[3]},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		DialTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second,
		Settings:    clickhouse.Settings{"max_execution_time": 60},
	})
	defer db.Close()
	ctx := context.Background()
	report(step{Name: "ping"}, db.PingContext(ctx))
	for _, q := range []struct{ name, sql string }{
		{"hello", "SELECT displayName(), version(), revision(), timezone()"},
		{"show databases", "SHOW DATABASES"},
		{"show tables", "SHOW TABLES"},
		{"desc table", "DESC TABLE requests"},
		{"system.columns", "SELECT database, table, name, type FROM system.columns WHERE database = currentDatabase() ORDER BY table, position"},
		{"time series", "SELECT toStartOfMinute(ts) AS time, service, count() AS requests, avg(latency_ms) AS latency FROM requests GROUP BY time, service ORDER BY time"},
		{"select * from requests", "SELECT * FROM requests"},
		{"select * from dead_letters", "SELECT * FROM dead_letters"},
		{"select * from tributary_migrations", "SELECT * FROM tributary_migrations"},
	} {
		rows, columns, err := scanAll(ctx, db, q.sql)
		report(step{Name: q.name, Rows: rows, Columns: columns}, err)
	}
}

// scanAll reads every value into the Go type the driver reports for its column.
func scanAll(ctx context.Context, db *sql.DB, query string) (int, int, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, 0, err
	}
	count := 0
	for rows.Next() {
		values := make([]any, len(types))
		for i, t := range types {
			values[i] = reflect.New(t.ScanType()).Interface()
		}
		if err := rows.Scan(values...); err != nil {
			return count, len(types), err
		}
		count++
	}
	return count, len(types), rows.Err()
}

func report(s step, err error) {
	if err != nil {
		s.Error = err.Error()
	}
	line, _ := json.Marshal(s)
	fmt.Println(string(line))
	if err != nil {
		os.Exit(1)
	}
}
