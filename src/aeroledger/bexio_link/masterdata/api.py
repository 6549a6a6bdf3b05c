"""The few raw calls the master-data import needs, on top of `bexio.BexioClient.request`.

The import keeps bexio's objects exactly as bexio sends them (`BexioRecord.data`), so it reads the
plain JSON instead of the client's typed models. Contacts go through the typed resources.
"""

from __future__ import annotations

from bexio import errors

Forbidden = errors.PermissionDeniedError
NotFound = errors.NotFoundError
BexioError = errors.BexioError

PAGE_SIZE = 2000  # bexio's maximum `limit`


class Api:
    def __init__(self, client):
        self.client = client

    def list(self, path: str, params: dict | None = None, *, paged: bool = True) -> list[dict]:
        """Every object of a list endpoint (plain JSON arrays, paged with limit/offset)."""
        params = dict(params or {})
        if not paged:
            return _as_list(self.client.request("GET", path, params=params or None))
        items: list[dict] = []
        offset = 0
        while True:
            page = _as_list(
                self.client.request("GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset})
            )
            items.extend(page)
            if len(page) < PAGE_SIZE:
                return items
            offset += PAGE_SIZE


def _as_list(result) -> list[dict]:
    if result is None:
        return []
    if isinstance(result, dict):
        # 4.0-style envelope, or a single object (company profile on some accounts).
        return list(result.get("results", [result])) if "results" in result or "id" in result else []
    return [item for item in result if isinstance(item, dict)]


def describe_error(exc: BaseException) -> str:
    """A log/page line for an error; `BexioError.__str__` never contains a token."""
    if isinstance(exc, errors.BexioError):
        return str(exc)[:1000]
    return type(exc).__name__
