"""Where one commune's catalogue is kept, as the catalogue's rules see it: a small storage interface.

The device implements it over its own tables (:mod:`kiosk.catalog_store`), the central server over its
tables for one commune (:mod:`central.catalog_store`). The rules (:mod:`common.catalog_edit`,
:mod:`common.catalog_apply`) find, list and create rows through it and change a row by setting its
attributes (the rows are live: what is set is stored at the next :meth:`CatalogStore.flush`, inside the
caller's transaction). What differs between the two is kept in the store: how a counter's services are
linked, where a change is recorded (the kiosk's undelivered items, the central server's audit log), and
how a missing item is named ("on this kiosk", "in this commune").
"""

from __future__ import annotations

from typing import Any, Protocol

from common.errors import NotFoundError


class ServiceRow(Protocol):
    code: str
    name: str
    prefix: str
    daily_max: int | None
    position: int
    active: bool


class CounterRow(Protocol):
    number: int
    name: str
    active: bool


class ClerkRow(Protocol):
    id: str
    code: str
    name: str
    pin_hash: str
    counter_number: int | None
    active: bool


class LevelRow(Protocol):
    key: str
    label: str
    points: int
    position: int
    active: bool


class QuestionRow(Protocol):
    key: str
    question: str
    answers: list
    position: int
    active: bool


class CatalogStore(Protocol):
    """One commune's catalogue: services, counters (and the services each handles), clerks, scale, questions."""

    def services(self) -> list[ServiceRow]: ...

    def service(self, code: str) -> ServiceRow | None: ...

    def add_service(self, code: str, position: int) -> ServiceRow: ...

    def counters(self) -> list[CounterRow]: ...

    def counter(self, number: int, site: str | None = None) -> CounterRow | None:
        """Counter ``number`` of reception point ``site`` (None: the commune's centre; a kiosk has only its own)."""
        ...

    def add_counter(self, number: int, site: str | None = None) -> CounterRow: ...

    def site_of(self, counter: CounterRow) -> str:
        """The reception point ``counter`` stands at."""
        ...

    def points(self) -> list[str]:
        """Reception points with a kiosk, which offer every service in use whether or not a counter there is open
        (the kiosk: none — its counters are all of its own point)."""
        ...

    def handled(self, counter: CounterRow) -> list[str]:
        """The codes of the services ``counter`` handles, sorted."""
        ...

    def set_handled(self, counter: CounterRow, codes: list[str]) -> None: ...

    def clerks(self) -> list[ClerkRow]: ...

    def clerk(self, clerk_id: str) -> ClerkRow | None: ...

    def add_clerk(self, clerk_id: str, code: str) -> ClerkRow: ...

    def levels(self) -> list[LevelRow]: ...

    def add_level(self, key: str) -> LevelRow: ...

    def questions(self) -> list[QuestionRow]: ...

    def add_question(self, key: str) -> QuestionRow: ...

    def flush(self) -> None: ...

    def snapshot(self) -> dict[str, Any]:
        """The catalogue in the document's shape (services, counters with their services, clerks, …)."""
        ...

    def changed(self, kind: str, key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """Record one change made by a rule (``kind``: service, counter, clerk, scale, questions, wording)."""
        ...

    def not_found(self, kind: str, key: str) -> NotFoundError:
        """The refusal of an edit of an item (service, counter, clerk) this catalogue does not have."""
        ...
