"""What every API request meets before its handler, and every answer after it (bexio's behaviour):

411 for a body without Content-Length; 401 for a missing, bad, expired or revoked token; the rate limit
of the route's bucket (429); 422 with an empty message for a 2.0 PUT (documented nowhere, recorded
so); 403 for a missing scope or user right (scopes.py). Answers carry the rate-limit headers of the
bucket that counted them, `Cache-Control: no-store`, `pragma`, `vary` and bexio's CORS origin. A route
that does not exist is 404 "Page not found", or 501 when bexio documents it (operations.py).
"""

from __future__ import annotations

from flask import Response, g, request

from .context import sandbox
from .operations import not_implemented_message
from .ratelimit import bucket_for
from .responses import ApiError, error_body, respond
from .scopes import area_for

API_PREFIXES = ("/2.0/", "/3.0/", "/4.0/")


def _error(status: int, message: str, errors=None) -> Response:
    return respond(error_body(status, message, errors), status)


def api_guard():
    path = request.path
    if not path.startswith(API_PREFIXES):
        return None
    g.api = True
    if request.method in ("POST", "PUT", "PATCH") and request.headers.get("Content-Length") is None:
        return _error(411, "Length Required")
    sb = sandbox()
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    claims = sb.realm.verify_access(token) if token else None
    bucket = bucket_for(request.method, path)
    if claims is None:
        g.rate = sb.rate_take("ip:" + (request.remote_addr or ""), bucket)
        return _error(401, "Invalid access token")
    company = claims["company_id"]
    request.environ["sandbox.company"] = company
    g.claims = claims
    g.rate = sb.rate_take(company, bucket)
    if not g.rate.allowed:
        resp = respond({"message": "API rate limit exceeded"}, 429)
        resp.headers["Retry-After"] = str(g.rate.reset)
        return resp
    if request.method == "PUT" and path.startswith("/2.0/"):
        return _error(422, "")
    area = area_for(path)
    if area is not None:
        scopes = set(claims["scope"].split())
        write = request.method != "GET" and not path.endswith("/search")
        if (area.edit if write else area.show) not in scopes and not (not write and area.edit in scopes):
            return _error(403, "Forbidden")
        user = sb.realm.user_by_sub(claims["sub"])
        if area.right not in (user["memberships"][company]["rights"] if user else []):
            return _error(403, "Forbidden")
    return None


def api_headers(resp: Response) -> Response:
    if not g.get("api"):
        return resp
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["pragma"] = "no-cache"
    resp.headers["vary"] = "Origin"
    resp.headers["access-control-allow-origin"] = "https://office.bexio.com"
    rate = g.get("rate")
    if rate:
        resp.headers["x-ratelimit-remaining-minute"] = str(rate.remaining)
        resp.headers["ratelimit-limit"] = str(rate.limit)
        resp.headers["ratelimit-remaining"] = str(rate.remaining)
        resp.headers["ratelimit-reset"] = str(rate.reset)
        resp.headers["x-ratelimit-limit-minute"] = str(rate.limit)
    return resp


def install(app) -> None:
    """The guard, the answer headers and the error answers of the API on `app`."""
    app.before_request(api_guard)
    app.after_request(api_headers)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return respond(error_body(exc.status, exc.message, exc.errors), exc.status)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_routed(exc):
        """Documented but not emulated -> 501 naming the operation; anything else -> bexio's 404."""
        if not request.path.startswith(API_PREFIXES):
            return exc
        g.api = True
        op = app.config["OPERATIONS"].unimplemented(request.method, request.path)
        if op is not None:
            return respond(error_body(501, not_implemented_message(op)), 501)
        return respond(error_body(404, "Page not found"), 404)
