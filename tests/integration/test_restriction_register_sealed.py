"""The restriction register (AVG art. 18) names its subjects the way the access log does: by
lookup digest, the pseudonym sealed under the key of the log period the restriction was placed
in. The privacy officer still lists restrictions with their subjects and every view still
enforces them; a register written before (subjects in clear) is migrated when opened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert

from privacy.storage.restrictions import RestrictionRegister, processing_restrictions
from services.database import Database
from tests.support.inspection import database_bytes, identifiers_found

OFFICER = {"subject": "fg.de-vries", "organisation": "vt-utrecht"}
HOUSEHOLD = "hh.k1.0f3c2a9be41d7c55"
PERSON = "p.k1.77aa01c3de9b4f12"
OLD = "hh.k1.9e8d7c6b5a493827"


def test_a_restriction_is_kept_by_digest_and_still_listed_and_enforced(
    database: Database,
) -> None:
    engine = database.engine()
    register = RestrictionRegister(database.access_log(engine))
    placed = register.place(HOUSEHOLD, "bezwaar van de betrokkene", OFFICER)
    register.place(PERSON, "verzoek van de betrokkene", OFFICER)

    assert register.restricted_among([HOUSEHOLD, PERSON, "hh.k1.other"]) == {HOUSEHOLD, PERSON}
    assert {r.subject for r in register.all(active_only=True)} == {HOUSEHOLD, PERSON}
    assert identifiers_found(database_bytes(database), [HOUSEHOLD, PERSON]) == []

    lifted = register.lift(placed.restriction_id, OFFICER)
    assert lifted.subject == HOUSEHOLD and not lifted.active
    assert register.restricted_among([HOUSEHOLD, PERSON]) == {PERSON}


def test_a_register_written_with_subjects_in_clear_is_sealed_on_opening(
    database: Database,
) -> None:
    engine = database.engine()
    RestrictionRegister(database.access_log(engine))  # the tables, as the old code made them
    with engine.begin() as connection:
        connection.execute(
            insert(processing_restrictions).values(
                restriction_id=str(uuid.uuid4()),
                subject=OLD,
                subject_kind="household",
                reason="bezwaar",
                placed_by="fg.de-vries",
                placed_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
            )
        )
    assert OLD.encode() in database_bytes(database)

    reopened = RestrictionRegister(database.access_log(engine))
    assert reopened.is_restricted(OLD), "still enforced after the migration"
    assert [r.subject for r in reopened.all()] == [OLD]
    assert identifiers_found(database_bytes(database), [OLD]) == []
