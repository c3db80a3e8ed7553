"""counters belong to a reception point: "TT · Quầy 1" and "CN · Quầy 1" are two counters

* ``counters`` and ``counter_services`` gain ``site_code`` in their primary key.
* Each commune-wide counter moves to the reception point(s) of the kiosks that used it: the sites of the records
  (ratings, comments, clerk actions) made at that counter number. A counter used at two sites becomes two
  counters, each with the name, open state and services it had. A counter no record names goes to every site
  where an enabled kiosk of the commune stands (each of them offered it until now), else to the centre (TT).
  A site with a kiosk that ends with no counter at all gets a copy of every counter (its kiosk keeps working).
* Records are not touched: each keeps the ``site_code`` it was stored with, so the history reads as before.

The tables are small (a commune's catalogue), so they are read, dropped and made again in their new shape, the
same way on SQLite and PostgreSQL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00
"""

import logging

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

log = logging.getLogger("kiosk.central.migrate")

MAIN_SITE = "TT"
RECORDS = ("ratings", "comments", "clerk_actions")


def _counters_table(with_site: bool) -> None:
    def site():
        # the centre by default: a row written without its point (an older tool, a bench) stands at TT
        return [sa.Column('site_code', sa.String(length=16), nullable=False, server_default=MAIN_SITE)] if with_site else []

    keys = ['site_code'] if with_site else []
    op.create_table('counters',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    *site(),
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', *keys, 'number', name=op.f('pk_counters'))
    )
    op.create_table('counter_services',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    *site(),
    sa.Column('counter_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', *keys, 'counter_number', 'service_code',
                            name=op.f('pk_counter_services'))
    )


def _read(conn, sql: str) -> list:
    return [tuple(row) for row in conn.execute(sa.text(sql))]


def _sites_used(conn) -> dict:
    """(commune, counter number) → the sites of the records made at it."""
    used: dict = {}
    for table in RECORDS:
        query = f"SELECT DISTINCT commune_code, counter_number, site_code FROM {table} WHERE counter_number IS NOT NULL"
        for commune, number, site in _read(conn, query):
            used.setdefault((commune, number), set()).add(site)
    return used


def upgrade() -> None:
    conn = op.get_bind()
    counters = _read(conn, "SELECT commune_code, number, name, active FROM counters")
    links = _read(conn, "SELECT commune_code, counter_number, service_code FROM counter_services")
    kiosks: dict = {}
    for commune, site in _read(conn, "SELECT DISTINCT commune_code, site_code FROM devices WHERE enabled"):
        kiosks.setdefault(commune, set()).add(site)
    used = _sites_used(conn)
    placed: dict = {}  # (commune, number) -> sites
    for commune, number, _name, _active in counters:
        placed[(commune, number)] = used.get((commune, number)) or kiosks.get(commune) or {MAIN_SITE}
    for commune, sites in kiosks.items():
        for site in sites:
            mine = [key for key, where in placed.items() if key[0] == commune and site in where]
            if not mine:  # a kiosk whose point would have no counter: it keeps every counter it had
                for key in placed:
                    if key[0] == commune:
                        placed[key] = placed[key] | {site}
    op.drop_table('counter_services')
    op.drop_table('counters')
    _counters_table(with_site=True)
    counter_table = sa.table('counters', sa.column('commune_code'), sa.column('site_code'), sa.column('number'),
                             sa.column('name'), sa.column('active'))
    link_table = sa.table('counter_services', sa.column('commune_code'), sa.column('site_code'),
                          sa.column('counter_number'), sa.column('service_code'))
    rows = [
        {"commune_code": commune, "site_code": site, "number": number, "name": name, "active": active}
        for commune, number, name, active in counters for site in sorted(placed[(commune, number)])
    ]
    if rows:
        op.bulk_insert(counter_table, rows)
    link_rows = [
        {"commune_code": commune, "site_code": site, "counter_number": number, "service_code": code}
        for commune, number, code in links for site in sorted(placed.get((commune, number), {MAIN_SITE}))
    ]
    if link_rows:
        op.bulk_insert(link_table, link_rows)
    split = sorted(f"{c} quầy {n}: {', '.join(sorted(s))}" for (c, n), s in placed.items() if len(s) > 1)
    if split:
        log.warning("counters used at several reception points became one counter per point: %s", "; ".join(split))


def downgrade() -> None:
    """One commune-wide counter per number again (the first point's name, open if open anywhere, every service)."""
    conn = op.get_bind()
    counters = _read(conn, "SELECT commune_code, number, name, active, site_code FROM counters ORDER BY site_code")
    links = _read(conn, "SELECT DISTINCT commune_code, counter_number, service_code FROM counter_services")
    merged: dict = {}
    for commune, number, name, active, _site in counters:
        first = merged.setdefault((commune, number), {"name": name, "active": bool(active)})
        first["active"] = first["active"] or bool(active)
    op.drop_table('counter_services')
    op.drop_table('counters')
    _counters_table(with_site=False)
    counter_table = sa.table('counters', sa.column('commune_code'), sa.column('number'), sa.column('name'),
                             sa.column('active'))
    link_table = sa.table('counter_services', sa.column('commune_code'), sa.column('counter_number'),
                          sa.column('service_code'))
    rows = [{"commune_code": c, "number": n, **v} for (c, n), v in merged.items()]
    if rows:
        op.bulk_insert(counter_table, rows)
    if links:
        op.bulk_insert(link_table, [{"commune_code": c, "counter_number": n, "service_code": s} for c, n, s in links])
