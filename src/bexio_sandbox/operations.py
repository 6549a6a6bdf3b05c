"""The operations bexio documents (data/operations.json, 310) and how the sandbox answers each.

A documented operation is either routed to a handler here (implemented) or answers
`501 {"error_code": 501, "message": "... <operation id> ..."}`, for 2.0, 3.0 and 4.0 alike, so a
client sees at once that the stand-in lacks it instead of mistaking it for a missing object. A path
bexio does not document answers 404 "Page not found", as bexio does; so does a documented,
implemented route whose ids do not fit (`/2.0/contact/abc`).

A `{kb_document_type}` operation is checked for kb_offer, kb_order and kb_invoice: it counts as
implemented only when all three are routed (`expanded` counts it once per type), and a type that is
not routed answers 501 on its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

OPERATIONS_FILE = Path(__file__).parent / "data" / "operations.json"
DOCUMENT_TYPES = ("kb_offer", "kb_order", "kb_invoice")
UNIMPLEMENTED_ENDPOINT = "unimplemented"


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str  # bexio's template, e.g. /2.0/contact/{contact_id}
    tag: str

    @cached_property
    def pattern(self) -> re.Pattern:
        parts = re.split(r"(\{[^}]+\})", self.path)
        regex = "".join(
            ("(?:" + "|".join(DOCUMENT_TYPES) + ")" if p == "{kb_document_type}" else "[^/]+")
            if p.startswith("{")
            else re.escape(p)
            for p in parts
        )
        return re.compile("^" + regex + "/?$")

    @property
    def placeholders(self) -> int:
        return self.path.count("{")

    def concrete_paths(self) -> list[tuple[str | None, str]]:
        """(document type or None, path with ids filled in) to probe the routing with."""
        types = DOCUMENT_TYPES if "{kb_document_type}" in self.path else (None,)
        out = []
        for doc_type in types:
            path = self.path.replace("{kb_document_type}", doc_type) if doc_type else self.path
            out.append((doc_type, re.sub(r"\{[^}]+\}", "1", path)))
        return out


def load() -> list[Operation]:
    return [
        Operation(o["id"], o["method"], o["path"], o["tag"]) for o in json.loads(OPERATIONS_FILE.read_text())
    ]


class Operations:
    """The documented operations against one app's routes (built once, after all routes exist)."""

    def __init__(self, url_map: Map):
        self.all = load()
        adapter = url_map.bind("localhost")
        self._routed: dict[tuple[str, str | None], bool] = {}
        for op in self.all:
            for doc_type, path in op.concrete_paths():
                self._routed[(op.id, doc_type)] = _routed(adapter, op.method, path)
        # literal paths before templated ones: POST /2.0/contact/search is not an edit of contact "search"
        self._by_method: dict[str, list[Operation]] = {}
        for op in sorted(self.all, key=lambda o: o.placeholders):
            self._by_method.setdefault(op.method, []).append(op)

    def implemented(self, op: Operation) -> bool:
        return all(self._routed[(op.id, t)] for t, _ in op.concrete_paths())

    def documented(self, method: str, path: str) -> Operation | None:
        """The documented operation a request names (None: bexio documents no such route)."""
        for op in self._by_method.get(method, ()):
            if op.pattern.match(path):
                return op
        return None

    def unimplemented(self, method: str, path: str) -> Operation | None:
        """The documented operation behind an unrouted request when the sandbox lacks it (-> 501)."""
        op = self.documented(method, path)
        if op is None:
            return None
        doc_type = next((t for t in DOCUMENT_TYPES if f"/{t}/" in path), None)
        key = (op.id, doc_type if "{kb_document_type}" in op.path else None)
        return None if self._routed.get(key, True) else op

    def coverage(self) -> dict:
        implemented, missing = [], []
        expanded = {"total": 0, "implemented": 0}
        for op in self.all:
            entry = {"id": op.id, "method": op.method, "path": op.path, "tag": op.tag}
            probes = op.concrete_paths()
            routed = [t for t, _ in probes if self._routed[(op.id, t)]]
            if probes[0][0] is not None:
                entry["document_types"] = routed
            expanded["total"] += len(probes)
            expanded["implemented"] += len(routed)
            if len(routed) == len(probes):
                implemented.append({**entry, "answer": "implemented"})
            else:
                missing.append({**entry, "answer": 501})
        return {
            "total": len(self.all),
            "implemented": len(implemented),
            "not_implemented": len(missing),
            "expanded": expanded,
            "operations": implemented,
            "missing": missing,
        }


def _routed(adapter, method: str, path: str) -> bool:
    try:
        endpoint, _ = adapter.match(path, method=method)
    except HTTPException:  # NotFound, MethodNotAllowed (RequestRedirect is one too)
        return False
    return endpoint != UNIMPLEMENTED_ENDPOINT


def not_implemented_message(op: Operation) -> str:
    return (
        f"Not implemented in bexio-sandbox: {op.id} ({op.method} {op.path}). bexio documents this "
        "operation; the local stand-in does not emulate it."
    )
