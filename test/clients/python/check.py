"""Checks the query endpoint with clickhouse-connect, as a Python user would: connect (the client's own
probes), SHOW TABLES, a GROUP BY, SELECT * over every table, a bound parameter. One JSON line per
step; exits 1 at the first failure.

    python check.py <host> <port> <user> <password>
"""
import json
import sys

import clickhouse_connect


def main() -> None:
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    client = clickhouse_connect.get_client(
        host=host, port=port, username=user, password=password, compress=True
    )
    report("connect", 1, client.server_version)
    steps = [
        ("show tables", "SHOW TABLES", None),
        ("group by", "SELECT service, count() AS n FROM requests GROUP BY service ORDER BY service", None),
        ("select * from requests", "SELECT * FROM requests", None),
        ("select * from dead_letters", "SELECT * FROM dead_letters", None),
        ("bound parameter", "SELECT {n:UInt32} + 1 AS x", {"n": 41}),
    ]
    for name, sql, parameters in steps:
        result = client.query(sql, parameters=parameters)
        report(name, len(result.result_rows), [list(map(str, row)) for row in result.result_rows[:2]])
    client.close()


def report(name: str, rows: int, sample: object) -> None:
    print(json.dumps({"name": name, "rows": rows, "sample": sample}, default=str))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the test reads the reason from this line
        print(json.dumps({"name": "failed", "error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
