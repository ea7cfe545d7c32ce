"""What retention has erased from the event store, kept so that nothing writes it back.

A read model decodes a batch of events, then writes its rows in a transaction of its own. An
erasure that runs in between (keys destroyed, rows purged) would find its rows purged and
then see them written again by that transaction, under a new row key, readable. So each
erasure first records, per aggregate (the subject of an event-store data key), the last
version it erases; the read models look up the events of every batch here inside their write
transaction and leave out those erased (services/projections/positions.py, `moving_position`).

A record holds only what the event store keeps readable anyway: the aggregate id and a
version. While an erasure is unfinished it also holds the household's pseudonym wrapped by
the key-encryption key, so that a run cut short (a crash between destroying the keys and
purging the rows) is finished by the next one: once the keys are gone, nothing else could
tell which household's rows remain. The pseudonym goes when the erasure is finished.

Ordering, which the read models' check relies on: the record is committed before any key is
destroyed and before any row is purged. On SQLite one writer at a time orders a read model's
check against it; on PostgreSQL the check holds this table in SHARE mode until its commit,
so a record being made waits for read models already past their check (whose rows the purge
that follows then removes) and a read model after it sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from privacy.key_encryption import KeyEncryptionKey, WrappedKey

SUBJECTS_PER_QUERY = 500  # well under SQLite's bound on parameters per statement
WRAP_CONTEXT = b"signal-radar/retention-erasure/household|v1"

metadata = MetaData()

erasures = Table(
    "retention_erasures",
    metadata,
    Column("subject", String(64), primary_key=True),  # an aggregate id, as the keys name it
    Column("through_version", BigInteger, nullable=False),  # its last erased version
    Column("erased_at", DateTime(timezone=True), nullable=False),
    # while unfinished: the household's pseudonym, wrapped by the KEK (kek_id names the version)
    Column("kek_id", String(64), nullable=True),
    Column("wrapped_household", LargeBinary, nullable=True),
)

_THROUGH_OF = select(erasures.c.subject, erasures.c.through_version).where(
    erasures.c.subject.in_(bindparam("subjects", expanding=True))
)
"""Built once: every read model asks it of every batch (building `IN (...)` anew cost more
than the query)."""


@dataclass(frozen=True)
class Erasure:
    """One household's erasure: its pseudonym and the last version of each of its aggregates
    (the household, its case) that the erasure takes."""

    household: str
    through: Mapping[str, int]


class ErasureRecords:
    """The records of erasures on one database (the event store's)."""

    def __init__(self, engine: Engine, kek: KeyEncryptionKey) -> None:
        self._engine = engine
        self._kek = kek

    def begin(self, started: Iterable[Erasure]) -> None:
        """Records erasures about to happen, in one transaction; an aggregate erased before
        (and recorded again since) takes its new, later version."""
        now = datetime.now(UTC)
        rows: list[dict[str, object]] = []
        subjects: list[str] = []
        for erasure in started:
            wrapped = self._kek.wrap(erasure.household.encode(), WRAP_CONTEXT)
            for subject, version in erasure.through.items():
                subjects.append(subject)
                rows.append(
                    {
                        "subject": subject,
                        "through_version": version,
                        "erased_at": now,
                        "kek_id": wrapped.kek_id,
                        "wrapped_household": wrapped.wrapped,
                    }
                )
        if not rows:
            return
        with self._engine.begin() as connection:
            for chunk in _chunks(subjects):
                connection.execute(delete(erasures).where(erasures.c.subject.in_(chunk)))
            connection.execute(insert(erasures), rows)

    def extend(self, through: Mapping[str, int]) -> None:
        """Moves the last erased version of aggregates on: events recorded under the old key
        after `begin` and before the key was destroyed are erased too."""
        with self._engine.begin() as connection:
            for subject, version in through.items():
                connection.execute(
                    update(erasures)
                    .where(erasures.c.subject == subject, erasures.c.through_version < version)
                    .values(through_version=version)
                )

    def through_of(self, subjects: Iterable[str]) -> dict[str, int]:
        """The last erased version of those aggregates that have an erasure recorded."""
        found: dict[str, int] = {}
        with self._engine.connect() as connection:
            for chunk in _chunks(sorted(set(subjects))):
                rows = connection.execute(_THROUGH_OF, {"subjects": chunk}).all()
                found.update((subject, through) for subject, through in rows)
        return found

    def cancel(self, subjects: Iterable[str]) -> None:
        """Drops erasures that did not happen (their households had news: kept whole)."""
        with self._engine.begin() as connection:
            for chunk in _chunks(sorted(set(subjects))):
                connection.execute(delete(erasures).where(erasures.c.subject.in_(chunk)))

    def unfinished(self) -> list[str]:
        """The households of erasures begun and not finished (a run cut short)."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(erasures.c.kek_id, erasures.c.wrapped_household)
                .where(erasures.c.wrapped_household.is_not(None))
                .distinct()
            ).all()
        households = set()
        for row in rows:
            wrapped = WrappedKey(row.kek_id, row.wrapped_household)
            households.add(self._kek.unwrap(wrapped, WRAP_CONTEXT).decode())
        return sorted(households)

    def finish(self, subjects: Iterable[str]) -> None:
        """Marks erasures finished: their households' pseudonyms are no longer kept."""
        with self._engine.begin() as connection:
            for chunk in _chunks(sorted(set(subjects))):
                connection.execute(
                    update(erasures)
                    .where(erasures.c.subject.in_(chunk))
                    .values(kek_id=None, wrapped_household=None)
                )

    def rewrap(self) -> int:
        """Re-wraps the pseudonyms of unfinished erasures under the KEK's current version (a
        KEK rotation, as the data keys); returns how many records changed."""
        current = self._kek.current_id
        count = 0
        with self._engine.begin() as connection:
            rows = connection.execute(
                select(erasures.c.subject, erasures.c.kek_id, erasures.c.wrapped_household).where(
                    erasures.c.wrapped_household.is_not(None), erasures.c.kek_id != current
                )
            ).all()
            for row in rows:
                household = self._kek.unwrap(
                    WrappedKey(row.kek_id, row.wrapped_household), WRAP_CONTEXT
                )
                wrapped = self._kek.wrap(household, WRAP_CONTEXT)
                connection.execute(
                    update(erasures)
                    .where(erasures.c.subject == row.subject)
                    .values(kek_id=wrapped.kek_id, wrapped_household=wrapped.wrapped)
                )
                count += 1
        return count

    def wrapped_under(self, kek_id: str) -> int:
        """How many unfinished erasures keep a pseudonym wrapped under this KEK version."""
        with self._engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(erasures).where(erasures.c.kek_id == kek_id)
                ).scalar_one()
            )


def erased_places(
    connection: Connection, places: Iterable[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Which of these (aggregate id, version) places an erasure took, asked within the
    caller's write transaction (see the module's docstring for why that orders it)."""
    wanted: dict[str, list[int]] = {}
    for subject, version in places:
        wanted.setdefault(subject, []).append(version)
    if not wanted:
        return set()
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"LOCK TABLE {erasures.name} IN SHARE MODE"))
    erased: set[tuple[str, int]] = set()
    for chunk in _chunks(sorted(wanted)):
        rows = connection.execute(_THROUGH_OF, {"subjects": chunk}).all()
        for subject, through in rows:
            erased.update((subject, v) for v in wanted[subject] if v <= through)
    return erased


def _chunks(subjects: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(subjects), SUBJECTS_PER_QUERY):
        yield subjects[start : start + SUBJECTS_PER_QUERY]
