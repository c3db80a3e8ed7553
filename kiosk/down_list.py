"""The check every list taken down at sync goes through on the kiosk (the procedures, the bookings, the posted
documents): a version, a bounded list, each item by its own rule, no key twice; the first fault refuses it whole."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from common.errors import ValidationError
from common.procedure_rules import Problem


def checked_list(
    doc: Any,
    key: str,
    limit: int,
    check: Callable[[Any], dict[str, Any]],
    refused: type[ValidationError],
    noun: str,
    id_key: str = "code",
) -> list[dict[str, Any]]:
    """The items of ``doc[key]``, each through ``check``; ``refused`` naming the first fault (``noun`` N of the list)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("version"), str) or len(doc["version"]) > 64:
        raise refused(f"The list of {key} has no version.")
    items = doc.get(key)
    if not isinstance(items, list) or len(items) > limit:
        raise refused(f"The list of {key} must be a list of at most {limit}.")
    clean: dict[str, dict[str, Any]] = {}
    for number, item in enumerate(items, start=1):
        try:
            one = check(item)
        except Problem as exc:
            raise refused(f"{noun} {number} of the list: {exc}.") from None
        if one[id_key] in clean:
            raise refused(f"{noun} {number} of the list repeats the {id_key} {one[id_key]}.")
        clean[one[id_key]] = one
    return list(clean.values())
