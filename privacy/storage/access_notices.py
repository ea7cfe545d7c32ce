"""The notices a region gets when someone from elsewhere opened one of its households, kept
beside the access log: the household as its lookup digest, its pseudonym sealed under the
access's period key (so the log's retention makes old notices unreadable too)."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.storage.access_log_chain import utc
from privacy.storage.access_log_sealing import LogSealing, period_of


class _Entry(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def recorded_at(self) -> Any: ...


def insert_notice(
    connection: Connection, table: Table, sealing: LogSealing, entry: _Entry, notice: dict[str, Any]
) -> None:
    """The notice of an entry, in the entry's transaction."""
    values = dict(notice)
    household = values.pop("household")
    connection.execute(
        insert(table).values(
            access_seq=entry.seq,
            recorded_at=entry.recorded_at,
            household=sealing.digests.household(household),
            sealed_household=sealing.seal(
                period_of(entry.recorded_at), _where(entry.seq), household, connection
            ),
            **values,
        )
    )


def seal_old_notices(engine: Engine, table: Table, sealing: LogSealing) -> None:
    """Migration in place: notices written before format 2 held the household's pseudonym;
    they now hold its digest and the pseudonym sealed under the period's key. A twin process
    migrating at the same moment may make a period's key first: then this runs again."""
    try:
        _seal_old_notices(engine, table, sealing)
    except IntegrityError:
        _seal_old_notices(engine, table, sealing)


def _seal_old_notices(engine: Engine, table: Table, sealing: LogSealing) -> None:
    with engine.begin() as connection:
        old = connection.execute(select(table).where(table.c.sealed_household.is_(None))).all()
        for row in old:
            period = period_of(utc(row.recorded_at))
            connection.execute(
                update(table)
                .where(table.c.access_seq == row.access_seq, table.c.sealed_household.is_(None))
                .values(
                    household=sealing.digests.household(row.household),
                    sealed_household=sealing.seal(
                        period, _where(row.access_seq), row.household, connection
                    ),
                )
            )


def region_notices(
    engine: Engine, table: Table, sealing: LogSealing, region: str
) -> list[dict[str, Any]]:
    """The region's notices, newest first, with the household opened; unreadable ones left out."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(table).where(table.c.region == region).order_by(table.c.access_seq.desc())
        ).all()
    found = []
    for row in rows:
        values = dict(row._mapping)
        sealed = values.pop("sealed_household")
        period = period_of(utc(values["recorded_at"]))
        household = sealing.open(period, _where(row.access_seq), sealed)
        if household is not None:
            found.append({**values, "household": household})
    return found


def _where(access_seq: int) -> str:
    return f"access_notices|{access_seq}"
