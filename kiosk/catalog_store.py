"""The device's catalogue as the catalogue's rules see it (:class:`common.catalog_store.CatalogStore`).

Over the kiosk's own tables (kiosk/models.py): a counter's services are its ``services`` relationship. While
the kiosk owns the catalogue its edits (``/admin``, `kiosk add-clerk`, `kiosk init --reseed`) are ``track``-ed:
each change names its item with :func:`kiosk.catalog_state.touch`, and travels up to the central server at the
next sync. What comes from the central server (its document) is applied untracked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.catalog_rules import MAIN_SITE, missing
from common.errors import NotFoundError
from kiosk import catalog_state
from kiosk.models import Clerk, Counter, Question, ScaleLevel, Service


class DeviceStore:
    """This kiosk's catalogue, in the caller's session; ``track``: changes are this kiosk's own edits."""

    def __init__(self, session: Session, *, track: bool = True) -> None:
        self.session = session
        self.track = track

    def _add(self, row: Any) -> Any:
        self.session.add(row)
        return row

    def services(self) -> list[Service]:
        return list(self.session.scalars(select(Service).order_by(Service.position, Service.code)))

    def service(self, code: str) -> Service | None:
        return self.session.get(Service, code)

    def add_service(self, code: str, position: int) -> Service:
        return self._add(Service(code=code, position=position))

    def counters(self) -> list[Counter]:
        return list(self.session.scalars(select(Counter).order_by(Counter.number)))

    def counter(self, number: int, site: str | None = None) -> Counter | None:
        """This kiosk's counter ``number`` (a kiosk keeps only the counters of its own reception point)."""
        return self.session.get(Counter, number)

    def add_counter(self, number: int, site: str | None = None) -> Counter:
        return self._add(Counter(number=number))

    def site_of(self, counter: Counter) -> str:
        """Every counter of this kiosk stands at its own reception point."""
        return catalog_state.site_code(self.session) or MAIN_SITE

    def points(self) -> list[str]:
        return []

    def handled(self, counter: Counter) -> list[str]:
        return sorted(service.code for service in counter.services)

    def set_handled(self, counter: Counter, codes: list[str]) -> None:
        found = {s.code: s for s in self.session.scalars(select(Service).where(Service.code.in_(codes)))}
        counter.services = [found[code] for code in sorted(codes)]

    def clerks(self) -> list[Clerk]:
        return list(self.session.scalars(select(Clerk).order_by(Clerk.code)))

    def clerk(self, clerk_id: str) -> Clerk | None:
        return self.session.get(Clerk, clerk_id)

    def add_clerk(self, clerk_id: str, code: str) -> Clerk:
        return self._add(Clerk(id=clerk_id, code=code))

    def levels(self) -> list[ScaleLevel]:
        return list(self.session.scalars(select(ScaleLevel).order_by(ScaleLevel.position)))

    def add_level(self, key: str) -> ScaleLevel:
        return self._add(ScaleLevel(key=key))

    def questions(self) -> list[Question]:
        return list(self.session.scalars(select(Question).order_by(Question.position)))

    def add_question(self, key: str) -> Question:
        return self._add(Question(key=key))

    def flush(self) -> None:
        self.session.flush()

    def snapshot(self) -> dict[str, Any]:
        return catalog_state.snapshot(self.session)

    def changed(self, kind: str, key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """An edit made here names its item, to travel up (``service:HT``, ``counter:1``, ``clerk:<id>``, ``scale``)."""
        if not self.track:
            return
        if kind == "wording":
            catalog_state.touch(self.session, "scale", "questions")
        else:
            key = key.rpartition(" · ")[2]  # a counter travels up by its number: it stands at this kiosk's point
            catalog_state.touch(self.session, kind if kind in ("scale", "questions") else f"{kind}:{key}")

    def not_found(self, kind: str, key: str) -> NotFoundError:
        if kind == "service":
            return missing("code", "Service %(code)s does not exist on this kiosk.", code=key)
        return missing("clerk", "This clerk does not exist on this kiosk.")
