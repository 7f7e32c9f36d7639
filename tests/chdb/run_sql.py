#!/usr/bin/env python3
"""Runs SQL statements on chdb (a current ClickHouse engine in-process) for
crates/chstore/tests/modern_sql.rs.

Reads a JSON list of {"sql": ..., "format": ...} from stdin, runs them in
order in one session (a temporary directory), and prints a JSON list of
{"ok": base64 of the answer} or {"error": message}, one per statement.
"""

import base64
import json
import sys
import tempfile

from chdb import session


def main():
    statements = json.load(sys.stdin)
    out = []
    with tempfile.TemporaryDirectory() as path:
        sess = session.Session(path)
        for item in statements:
            try:
                result = sess.query(item["sql"], item.get("format", "TSV"))
                data = result.bytes() if hasattr(result, "bytes") else bytes(result)
                out.append({"ok": base64.b64encode(data).decode()})
            except Exception as e:  # chdb raises its own error types
                out.append({"error": str(e)})
        sess.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
