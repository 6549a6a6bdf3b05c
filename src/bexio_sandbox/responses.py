"""bexio's answers: JSON bodies, `{"success": true}`, and errors in bexio's shape
(`{"error_code": 422, "message": "...", "errors": [...]}`)."""

from __future__ import annotations

import hashlib
import json

from flask import Response, request


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors=None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def respond(data, status: int = 200, etag: bool = False, headers: dict | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    resp = Response(body, status=status, mimetype="application/json")
    if etag:
        resp.headers["etag"] = hashlib.md5(body.encode()).hexdigest()  # noqa: S324 (not security)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def success() -> Response:
    return respond({"success": True})


def error_body(status: int, message: str, errors=None) -> dict:
    body = {"error_code": status, "message": message}
    if errors:
        body["errors"] = errors
    return body


def not_found() -> ApiError:
    return ApiError(404, "Not found")


def invalid(*errors: str) -> ApiError:
    return ApiError(422, "The form could not be saved due to the following errors:", list(errors))


def json_body(kind=dict):
    data = request.get_json(silent=True, force=True)
    if data is None:
        data = {} if kind is dict else []
    if not isinstance(data, kind):
        raise invalid("The request body is not valid JSON of the expected shape")
    return data
