"""A restore's lineage counts only when signed by the restore's own commands, on SQLite and
PostgreSQL: a lineage row written into the database by hand (to pass a truncation off as a
restore) is not signed by the running sealer, which holds back its checkpoints instead, and
`radar audit verify` fails naming the unsigned restore; the database written before the lineage
table (revision 0002) takes the migration and opens with its checkpoints as before."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from services.audit import service
from services.audit.lineage import record_restore
from services.audit.settings import AuditSettings
from services.audit.verify import stored_checkpoints
from services.bootstrap import sealer
from services.database import Database
from services.ledger.store import open_ledger
from services.schema.migrate import head_revision, upgrade_database
from services.settings import Settings
from tests.support.audit_helpers import Sealed, Tamperer, household, record, signal


def test_a_lineage_row_written_by_hand_does_not_pass_a_truncation_off_as_a_restore(
    sealed: Sealed, settings: Settings, database: Database, audit: AuditSettings
) -> None:
    kept = sealed.checkpoints[1]
    Tamperer(database).truncate_after(kept)
    engine = database.engine()
    with engine.begin() as connection:  # what someone with the database alone can write
        forged = record_restore(connection, kept, kept, datetime.now(UTC))
    assert forged is not None
    signed_before = len(stored_checkpoints(engine))

    ledger = open_ledger(database)  # the radar goes on recording
    record(ledger, [signal(household(n)) for n in range(30)], 100)
    ledger.close()
    worker = sealer(settings, audit)  # the projector's sealer, going on after the "restore"
    try:
        assert worker.catch_up() > 0
    finally:
        worker.close()
    assert len(stored_checkpoints(engine)) == signed_before, "it signed nothing meanwhile"
    engine.dispose()

    report = service.verify_report(settings, use_kafka=True, work_file=None, audit=audit)

    assert not report.intact
    (unsigned,) = [f for f in report.faults if f.kind == "restore"]
    assert "no checkpoint signs it yet" in unsigned.detail
    assert f"from store {forged.parent} at notification {kept}" in unsigned.detail


def test_a_database_of_revision_0002_takes_the_lineage_table_and_still_verifies(
    sealed: Sealed, settings: Settings, database: Database, audit: AuditSettings
) -> None:
    engine = database.unchecked_engine()
    with engine.begin() as connection:  # as the previous revision left it
        connection.execute(text("DROP TABLE audit_lineage"))
        connection.execute(text("UPDATE radar_schema_version SET version_num = '0002'"))
    engine.dispose()

    before, after = upgrade_database(database)

    assert (before.revision, after.revision) == ("0002", head_revision())
    report = service.verify_report(settings, use_kafka=True, work_file=None, audit=audit)
    assert report.intact, [f.line() for f in report.faults]
    assert report.restores == []
