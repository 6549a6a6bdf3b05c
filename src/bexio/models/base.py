"""Base classes: lenient read models, strict write models."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class BexioModel(BaseModel):
    """An object as bexio returns it. Unknown fields are kept (extra="allow"), never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    id: int | None = None


class BexioInput(BaseModel):
    """A create/edit body. Unknown fields are refused so that a typo fails before the request.

    `to_bexio()` sends only the fields that were set (an explicit None is sent as null), under
    bexio's input names (serialization aliases).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    # Fields that are always sent even when left at their default (e.g. an inline position's type).
    always_sent: ClassVar[frozenset[str]] = frozenset()

    def model_post_init(self, context: Any, /) -> None:
        if self.always_sent:
            self.__pydantic_fields_set__.update(self.always_sent)

    def to_bexio(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=exclude)
