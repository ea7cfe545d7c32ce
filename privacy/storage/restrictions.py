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

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Connection

from contracts.leak_guard import contains_identifier
from contracts.pseudonyms import HOUSEHOLD_PREFIX, PERSON_PREFIX
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from privacy.storage.access_log_chain import utc

metadata = MetaData()

processing_restrictions = Table(
    "processing_restrictions",
    metadata,
    Column("restriction_id", String(36), primary_key=True),
    Column("subject", String(64), nullable=False, index=True),
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
    prefix = subject.split(".", 1)[0]
    kinds = {HOUSEHOLD_PREFIX: "household", PERSON_PREFIX: "person"}
    if prefix not in kinds:
        raise RestrictionError(
            RestrictionProblem.INVALID, "subject must be a household or person pseudonym"
        )
    return kinds[prefix]


class RestrictionRegister:
    """Places, lifts and answers restrictions; each change is one access-log entry."""

    def __init__(self, access_log: AccessLog) -> None:
        self.access_log = access_log
        self.engine = access_log.engine
        metadata.create_all(self.engine)

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
            connection.execute(
                insert(processing_restrictions).values(
                    restriction_id=restriction_id,
                    subject=subject,
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
        return None if row is None else _restriction(row._mapping)

    def all(self, active_only: bool = False) -> list[Restriction]:
        """Restrictions in the order they were placed."""
        query = select(processing_restrictions).order_by(processing_restrictions.c.placed_at)
        if active_only:
            query = query.where(processing_restrictions.c.lifted_at.is_(None))
        with self.engine.connect() as connection:
            return [_restriction(row._mapping) for row in connection.execute(query)]

    def is_restricted(self, subject: str) -> bool:
        return bool(self.restricted_among([subject]))

    def restricted_among(self, subjects: Iterable[str]) -> frozenset[str]:
        """Which of these pseudonyms are under an active restriction (one query)."""
        wanted = set(subjects)
        if not wanted:
            return frozenset()
        with self.engine.connect() as connection:
            found = connection.execute(
                select(processing_restrictions.c.subject).where(
                    processing_restrictions.c.subject.in_(wanted),
                    processing_restrictions.c.lifted_at.is_(None),
                )
            ).scalars()
            return frozenset(found)


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
