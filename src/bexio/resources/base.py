"""Declared resources (python-gitlab style): a resource names its path, models and mixins.

The mixins hold the only copy of list/get/create/update/delete/search code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from bexio.errors import InvalidResponseError
from bexio.models.base import BexioInput, BexioModel
from bexio.search import IN_BATCH_SIZE, Criterion

if TYPE_CHECKING:
    from bexio.client import BexioClient

PAGE_SIZE = 2000  # bexio's maximum `limit`


def parse_answer(validate: Any, data: Any, path: str) -> Any:
    """`validate(data)`, or a typed InvalidResponseError when bexio's answer has another shape."""
    try:
        return validate(data)
    except (ValidationError, TypeError, ValueError) as exc:
        detail = ""
        if isinstance(exc, ValidationError) and exc.errors():
            first = exc.errors()[0]
            detail = f": {'.'.join(str(p) for p in first['loc']) or 'body'} {first['msg']}"
        raise InvalidResponseError(
            f"bexio answered with an unexpected shape{detail}", path=path, body=_excerpt(data)
        ) from None


def answer_list(data: Any, path: str) -> list[Any]:
    """A list answer (None counts as empty); anything else is an InvalidResponseError."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidResponseError(
            f"bexio answered with {type(data).__name__} where a list was expected",
            path=path,
            body=_excerpt(data),
        )
    return data


def _excerpt(data: Any) -> Any:
    text = repr(data)
    return text if len(text) <= 2000 else text[:2000] + "…"


class Resource:
    path: ClassVar[str]
    model: ClassVar[type[BexioModel]]
    create_model: ClassVar[type[BexioInput] | None] = None
    update_model: ClassVar[type[BexioInput] | None] = None
    # Objects of this resource always carry an id; one without is a malformed answer (and would
    # otherwise be stored as "no bexio id" by the caller).
    requires_id: ClassVar[bool] = True
    # bexio pages lists with limit/offset; the few lists that take neither set this to False.
    paged: ClassVar[bool] = True

    def __init__(self, client: BexioClient, *, path: str | None = None) -> None:
        self._client = client
        self._path = path or type(self).path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._path!r})"

    # helpers shared by all mixins
    def _url(self, *parts: object) -> str:
        return "/".join([self._path, *(str(p) for p in parts)])

    def _parse(self, data: Any) -> Any:
        obj = parse_answer(self.model.model_validate, data, self._path)
        if self.requires_id and getattr(obj, "id", 0) is None:
            raise InvalidResponseError("bexio answered with an object without id", path=self._path)
        return obj

    def _parse_many(self, data: Any) -> list[Any]:
        return [self._parse(item) for item in answer_list(data, self._path)]

    @staticmethod
    def _body(data: BaseModel | Mapping[str, Any], model: type[BexioInput] | None, **kw: Any) -> Any:
        if isinstance(data, BexioInput):
            return data.to_bexio(**kw)
        if model is not None:
            return model.model_validate(data).to_bexio(**kw)
        return dict(data)

    def _pages(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any],
        json: Any = None,
        page_size: int = PAGE_SIZE,
        max_items: int | None = None,
        offset: int = 0,
    ) -> Iterator[Any]:
        """Page with limit/offset until a short page (bexio sends no total count)."""
        if not self.paged:
            data = self._client.request(method, url, params=params, json=json, idempotent=True)
            # An unpaged list may come as one object (the company profile on some accounts).
            yield from self._parse_many([data] if isinstance(data, dict) else data)
            return
        page_size = max(1, min(page_size, PAGE_SIZE))
        seen = 0
        while True:
            limit = page_size if max_items is None else min(page_size, max_items - seen)
            if limit <= 0:
                return
            query = {**params, "limit": limit, "offset": offset}
            page = answer_list(
                self._client.request(method, url, params=query, json=json, idempotent=True), url
            )
            for item in page:
                yield self._parse(item)
            seen += len(page)
            offset += len(page)
            if len(page) < limit:
                return

    def _fetch(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any],
        json: Any = None,
        limit: int | None,
        offset: int,
    ) -> list[Any]:
        if limit is None:
            return list(self._pages(method, url, params=params, json=json, offset=offset))
        query = {**params, "limit": limit, "offset": offset}
        return self._parse_many(self._client.request(method, url, params=query, json=json, idempotent=True))


class ListMixin(Resource):
    def iter(
        self,
        *,
        order_by: str | None = None,
        page_size: int = PAGE_SIZE,
        max_items: int | None = None,
        **params: Any,
    ) -> Iterator[Any]:
        query = {"order_by": order_by, **params}
        return self._pages("GET", self._path, params=query, page_size=page_size, max_items=max_items)

    def list(
        self, *, limit: int | None = None, offset: int = 0, order_by: str | None = None, **params: Any
    ) -> list[Any]:
        query = {"order_by": order_by, **params}
        if not self.paged:
            return list(self._pages("GET", self._path, params=query))
        return self._fetch("GET", self._path, params=query, limit=limit, offset=offset)

    def all(self, *, order_by: str | None = None, **params: Any) -> list[Any]:
        """Every object, all pages fetched (one request per 2000)."""
        return list(self.iter(order_by=order_by, **params))


class SearchMixin(Resource):
    """`POST <path>/search` with a list of criteria (AND). A search is a read: retried like a GET.

    `search_fields` are the fields bexio documents as searchable (it answers 422 for others): a
    criterion on another field raises ValueError before anything is sent.
    """

    search_fields: ClassVar[frozenset[str]] = frozenset()

    def _search_body(self, criteria: Sequence[Criterion]) -> list[dict[str, Any]]:
        unknown = sorted({c.field for c in criteria} - self.search_fields)
        if unknown:
            raise ValueError(
                f"{type(self).__name__} cannot search {', '.join(unknown)}; "
                f"bexio searches {', '.join(sorted(self.search_fields))}"
            )
        return [c.to_bexio() for c in criteria]

    def search(
        self,
        criteria: Sequence[Criterion],
        *,
        limit: int | None = None,
        offset: int = 0,
        order_by: str | None = None,
    ) -> list[Any]:
        body = self._search_body(criteria)
        query = {"order_by": order_by}
        return self._fetch("POST", self._url("search"), params=query, json=body, limit=limit, offset=offset)

    def iter_search(
        self, criteria: Sequence[Criterion], *, order_by: str | None = None, page_size: int = PAGE_SIZE
    ) -> Iterator[Any]:
        body = self._search_body(criteria)
        query = {"order_by": order_by}
        return self._pages("POST", self._url("search"), params=query, json=body, page_size=page_size)

    def search_in(
        self,
        field: str,
        values: Iterable[Any],
        *,
        criteria: Sequence[Criterion] = (),
        batch_size: int = IN_BATCH_SIZE,
        order_by: str | None = None,
    ) -> Iterator[Any]:
        """Every object whose `field` is one of `values`: one `in` search per `batch_size` values
        (each paged), instead of one search per value. `criteria` are added to each (AND)."""
        for batch in Criterion.batches(field, values, size=batch_size):
            yield from self.iter_search([*criteria, batch], order_by=order_by)


class GetMixin(Resource):
    def get(self, id: int | str, **params: Any) -> Any:
        return self._parse(self._client.request("GET", self._url(id), params=params))


class CreateMixin(Resource):
    create_exclude: ClassVar[set[str] | None] = None

    def create(self, data: BaseModel | Mapping[str, Any]) -> Any:
        body = self._body(data, self.create_model, exclude=self.create_exclude)
        return self._parse(self._client.request("POST", self._path, json=body))


class UpdateMixin(Resource):
    """bexio 2.0 edits are POST to the object's path (PUT/PATCH answer 404/422)."""

    update_method: ClassVar[str] = "POST"
    update_exclude: ClassVar[set[str] | None] = None

    def update(self, id: int | str, data: BaseModel | Mapping[str, Any]) -> Any:
        body = self._body(data, self.update_model, exclude=self.update_exclude)
        return self._parse(self._client.request(self.update_method, self._url(id), json=body))


class DeleteMixin(Resource):
    def delete(self, id: int | str) -> bool:
        return _success(self._client.request("DELETE", self._url(id)))


class ReadMixin(ListMixin, GetMixin):
    """List and show."""


class CRUDMixin(ListMixin, SearchMixin, GetMixin, CreateMixin, UpdateMixin, DeleteMixin):
    """Every operation of a regular 2.0 resource: list, search, show, create, edit, delete."""


class ActionMixin(Resource):
    def _action(self, id: int | str, action: str, body: Any = None, method: str = "POST") -> Any:
        return self._client.request(method, self._url(id, action), json=body)


def _success(data: Any) -> bool:
    return bool(data.get("success", True)) if isinstance(data, dict) else True


success = _success
