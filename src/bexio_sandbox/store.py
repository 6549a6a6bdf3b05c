"""Small JSON-document storage on sqlite3 (file or :memory:), one lock, one connection."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL, company TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, company, id));
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Documents keyed by (kind, company, id); counters and settings in `kv`.

    Every access goes through `tx()`, which holds one re-entrant lock and one sqlite transaction, so
    a request's writes are committed together (the "after_commit" fault relies on it).
    """

    def __init__(self, path: str = ":memory:"):
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.executescript(SCHEMA)
        self._depth = 0

    @contextmanager
    def tx(self):
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    # documents -------------------------------------------------------------------------------
    def get(self, kind: str, company: str, id_) -> dict | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT body FROM docs WHERE kind=? AND company=? AND id=?", (kind, company, str(id_))
            ).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str, company: str) -> list[dict]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT body FROM docs WHERE kind=? AND company=?", (kind, company)
            ).fetchall()
        docs = [json.loads(r[0]) for r in rows]
        docs.sort(key=lambda d: (d.get("id") if isinstance(d.get("id"), int) else 0, str(d.get("id"))))
        return docs

    def put(self, kind: str, company: str, id_, doc: dict) -> dict:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO docs (kind, company, id, body) VALUES (?, ?, ?, ?)",
                (kind, company, str(id_), json.dumps(doc, ensure_ascii=False)),
            )
        return doc

    def delete(self, kind: str, company: str, id_) -> bool:
        with self.lock:
            cur = self.conn.execute(
                "DELETE FROM docs WHERE kind=? AND company=? AND id=?", (kind, company, str(id_))
            )
        return cur.rowcount > 0

    # counters and values ---------------------------------------------------------------------
    def kv_get(self, key: str, default=None):
        with self.lock:
            row = self.conn.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def kv_set(self, key: str, value) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, json.dumps(value))
            )

    def next_id(self, kind: str, company: str, start: int = 1) -> int:
        with self.lock:
            key = f"seq:{kind}:{company}"
            value = max(int(self.kv_get(key, start - 1)) + 1, start)
            self.kv_set(key, value)
            return value

    def is_empty(self) -> bool:
        with self.lock:
            return self.conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 0

    def wipe(self, keep_keys: tuple[str, ...] = ()) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM docs")
            if keep_keys:
                marks = ",".join("?" for _ in keep_keys)
                self.conn.execute(f"DELETE FROM kv WHERE key NOT IN ({marks})", keep_keys)  # noqa: S608
            else:
                self.conn.execute("DELETE FROM kv")
