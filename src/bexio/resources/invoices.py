"""Invoices (kb_invoice), their positions of every type, and their payments."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter

from bexio import models as m
from bexio.models.base import BexioInput
from bexio.resources.base import (
    ActionMixin,
    CreateMixin,
    CRUDMixin,
    DeleteMixin,
    ReadMixin,
    UpdateMixin,
    parse_answer,
    success,
)

POSITION: TypeAdapter[Any] = TypeAdapter(m.Position)


class InvoicePayments(ReadMixin, CreateMixin, DeleteMixin):
    """Payments of one invoice; creating one moves the invoice to partially paid or paid."""

    path = "/2.0/kb_invoice/{invoice_id}/payment"
    model = m.Payment
    create_model = m.PaymentCreate


class _PositionKind(ReadMixin, CreateMixin, UpdateMixin, DeleteMixin):
    """One position type at `/2.0/kb_invoice/{id}/kb_position_{kind}`; the model is per instance."""

    path = "/2.0/kb_invoice/{invoice_id}/kb_position_{kind}"
    create_exclude = {"type"}
    update_exclude = {"type"}

    model = m.PositionOther

    def _parse(self, data: Any) -> Any:
        return parse_answer(POSITION.validate_python, data, self._path)  # by its `type`


class InvoicePositions:
    """Positions of one invoice, every type: kind in custom, article, text, subtotal, discount,
    pagebreak, subposition."""

    def __init__(self, client: Any, invoice_id: int, document: str = "kb_invoice") -> None:
        self._client = client
        self._kinds = {
            kind: _PositionKind(client, path=f"/2.0/{document}/{invoice_id}/kb_position_{kind}")
            for kind in m.POSITION_BY_KIND
        }

    def kind(self, kind: str) -> _PositionKind:
        try:
            return self._kinds[kind]
        except KeyError:
            raise ValueError(f"unknown position kind {kind!r}; one of {sorted(self._kinds)}") from None

    def create(self, position: BexioInput) -> Any:
        return self.kind(position.kind).create(position)  # type: ignore[attr-defined]

    def list(self, kind: str, **kw: Any) -> list[Any]:
        return self.kind(kind).list(**kw)

    def iter(self, kind: str, **kw: Any) -> Iterator[Any]:
        return self.kind(kind).iter(**kw)

    def get(self, kind: str, id: int) -> Any:
        return self.kind(kind).get(id)

    def update(self, kind: str, id: int, position: BaseModel | Mapping[str, Any]) -> Any:
        return self.kind(kind).update(id, position)

    def delete(self, kind: str, id: int) -> bool:
        return self.kind(kind).delete(id)


class Invoices(CRUDMixin, ActionMixin):
    """kb_invoice. Actions answer `{"success": true}` and return True. Store your own id in
    `api_reference` and look it up (`search_in("api_reference", ...)`) before re-sending a create."""

    path = "/2.0/kb_invoice"
    model = m.Invoice
    create_model = m.InvoiceCreate
    update_model = m.InvoiceUpdate
    search_fields = frozenset(
        "id kb_item_status_id document_nr title api_reference contact_id contact_sub_id user_id "
        "currency_id total_gross total_net total is_valid_from is_valid_to updated_at".split()
    )

    def issue(self, id: int) -> bool:
        return success(self._action(id, "issue"))

    def revert_issue(self, id: int) -> bool:
        return success(self._action(id, "revert_issue"))

    def cancel(self, id: int) -> bool:
        return success(self._action(id, "cancel"))

    def mark_as_sent(self, id: int) -> bool:
        return success(self._action(id, "mark_as_sent"))

    def send(self, id: int, data: m.InvoiceSend | Mapping[str, Any]) -> bool:
        return success(self._action(id, "send", self._body(data, m.InvoiceSend)))

    def copy(self, id: int, data: m.InvoiceCopy | Mapping[str, Any]) -> m.Invoice:
        return self._parse(self._action(id, "copy", self._body(data, m.InvoiceCopy)))

    def pdf_document(self, id: int, *, logopaper: bool | None = None) -> m.Pdf:
        params = None if logopaper is None else {"logopaper": int(logopaper)}
        url = self._url(id, "pdf")
        return parse_answer(m.Pdf.model_validate, self._client.request("GET", url, params=params), url)

    def pdf(self, id: int, *, logopaper: bool | None = None) -> bytes:
        """The PDF file itself (bexio sends it base64-encoded inside a JSON envelope)."""
        document = self.pdf_document(id, logopaper=logopaper)
        return parse_answer(
            lambda c: base64.b64decode(c, validate=True), document.content, self._url(id, "pdf")
        )

    def positions(self, invoice_id: int) -> InvoicePositions:
        return InvoicePositions(self._client, invoice_id)

    def payments(self, invoice_id: int) -> InvoicePayments:
        return InvoicePayments(self._client, path=f"/2.0/kb_invoice/{invoice_id}/payment")
