"""A sender: how one kind of write reaches bexio. The outbox worker does the rest.

A new kind of write is one subclass of `Sender` registered with `@register`, plus its tests:

    @register
    class ManualEntrySender(Sender):
        kind = ItemKind.MANUAL_ENTRY
        def find(self, item, client, org):   # what a lost answer may have created, or None
        def send(self, item, client, org):   # the write itself; returns bexio's answer

The worker calls `deliver`: when an earlier attempt may have reached bexio it first asks `find`
and adopts what it finds; otherwise (or when nothing is found) it calls `send`. `complete` finishes
the write after bexio created or the worker adopted it (follow-up requests, checks); `done` runs in
the transaction that marks the item done (local consequences, e.g. the invoice becomes
"transferred"), after `lock_local` has locked the rows it changes. Raise `Blocked` when a person
has to act before anything can be sent (mapping, contact data), `Rejected` when bexio has the
write but it is not right: both stop the item with the message shown verbatim.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..models import OutboxItem


class NotYet(Exception):
    """Nothing was sent: another write must reach bexio first. Tried again later (with back-off)."""


class Blocked(Exception):
    """Nothing was sent: a person has to act first (the message says what)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Rejected(Exception):
    """bexio has (part of) the write but it is not right; a person has to look (message verbatim)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class Progress:
    """What one attempt has done so far: whether a write request was issued (its answer may be lost)."""

    __slots__ = ("adopted", "wrote")

    def __init__(self):
        self.wrote = False
        self.adopted = False


class OrgState:
    """What the senders of one organisation share during a run (built once, read by all threads)."""

    def __init__(self, org):
        self.org = org
        self._cache: dict[str, Any] = {}

    def get(self, key: str, build):
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = build()
        return value


class Sender:
    kind: ClassVar[str]

    def load(self, items: list[OutboxItem]) -> None:
        """Read what `send` needs for a whole claimed slice at once (inside the claim transaction)."""

    def prepare(self, org: OrgState, client) -> None:
        """Once per organisation and run, before its items go to the threads (e.g. warm caches)."""

    def find(self, item: OutboxItem, client, org: OrgState) -> Any | None:
        """What bexio has of this write (by `item.bexio_id` when known, else by its reference)."""
        raise NotImplementedError(f"{type(self).__name__} must look up a lost write")

    def find_many(self, items: list[OutboxItem], client, org: OrgState) -> None:
        """Look up several items at once before they go to the threads (e.g. one `in` search for many
        references instead of one search each: bexio's searches have their own, smaller budget).
        Sets `item.looked_up` to what was found (None: definitely not in bexio). Default: nothing,
        each item's `find` runs on its own."""

    def send(self, item: OutboxItem, client, org: OrgState) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must send its write")

    def complete(self, item: OutboxItem, client, org: OrgState, answer: Any, progress: Progress) -> None:
        """After bexio created (or the worker adopted) the write: follow-ups and checks (`item.bexio_id`
        is set already)."""

    def lock_local(self, item: OutboxItem) -> None:
        """Lock the local rows `done` changes, before the item row (the order every writer uses)."""

    def done(self, item: OutboxItem) -> None:
        """Local consequences of a write that is in bexio (inside the final transaction)."""

    def deliver(
        self, item: OutboxItem, client, org: OrgState, progress: Progress, *, look_up_first: bool
    ) -> str:
        """The write, exactly once: look up what an earlier attempt may have created, else send."""
        if hasattr(item, "looked_up") and not item.bexio_id:
            answer = item.looked_up  # found (or not) for the whole slice at once, just before
        else:
            answer = self.find(item, client, org) if look_up_first or item.bexio_id else None
        progress.adopted = answer is not None
        if answer is None:
            progress.wrote = True
            answer = self.send(item, client, org)
        item.bexio_id = getattr(answer, "id", None) or item.bexio_id  # bexio has it, under this id
        self.complete(item, client, org, answer, progress)
        return "adopted" if progress.adopted else "created"


_senders: dict[str, Sender] = {}


def register(cls: type[Sender]) -> type[Sender]:
    _senders[cls.kind] = cls()
    return cls


def sender_for(kind: str) -> Sender:
    try:
        return _senders[kind]
    except KeyError:
        raise LookupError(f"no sender registered for outbox items of kind {kind!r}") from None


def registered_kinds() -> list[str]:
    return sorted(_senders)
