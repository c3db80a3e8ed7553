"""province: provinces, reception points (sites), province viewers; district viewers become commune viewers;
rollups per site with day rows; dossier codes on ratings

* Every commune gets its first site, "TT" (its public administrative service centre); every kiosk belongs to it
  and every stored record is marked with it (the column's default: no table is rewritten).
* The provinces named by communes are created; a former district stays a label on the commune.
* Each ``district_viewer`` becomes a ``commune_viewer`` of every commune its district had, and its account
  says so (``users.note``, shown to administrators on /admin/users; also logged).
* The reports' rollups and ticket facts are dropped and made again empty in their new shape (per site and
  field, with day rows): ``kiosk-central`` rebuilds them from the records when it next starts
  (``central.reports.rebuild.ensure_built``), so this migration stays quick on a large database.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:35:05.630475
"""

import logging
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

log = logging.getLogger("kiosk.central.migrate")

MAIN_SITE = "TT"
MAIN_SITE_NAME = "Trung tâm Phục vụ hành chính công"
DERIVED = ("rollup_channels", "rollup_heat", "rollup_indicators", "rollup_levels", "rollup_queue", "rollup_ratings",
           "rollup_totals",
           "rollup_wait", "ticket_facts")


def _key(*extra):
    return [sa.Column('commune_code', sa.String(length=16), nullable=False),
            sa.Column('site_code', sa.String(length=16), nullable=False),
            sa.Column('grain', sa.String(length=1), nullable=False),
            sa.Column('start', sa.Date(), nullable=False),
            sa.Column('service_code', sa.String(length=16), nullable=False),
            *extra]


def _person():
    return [sa.Column('counter_number', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False)]


def _sums(*names):
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


RATING_SUMS = ('ratings', 'satisfied_plus', 'points', 'flagged')
QUEUE_SUMS = ('issued', 'served', 'no_show', 'waited', 'wait_seconds', 'service_n', 'service_seconds')

NEW_ROLLUPS = {
    'rollup_totals': (_key(), _sums(*RATING_SUMS, *QUEUE_SUMS)),
    'rollup_levels': (_key(sa.Column('level', sa.String(length=32), nullable=False)), _sums('n')),
    'rollup_heat': (_key(sa.Column('weekday', sa.Integer(), autoincrement=False, nullable=False),
                         sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False)),
                    _sums('ratings', 'satisfied_plus', 'tickets')),
    'rollup_wait': (_key(sa.Column('minute', sa.Integer(), autoincrement=False, nullable=False)), _sums('n')),
    'rollup_channels': (_key(sa.Column('channel', sa.String(length=16), nullable=False)), _sums(*RATING_SUMS)),
    'rollup_ratings': (_key(*_person()), _sums(*RATING_SUMS)),
    'rollup_indicators': (_key(*_person(), sa.Column('indicator', sa.String(length=16), nullable=False)),
                          _sums('n', 'points', 'n2', 'n1', 'n0')),
    'rollup_queue': (_key(*_person()), _sums(*QUEUE_SUMS)),
}


def _create_rollups() -> None:
    for name, (keys, sums) in NEW_ROLLUPS.items():
        op.create_table(name, *keys, *sums,
                        sa.PrimaryKeyConstraint(*(c.name for c in keys), name=op.f(f'pk_{name}')))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(f'ix_{name}_grain_start', ['grain', 'start', 'service_code', 'commune_code'],
                                  unique=False)
    op.create_table('ticket_facts',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('ticket_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('site_code', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), nullable=False),
    sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('called_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('wait_seconds', sa.Integer(), nullable=True),
    sa.Column('wait_minutes', sa.Integer(), nullable=True),
    sa.Column('service_seconds', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('commune_code', 'device_id', 'ticket_id', name=op.f('pk_ticket_facts'))
    )
    with op.batch_alter_table('ticket_facts', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_facts_commune_issued', ['commune_code', 'issued_at'], unique=False)


def _create_old_rollups() -> None:
    """The rollups as revisions 0002 and 0006 made them (empty: `kiosk-central rebuild-rollups` of that release
    fills them)."""
    op.create_table('rollup_channels',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('ratings', sa.BigInteger(), nullable=False),
    sa.Column('satisfied_plus', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('flagged', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'service_code', 'channel', name=op.f('pk_rollup_channels'))
    )
    with op.batch_alter_table('rollup_channels', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_channels_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_heat',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('weekday', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ratings', sa.BigInteger(), nullable=False),
    sa.Column('satisfied_plus', sa.BigInteger(), nullable=False),
    sa.Column('tickets', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'weekday', 'hour', name=op.f('pk_rollup_heat'))
    )
    with op.batch_alter_table('rollup_heat', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_heat_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_indicators',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('indicator', sa.String(length=16), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('n2', sa.BigInteger(), nullable=False),
    sa.Column('n1', sa.BigInteger(), nullable=False),
    sa.Column('n0', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'service_code', 'counter_number', 'clerk_id', 'indicator', name=op.f('pk_rollup_indicators'))
    )
    with op.batch_alter_table('rollup_indicators', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_indicators_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_levels',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'service_code', 'level', name=op.f('pk_rollup_levels'))
    )
    with op.batch_alter_table('rollup_levels', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_levels_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_queue',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('issued', sa.BigInteger(), nullable=False),
    sa.Column('served', sa.BigInteger(), nullable=False),
    sa.Column('no_show', sa.BigInteger(), nullable=False),
    sa.Column('waited', sa.BigInteger(), nullable=False),
    sa.Column('wait_seconds', sa.BigInteger(), nullable=False),
    sa.Column('service_n', sa.BigInteger(), nullable=False),
    sa.Column('service_seconds', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'service_code', 'counter_number', 'clerk_id', name=op.f('pk_rollup_queue'))
    )
    with op.batch_alter_table('rollup_queue', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_queue_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_ratings',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('ratings', sa.BigInteger(), nullable=False),
    sa.Column('satisfied_plus', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('flagged', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'service_code', 'counter_number', 'clerk_id', name=op.f('pk_rollup_ratings'))
    )
    with op.batch_alter_table('rollup_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_ratings_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_totals',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('ratings', sa.BigInteger(), nullable=False),
    sa.Column('satisfied_plus', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('flagged', sa.BigInteger(), nullable=False),
    sa.Column('tickets', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', name=op.f('pk_rollup_totals'))
    )
    with op.batch_alter_table('rollup_totals', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_totals_grain_start', ['grain', 'start'], unique=False)

    op.create_table('rollup_wait',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('minute', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'minute', name=op.f('pk_rollup_wait'))
    )
    with op.batch_alter_table('rollup_wait', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_wait_grain_start', ['grain', 'start'], unique=False)

    op.create_table('ticket_facts',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('ticket_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), nullable=False),
    sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('called_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('wait_seconds', sa.Integer(), nullable=True),
    sa.Column('wait_minutes', sa.Integer(), nullable=True),
    sa.Column('service_seconds', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('commune_code', 'device_id', 'ticket_id', name=op.f('pk_ticket_facts'))
    )
    with op.batch_alter_table('ticket_facts', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_facts_commune_issued', ['commune_code', 'issued_at'], unique=False)



def _drop_derived() -> None:
    for name in DERIVED:
        op.drop_table(name)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _provinces() -> None:
    """The provinces the communes name (before the communes' foreign key to them exists)."""
    conn = op.get_bind()
    for (code,) in conn.execute(sa.text(
        "SELECT DISTINCT province_code FROM communes WHERE province_code IS NOT NULL ORDER BY province_code"
    )).all():
        conn.execute(sa.text("INSERT INTO provinces (code, name, created_at) VALUES (:c, :n, :t)"),
                     {"c": code, "n": f"Tỉnh {code}", "t": _now()})


def _data() -> None:
    """First sites for the existing communes; district viewers become commune viewers."""
    conn = op.get_bind()
    now = _now()
    conn.execute(sa.text(
        "INSERT INTO sites (commune_code, code, name, former_commune, active, created_at) "
        "SELECT code, :site, :name, NULL, :yes, :t FROM communes"
    ), {"site": MAIN_SITE, "name": MAIN_SITE_NAME, "yes": True, "t": now})
    viewers = conn.execute(sa.text(
        "SELECT id, username, district_code FROM users WHERE role = 'district_viewer' ORDER BY username"
    )).all()
    for user_id, username, district in viewers:
        communes = [c for (c,) in conn.execute(
            sa.text("SELECT code FROM communes WHERE district_code = :d ORDER BY code"), {"d": district})]
        if communes:
            note = (f"{now:%d/%m/%Y}: tài khoản \"Xem báo cáo huyện\" (huyện {district}) đã chuyển thành "
                    f"\"Xem báo cáo xã\" của {len(communes)} xã thuộc huyện cũ: {', '.join(communes)} "
                    "(cấp huyện kết thúc từ 01/7/2025).")
        else:
            note = (f"{now:%d/%m/%Y}: tài khoản \"Xem báo cáo huyện\" (huyện {district}) đã chuyển thành "
                    "\"Xem báo cáo xã\", nhưng không có xã nào mang mã huyện này: hãy giao xã cho tài khoản.")
        conn.execute(sa.text(
            "UPDATE users SET role = 'commune_viewer', commune_code = :c, note = :note WHERE id = :id"
        ), {"c": communes[0] if communes else None, "note": note, "id": user_id})
        for code in communes:
            conn.execute(sa.text("INSERT INTO user_communes (user_id, commune_code) VALUES (:u, :c)"),
                         {"u": user_id, "c": code})
        log.warning("district viewer %s (district %s) is now a commune viewer of %s", username, district,
                    ", ".join(communes) or "no commune (give it its communes)")


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('provinces',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_provinces'))
    )
    _provinces()
    op.create_table('sites',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('former_commune', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'code', name=op.f('pk_sites'))
    )
    op.create_table('user_communes',
    sa.Column('user_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['commune_code'], ['communes.code'], name=op.f('fk_user_communes_commune_code_communes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_communes_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'commune_code', name=op.f('pk_user_communes'))
    )
    with op.batch_alter_table('clerk_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_code', sa.String(length=16), server_default='TT', nullable=False))

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_code', sa.String(length=16), server_default='TT', nullable=False))

    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communes_province_code'), ['province_code'], unique=False)

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_code', sa.String(length=16), server_default='TT', nullable=False))

    with op.batch_alter_table('indicator_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_code', sa.String(length=16), server_default='TT', nullable=False))

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_codes', sa.String(length=550), nullable=True))
        batch_op.add_column(sa.Column('site_code', sa.String(length=16), server_default='TT', nullable=False))
        batch_op.create_index('ix_ratings_dossier_time', ['commune_code', 'corrected_time'], unique=False, postgresql_where=sa.text('dossier_codes IS NOT NULL'), sqlite_where=sa.text('dossier_codes IS NOT NULL'))

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_code', sa.String(length=16), server_default='TT', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))

    _drop_derived()
    _create_rollups()
    _data()


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE users SET role = 'district_viewer' WHERE role = 'commune_viewer' AND district_code IS NOT NULL"
    ))
    conn.execute(sa.text(
        "UPDATE users SET commune_code = NULL WHERE role = 'district_viewer'"
    ))
    _drop_derived()
    _create_old_rollups()
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('province_code')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('site_code')

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_dossier_time', postgresql_where=sa.text('dossier_codes IS NOT NULL'), sqlite_where=sa.text('dossier_codes IS NOT NULL'))
        batch_op.drop_column('site_code')
        batch_op.drop_column('dossier_codes')

    with op.batch_alter_table('indicator_answers', schema=None) as batch_op:
        batch_op.drop_column('site_code')

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('site_code')

    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communes_province_code'))

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('site_code')

    with op.batch_alter_table('clerk_actions', schema=None) as batch_op:
        batch_op.drop_column('site_code')

    op.drop_table('user_communes')
    op.drop_table('sites')
    op.drop_table('provinces')
    # ### end Alembic commands ###
