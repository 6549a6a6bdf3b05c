"""Position routes: `/2.0/{kb_document_type}/{id}/kb_position_{kind}[/{pid}]` (list, show,
create 201, edit, delete) for quotes, orders and invoices; changes only while the document is
editable (7, 1, 5)."""

from __future__ import annotations

from flask import Blueprint

from .context import store
from .decimals import shortest
from .doctypes import POSITION_DOCS, POSITION_TYPES, TYPES
from .documents import load, require, save
from .listing import paginate
from .positions import add_position, build_position, number_positions, render_position
from .responses import json_body, not_found, respond, success

bp = Blueprint("positions", __name__)


DOC_RULE = "/2.0/<any(" + ",".join(POSITION_DOCS) + "):doctype>/<int:id_>/kb_position_<kind>"


def _ptype(kind: str) -> str:
    if kind not in POSITION_TYPES:
        raise not_found()
    return POSITION_TYPES[kind]


def _find_position(inv: dict, ptype: str, pid: int) -> dict:
    for p in inv["positions"]:
        if p["type"] == ptype and p["id"] == pid:
            return p
    raise not_found()


def _editable(doctype: str, id_) -> dict:
    inv = load(id_, doctype)
    dt = TYPES[doctype]
    require(inv, dt.editable, "changed", dt)
    return inv


@bp.get(DOC_RULE)
def position_list(doctype, id_, kind):
    ptype = _ptype(kind)
    inv = load(id_, doctype)
    return respond(paginate([render_position(p, "read") for p in inv["positions"] if p["type"] == ptype]))


@bp.get(DOC_RULE + "/<int:pid>")
def position_show(doctype, id_, kind, pid):
    return respond(render_position(_find_position(load(id_, doctype), _ptype(kind), pid), "read"))


@bp.post(DOC_RULE)
def position_create(doctype, id_, kind):
    ptype = _ptype(kind)
    data = json_body()
    with store().tx():
        inv = _editable(doctype, id_)
        p = add_position(inv, build_position(data, ptype, inv))
        save(inv, doctype)
    return respond(render_position(p, "create"), 201)


@bp.post(DOC_RULE + "/<int:pid>")
def position_edit(doctype, id_, kind, pid):
    ptype = _ptype(kind)
    data = json_body()
    with store().tx():
        inv = _editable(doctype, id_)
        old = _find_position(inv, ptype, pid)
        new = build_position(data, ptype, inv, existing=old)
        for key in ("amount", "unit_price", "discount_in_percent", "value"):
            if key not in new["_raw"] and key in new:
                new["_raw"][key] = shortest(new[key])
        inv["positions"][inv["positions"].index(old)] = new
        number_positions(inv)
        save(inv, doctype)
    return respond(render_position(new, "edit"))


@bp.delete(DOC_RULE + "/<int:pid>")
def position_delete(doctype, id_, kind, pid):
    ptype = _ptype(kind)
    with store().tx():
        inv = _editable(doctype, id_)
        inv["positions"].remove(_find_position(inv, ptype, pid))
        number_positions(inv)
        save(inv, doctype)
    return success()
