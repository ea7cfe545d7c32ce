"""Restriction of processing (AVG art. 18): a privacy officer restricts a household or a person.

While a subject is restricted the policy decision point refuses every purpose not marked
`restricted_access` (legal claims, the subject's own request), and a household's timeline
withholds the signals that name a restricted person. The register lives in the radar database;
each placing and lifting is also an entry of the access log, written in the same transaction,
so the log alone tells an auditor which subjects were restricted when (`RestrictionHistory`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from contracts.leak_guard import contains_identifier
from contracts.pseudonyms import HOUSEHOLD_PREFIX, PERSON_PREFIX
from contracts.pseudonyms_v2 import subject_kind_of
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry, LogKeysMissingError
from privacy.storage.access_log_chain import utc
from privacy.storage.access_log_sealing import LogSealing, period_of
from privacy.storage.erasure import erasing

metadata = MetaData()

processing_restrictions = Table(
    "processing_restrictions",
    metadata,
    Column("restriction_id", String(36), primary_key=True),
    # The subject's lookup digest (restrictions written before sealing named it in clear
    # until the register migrated them); the pseudonym itself is sealed under the key of the
    # log period the restriction was placed in, so it lives as long as the log entry does.
    Column("subject", String(64), nullable=False, index=True),
    Column("period", String(7), nullable=True),
    Column("sealed_subject", LargeBinary, nullable=True),
    Column("subject_kind", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("lifted_by", String(64), nullable=True),
    Column("lifted_at", DateTime(timezone=True), nullable=True),
)


class RestrictionProblem(StrEnum):
    """Why a restriction cannot be placed or lifted."""

    INVALID = "invalid"  # the request is wrong (subject, reason)
    UNKNOWN = "unknown"  # no such restriction
    ALREADY_LIFTED = "already_lifted"


class RestrictionError(ValueError):
    """A restriction that cannot be placed or lifted, and why (`problem`)."""

    def __init__(self, problem: RestrictionProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class Restriction:
    """One restriction as stored."""

    restriction_id: str
    subject: str
    subject_kind: str  # household or person
    reason: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None

    @property
    def active(self) -> bool:
        return self.lifted_at is None


def subject_kind(subject: str) -> str:
    """household or person, from the pseudonym's prefix; anything else is refused."""
    kind = subject_kind_of(subject)
    if kind is None:
        raise RestrictionError(
            RestrictionProblem.INVALID, "subject must be a household or person pseudonym"
        )
    return kind


class RestrictionRegister:
    """Places, lifts and answers restrictions; each change is one access-log entry."""

    def __init__(self, access_log: AccessLog) -> None:
        self.access_log = access_log
        self.engine = access_log.engine
        if access_log.sealing is not None:
            _seal_old_rows(self.engine, access_log.sealing)

    @property
    def _sealing(self) -> LogSealing:
        if self.access_log.sealing is None:
            raise LogKeysMissingError("the restriction register needs the access log's keys")
        return self.access_log.sealing

    def _digest(self, subject: str) -> str:
        digest = self._sealing.subject_digest(subject)
        assert digest is not None  # subject_kind accepted it
        return digest

    def place(self, subject: str, reason: str, by: dict[str, str]) -> Restriction:
        """Restricts a subject. The reason is kept and logged, so it must carry no identifier."""
        kind = subject_kind(subject)
        if contains_identifier(reason):
            raise RestrictionError(
                RestrictionProblem.INVALID, "reason must not contain an identifier"
            )
        restriction_id = str(uuid.uuid4())
        payload = {
            "restriction_id": restriction_id,
            "subject": subject,
            "subject_kind": kind,
            "reason": reason,
            "by": by,
        }

        def store(connection: Connection, entry: LogEntry) -> None:
            period = period_of(entry.recorded_at)
            connection.execute(
                insert(processing_restrictions).values(
                    restriction_id=restriction_id,
                    subject=self._digest(subject),
                    period=period,
                    sealed_subject=self._sealing.seal(
                        period, _where(restriction_id), subject, connection
                    ),
                    subject_kind=kind,
                    reason=reason,
                    placed_by=by["subject"],
                    placed_at=entry.recorded_at,
                )
            )

        self.access_log.append(EntryKind.RESTRICTION_PLACED, payload, also=store)
        found = self.get(restriction_id)
        assert found is not None
        return found

    def lift(self, restriction_id: str, by: dict[str, str]) -> Restriction:
        """Lifts an active restriction; 404 when unknown, 409 when already lifted."""

        def store(connection: Connection, entry: LogEntry) -> None:
            lifted = connection.execute(
                update(processing_restrictions)
                .where(
                    processing_restrictions.c.restriction_id == restriction_id,
                    processing_restrictions.c.lifted_at.is_(None),
                )
                .values(lifted_by=by["subject"], lifted_at=entry.recorded_at)
            )
            if lifted.rowcount != 1:  # rolls the log entry back with it
                raise RestrictionError(
                    RestrictionProblem.ALREADY_LIFTED, "restriction is already lifted"
                )

        current = self.get(restriction_id)
        if current is None:
            raise RestrictionError(RestrictionProblem.UNKNOWN, "no such restriction")
        if not current.active:
            raise RestrictionError(
                RestrictionProblem.ALREADY_LIFTED, "restriction is already lifted"
            )
        payload = {"restriction_id": restriction_id, "subject": current.subject, "by": by}
        self.access_log.append(EntryKind.RESTRICTION_LIFTED, payload, also=store)
        found = self.get(restriction_id)
        assert found is not None
        return found

    def get(self, restriction_id: str) -> Restriction | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(processing_restrictions).where(
                    processing_restrictions.c.restriction_id == restriction_id
                )
            ).first()
        return None if row is None else self._restriction(row._mapping)

    def all(self, active_only: bool = False) -> list[Restriction]:
        """Restrictions in the order they were placed."""
        query = select(processing_restrictions).order_by(processing_restrictions.c.placed_at)
        if active_only:
            query = query.where(processing_restrictions.c.lifted_at.is_(None))
        with self.engine.connect() as connection:
            rows = [row._mapping for row in connection.execute(query)]
        self._sealing.prefetch({row["period"] for row in rows if row["period"]})
        return [self._restriction(row) for row in rows]

    def is_restricted(self, subject: str) -> bool:
        return bool(self.restricted_among([subject]))

    def restricted_among(self, subjects: Iterable[str]) -> frozenset[str]:
        """Which of these pseudonyms are under an active restriction (one query)."""
        by_digest = {self._sealing.subject_digest(s): s for s in set(subjects)}
        by_digest.pop(None, None)
        if not by_digest:
            return frozenset()
        with self.engine.connect() as connection:
            found = connection.execute(_ACTIVE_AMONG, {"digests": list(by_digest)}).scalars()
            return frozenset(by_digest[digest] for digest in found)

    def _restriction(self, values: Any) -> Restriction:
        """A stored row with its subject opened (shown as unreadable once the log period's
        key is gone: the restriction itself still holds, by digest)."""
        opened = None
        if values["sealed_subject"] is not None:
            opened = self._sealing.open(
                values["period"], _where(values["restriction_id"]), values["sealed_subject"]
            )
        return _restriction({**values, "subject": opened or UNREADABLE_SUBJECT})


@dataclass
class RestrictionHistory:
    """Which subjects were restricted at a point of the access log, replayed from its entries;
    the compliance check re-decides each access with it."""

    active: dict[str, str] = field(default_factory=dict)  # restriction id -> subject

    def apply(self, entry: LogEntry) -> bool:
        """Follows a placing or lifting; answers whether the entry was one."""
        if entry.kind == EntryKind.RESTRICTION_PLACED:
            self.active[entry.payload["restriction_id"]] = entry.payload["subject"]
            return True
        if entry.kind == EntryKind.RESTRICTION_LIFTED:
            self.active.pop(entry.payload["restriction_id"], None)
            return True
        return False

    def restricted(self, subject: str | None) -> bool:
        return subject is not None and subject in self.active.values()


_ACTIVE_AMONG = select(processing_restrictions.c.subject).where(
    processing_restrictions.c.subject.in_(bindparam("digests", expanding=True)),
    processing_restrictions.c.lifted_at.is_(None),
)
"""Built once: every query asks it, and building a select cost more than running it."""

UNREADABLE_SUBJECT = "(onleesbaar: bewaartermijn van het toegangslog verstreken)"


def _where(restriction_id: str) -> str:
    return f"processing_restrictions|{restriction_id}"


def _seal_old_rows(engine: Any, sealing: LogSealing) -> None:
    """Rewrites restrictions stored before sealing (subject in clear) once: digest plus the
    subject sealed under the period it was placed in; erased so the clear bytes go too."""
    table = processing_restrictions
    with engine.connect() as connection:
        old = connection.execute(
            select(table.c.restriction_id, table.c.subject, table.c.placed_at).where(
                table.c.sealed_subject.is_(None),
                or_(
                    table.c.subject.startswith(f"{HOUSEHOLD_PREFIX}."),
                    table.c.subject.startswith(f"{PERSON_PREFIX}."),
                ),
            )
        ).all()
    if not old:
        return
    with erasing(engine, [table]) as connection:
        for restriction_id, subject, placed_at in old:
            period = period_of(utc(placed_at))
            connection.execute(
                update(table)
                .where(table.c.restriction_id == restriction_id, table.c.sealed_subject.is_(None))
                .values(
                    subject=sealing.subject_digest(subject),
                    period=period,
                    sealed_subject=sealing.seal(
                        period, _where(restriction_id), subject, connection
                    ),
                )
            )


def _restriction(values: Any) -> Restriction:
    return Restriction(
        restriction_id=values["restriction_id"],
        subject=values["subject"],
        subject_kind=values["subject_kind"],
        reason=values["reason"],
        placed_by=values["placed_by"],
        placed_at=utc(values["placed_at"]),
        lifted_by=values["lifted_by"],
        lifted_at=None if values["lifted_at"] is None else utc(values["lifted_at"]),
    )
