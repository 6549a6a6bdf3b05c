"""Comments of kb documents: `/2.0/{kb_document_type}/{id}/comment[/{cid}]` (list, show, create 201)."""

from __future__ import annotations

from flask import Blueprint

from .clock import now_v2
from .context import company, store
from .doctypes import POSITION_DOCS
from .documents import load
from .listing import paginate
from .responses import invalid, json_body, not_found, respond

bp = Blueprint("comments", __name__)


# comments: /2.0/{kb_document_type}/{document_id}/comment ----------------------------------------------
COMMENT_RULE = "/2.0/<any(" + ",".join(POSITION_DOCS) + "):doctype>/<int:id_>/comment"


def _comments(doctype: str, id_) -> list[dict]:
    load(id_, doctype)
    key = f"{doctype}:{id_}"
    items = [c for c in store().all("kb_comment", company()) if c.get("_document") == key]
    return sorted(items, key=lambda c: c["id"])


def _public_comment(c: dict) -> dict:
    return {k: v for k, v in c.items() if not k.startswith("_")}


@bp.get(COMMENT_RULE)
def comment_list(doctype, id_):
    return respond(paginate([_public_comment(c) for c in _comments(doctype, id_)]))


@bp.get(COMMENT_RULE + "/<int:cid>")
def comment_show(doctype, id_, cid):
    found = next((c for c in _comments(doctype, id_) if c["id"] == cid), None)
    if found is None:
        raise not_found()
    return respond(_public_comment(found))


@bp.post(COMMENT_RULE)
def comment_create(doctype, id_):
    data = json_body()
    errors = [f"{k}: This value should not be blank." for k in ("text",) if not data.get(k)]
    for key in ("user_id", "user_name"):
        if key not in data:
            errors.append(f"{key}: This field is missing.")
    if data.get("user_id") is not None and store().get("user", company(), data["user_id"]) is None:
        errors.append("user_id: This value is not valid.")
    if errors:
        raise invalid(*errors)
    with store().tx():
        load(id_, doctype)
        comment = {
            "id": store().next_id("kb_comment", company()),
            "text": data["text"],
            "user_id": data.get("user_id"),
            "user_email": data.get("user_email"),
            "user_name": data.get("user_name"),
            "date": now_v2(),
            "is_public": bool(data.get("is_public", False)),
            "image": None,
            "image_path": None,
            "_document": f"{doctype}:{id_}",
        }
        store().put("kb_comment", company(), comment["id"], comment)
    return respond(_public_comment(comment), 201)
