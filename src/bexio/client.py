"""`BexioClient`: one object per bexio company connection, httpx underneath."""

from __future__ import annotations

import json as jsonlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from bexio import retry
from bexio.buckets import bucket_for
from bexio.errors import (
    BexioError,
    ConnectError,
    ConnectionDroppedError,
    InvalidResponseError,
    NetworkError,
    RequestTimeoutError,
    error_for_status,
    normalise_message,
)
from bexio.events import RequestEvent
from bexio.governor import RateGovernor
from bexio.models.types import format_zurich
from bexio.resources import (
    AccountGroups,
    Accounts,
    Articles,
    BankAccounts,
    BusinessYears,
    CalendarYears,
    CompanyProfiles,
    ContactGroups,
    Contacts,
    Countries,
    Currencies,
    Invoices,
    Journal,
    Languages,
    ManualEntries,
    PaymentTypes,
    Salutations,
    Taxes,
    Titles,
    Units,
    Users,
    VatPeriods,
)

log = logging.getLogger("bexio")

DEFAULT_BASE_URL = "https://api.bexio.com"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _network_error(exc: httpx.TransportError, method: str, path: str) -> NetworkError:
    """The typed error for an attempt that got no HTTP answer."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError("timed out", method=method, path=path, error_code="timeout")
    if isinstance(exc, httpx.ConnectError):
        return ConnectError("could not connect", method=method, path=path, error_code="connect")
    return ConnectionDroppedError("connection dropped", method=method, path=path, error_code="dropped")


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()[:10] if not isinstance(value, datetime) else format_zurich(value)
    return value


class TokenSource(Protocol):
    def access_token(self) -> str: ...

    def force_refresh(self, rejected_access_token: str | None = None) -> str | None: ...


class BexioClient:
    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token_provider: TokenSource,
        timeout: float = 30.0,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        governor: RateGovernor | None = None,
        on_request: Callable[[RequestEvent], None] | None = None,
        company_id: str | None = None,
        max_wait_s: float = 60.0,
        accept_language: str | None = None,
        user_agent: str = "aeroledger-bexio/1.0 (+httpx)",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_provider = token_provider
        self.max_retries = max_retries
        self.governor = governor
        self.on_request = on_request
        self.company_id = company_id if company_id is not None else getattr(governor, "company_id", None)
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        headers = {"Accept": "application/json", "User-Agent": user_agent}
        if accept_language:
            headers["Accept-Language"] = accept_language
        self._base_path = urlsplit(self.base_url).path
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers=headers,
            follow_redirects=False,
        )
        # contacts and what they refer to
        self.contacts = Contacts(self)
        self.contact_groups = ContactGroups(self)
        self.salutations = Salutations(self)
        self.titles = Titles(self)
        # master data
        self.countries = Countries(self)
        self.languages = Languages(self)
        self.units = Units(self)
        self.payment_types = PaymentTypes(self)
        self.users = Users(self)
        self.company_profile = CompanyProfiles(self)
        self.articles = Articles(self)
        self.bank_accounts = BankAccounts(self)
        self.taxes = Taxes(self)
        self.accounts = Accounts(self)
        self.account_groups = AccountGroups(self)
        self.currencies = Currencies(self)
        # sales
        self.invoices = Invoices(self)
        # accounting
        self.manual_entries = ManualEntries(self)
        self.journal = Journal(self)
        self.calendar_years = CalendarYears(self)
        self.business_years = BusinessYears(self)
        self.vat_periods = VatPeriods(self)

    def __repr__(self) -> str:
        return f"BexioClient(base_url={self.base_url!r}, company_id={self.company_id!r})"

    def __enter__(self) -> BexioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- the one request loop -----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API request with retries; returns the parsed JSON body (None when empty)."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in retry.IDEMPOTENT_METHODS
        headers: dict[str, str] = {}
        content: bytes | None = None
        if json is not None:
            content = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if method in BODY_METHODS or content is not None:
            content = content or b""
            headers["Content-Length"] = str(len(content))
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}

        bucket = bucket_for(method, path)
        governor = self.governor
        attempt = 0
        token_refreshed = False
        while True:
            attempt += 1
            if governor is not None:
                governor.acquire(bucket)
            token = self.token_provider.access_token()
            headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            try:
                response = self._http.request(method, path, params=query, content=content, headers=headers)
            except httpx.TransportError as exc:
                error: BexioError = _network_error(exc, method, path)
                self._emit(method, path, None, started, attempt, bucket, error)
                status, answer_headers = None, None
            else:
                status, answer_headers = response.status_code, response.headers
                if governor is not None:
                    governor.observe(status, answer_headers, bucket)
                if status < 400:
                    self._emit(method, path, status, started, attempt, bucket)
                    return self._parse(response, method, path)
                error = self._error(response, method, path)
                self._emit(method, path, status, started, attempt, bucket, error)

            again = retry.decide(
                status=status,
                headers=answer_headers,
                idempotent=idempotent,
                attempt=attempt,
                max_retries=self.max_retries,
                cap=self.max_wait_s,
                token_refreshed=token_refreshed,
            )
            if again is None:
                raise error
            if again.refresh_token:
                token_refreshed = True
                if self.token_provider.force_refresh(token) is None:
                    raise error  # a static token: nothing to refresh
            if again.wait_s:
                self._sleep(again.wait_s)

    def _emit(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        attempt: int,
        bucket: str,
        error: BexioError | None = None,
    ) -> None:
        if self.on_request is None:
            return
        event = RequestEvent(
            method=method,
            path=path,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
            company_id=self.company_id,
            attempt=attempt,
            error_code=None if error is None else error.error_code,
            # bexio's own message only (never ours for a network error)
            message=(error.message or None) if error is not None and status is not None else None,
            bucket=bucket,
        )
        try:
            self.on_request(event)
        except Exception:  # a broken log hook must not break the request
            log.warning("bexio on_request hook failed for %s %s", method, path, exc_info=True)

    @staticmethod
    def _parse(response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise InvalidResponseError(
                "bexio answered with a body that is not JSON",
                status=response.status_code,
                method=method,
                path=path,
                body=response.text[:2000],
                headers=response.headers,
            ) from None

    @staticmethod
    def _error(response: httpx.Response, method: str, path: str) -> BexioError:
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:2000]
        error_code: Any = response.status_code
        message: Any = ""
        errors: Any = None
        if isinstance(body, dict):
            error_code = body.get("error_code", response.status_code)
            message = body.get("message", "")
            errors = body.get("errors")
            if not message and errors:
                message = normalise_message(errors)
        elif isinstance(body, list):
            message = body
        cls = error_for_status(response.status_code)
        return cls(
            message,
            status=response.status_code,
            error_code=error_code,
            method=method,
            path=path,
            body=body,
            headers=response.headers,
            errors=errors,
        )


__all__ = ["BexioClient", "NetworkError", "TokenSource"]
