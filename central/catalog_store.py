"""One commune's catalogue at the central server as the catalogue's rules see it (:class:`common.catalog_store.CatalogStore`).

Over the central tables (central/models.py), every row keyed by the commune's code: a counter's services are
:class:`~central.models.CounterService` links, each counter at its reception point (site). A store made with an ``audit`` (who, when) writes every change
the rules make to the commune's audit log (:mod:`central.audit`), with the values before and after; one made
without records nothing itself (``import-config`` and an adopted catalogue write one summary entry instead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central import audit as audit_log
from central.models import MAIN_SITE, Clerk, Counter, CounterService, Device, Question, ScaleLevel, Service
from common.catalog_rules import missing
from common.errors import NotFoundError
from sync import catalog_document as entries


class CentralStore:
    """The catalogue of commune ``commune`` in the caller's session; ``audit``: (actor, now) of the changes."""

    def __init__(self, session: Session, commune: str, audit: tuple[audit_log.Actor, datetime] | None = None) -> None:
        self.session = session
        self.commune = commune
        self.audit = audit

    def _rows(self, model: type, *order: Any) -> list[Any]:
        return list(self.session.scalars(select(model).filter_by(commune_code=self.commune).order_by(*order)))

    def _add(self, row: Any) -> Any:
        self.session.add(row)
        return row

    def services(self) -> list[Service]:
        return self._rows(Service, Service.position, Service.code)

    def service(self, code: str) -> Service | None:
        return self.session.get(Service, (self.commune, code))

    def add_service(self, code: str, position: int) -> Service:
        return self._add(Service(commune_code=self.commune, code=code, position=position))

    def counters(self) -> list[Counter]:
        """Every counter of every reception point of the commune."""
        return self._rows(Counter, Counter.site_code, Counter.number)

    def counter(self, number: int, site: str | None = None) -> Counter | None:
        return self.session.get(Counter, (self.commune, site or MAIN_SITE, number))

    def add_counter(self, number: int, site: str | None = None) -> Counter:
        return self._add(Counter(commune_code=self.commune, site_code=site or MAIN_SITE, number=number))

    def site_of(self, counter: Counter) -> str:
        return counter.site_code

    def points(self) -> list[str]:
        """The reception points where an enabled kiosk of the commune stands."""
        query = select(Device.site_code).where(Device.commune_code == self.commune, Device.enabled).distinct()
        return sorted(self.session.scalars(query))

    def _links(self) -> dict[tuple[str, int], list[str]]:
        links: dict[tuple[str, int], list[str]] = {}
        query = select(CounterService).filter_by(commune_code=self.commune).order_by(CounterService.service_code)
        for link in self.session.scalars(query):
            links.setdefault((link.site_code, link.counter_number), []).append(link.service_code)
        return links

    def handled(self, counter: Counter) -> list[str]:
        return self._links().get((counter.site_code, counter.number), [])

    def set_handled(self, counter: Counter, codes: list[str]) -> None:
        self.session.flush()
        key = {"commune_code": self.commune, "site_code": counter.site_code, "counter_number": counter.number}
        self.session.execute(delete(CounterService).filter_by(**key))
        self.session.add_all(CounterService(**key, service_code=code) for code in sorted(set(codes)))
        self.session.flush()

    def clerks(self) -> list[Clerk]:
        return self._rows(Clerk, Clerk.code)

    def clerk(self, clerk_id: str) -> Clerk | None:
        return self.session.get(Clerk, (self.commune, clerk_id))

    def add_clerk(self, clerk_id: str, code: str) -> Clerk:
        return self._add(Clerk(commune_code=self.commune, id=clerk_id, code=code))

    def levels(self) -> list[ScaleLevel]:
        return self._rows(ScaleLevel, ScaleLevel.position)

    def add_level(self, key: str) -> ScaleLevel:
        return self._add(ScaleLevel(commune_code=self.commune, key=key))

    def questions(self) -> list[Question]:
        return self._rows(Question, Question.position)

    def add_question(self, key: str) -> Question:
        return self._add(Question(commune_code=self.commune, key=key))

    def flush(self) -> None:
        self.session.flush()

    def snapshot(self) -> dict[str, Any]:
        """The commune's catalogue in the document's shape (services in use first)."""
        self.session.flush()
        services = sorted(self.services(), key=lambda s: (not s.active, s.position, s.code))
        links = self._links()
        return {
            "services": [entries.service_entry(s) for s in services],
            "counters": [entries.counter_entry(c, links.get((c.site_code, c.number), [])) for c in self.counters()],
            "clerks": [entries.clerk_entry(c) for c in self.clerks()],
            "scale": [entries.level_entry(s) for s in self.levels()],
            "questions": [entries.question_entry(q) for q in self.questions()],
        }

    def changed(self, kind: str, key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """In the audit log (when this store keeps one): who changed what, the values before and after."""
        if self.audit is None:
            return
        actor, now = self.audit
        target = f"{after['code']} {after['name']}" if kind == "clerk" else key
        audit_log.record(self.session, self.commune, actor, kind, target, now, {"before": before, "after": after})

    def not_found(self, kind: str, key: str) -> NotFoundError:
        if kind == "service":
            return missing("code", "Service %(code)s does not exist in this commune.", code=key)
        return missing("clerk", "This clerk does not exist in this commune.")
