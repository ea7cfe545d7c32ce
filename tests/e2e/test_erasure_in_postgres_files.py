"""Crypto-shredding that reaches the copies: on PostgreSQL, deleted rows live on in pg_wal, in
replicas and in base backups. After retention erases a household, no byte of the whole cluster
directory (pages and WAL) and no byte of a base backup taken while the household was still
there holds its signal ids or pseudonyms (nor its BSNs or address) in readable form: the rows
held only lookup digests and ciphertext under keys that are now destroyed.

The radar runs as `make run` runs it (ingest, aggregator, projector, query API), on a private
cluster of the test's own, so that the scan reads this cluster's files and nothing else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services.retention.cli import enforce_once
from services.settings import Settings
from testkit.processes import running_radar
from tests.support.ingest import bearer_for, family_signal
from tests.support.inspection import identifiers_found, wait_for
from tests.support.private_postgres import every_byte, private_cluster

PARENT, CHILD = "111222333", "123456782"  # synthetic: both pass the elfproef
ADDRESS = {"postcode": "3512 JE", "house_number": 11}
POLICE = Publisher("sys-politie", "politie-midden-nederland", Sector.POLICE)
SCHOOL = Publisher("sys-school", "obs-de-regenboog", Sector.EDUCATION)


def _signal(kind: str, days_ago: int) -> dict[str, Any]:
    return family_signal(kind, days_ago, ADDRESS, PARENT, CHILD)


def test_an_erased_household_is_in_no_byte_of_the_cluster_nor_of_an_earlier_base_backup(
    tmp_path: Path, topic: str
) -> None:
    with private_cluster() as cluster:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=cluster.create_database("radar_erasure"),
            vault_url=cluster.create_database("radar_erasure_vault"),
            kafka_bootstrap=Settings().kafka_bootstrap,
            signals_topic=topic,
            consumer_group=f"test-aggregator-{uuid.uuid4().hex[:8]}",
        )
        authority = TokenAuthority(settings.keys_dir)
        triage = bearer_for(
            authority,
            Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, "VT09"),  # type: ignore[arg-type]
            Audience.QUERY,
        )
        signals = [_signal("zorgmelding", 30), _signal("school_absence", 16)]
        with running_radar(settings) as radar:
            for body, publisher in zip(signals, (POLICE, SCHOOL), strict=True):
                answer = httpx.post(
                    f"{radar.ingest_url}/v1/signals",
                    json=body,
                    headers=bearer_for(authority, publisher, Audience.INGEST),
                )
                assert answer.status_code == 202, answer.text

            def worklist() -> list[dict[str, Any]]:
                answer = httpx.get(
                    f"{radar.query_url}/v1/worklist", params={"purpose": "triage"}, headers=triage
                )
                assert answer.status_code == 200, answer.text
                return list(answer.json()["alerts"])

            wait_for(lambda: len(worklist()) == 1, 90, "the cross-sector alert")
            household = worklist()[0]["household"]
            timeline = httpx.get(
                f"{radar.query_url}/v1/households/{household}/timeline",
                params={"purpose": "triage"},
                headers=triage,
            ).json()
            shown = {s["signal_id"] for s in timeline["signals"]}
            assert shown == {s["event_id"] for s in signals}, "the timeline shows both"
            persons = {p["pseudonym"] for s in timeline["signals"] for p in s["persons"]}
            assert len(persons) == 2
            cluster.checkpoint()
            backup = cluster.base_backup(tmp_path / "base-backup")

            report = enforce_once(settings, False, lambda: datetime.now(UTC) + timedelta(days=800))
            assert dict(report.expired) == {"signals_without_case": 1}
            wait_for(lambda: worklist() == [], 30, "the alert to leave the worklist")
        cluster.checkpoint()

        secrets = [
            *(s["event_id"] for s in signals),
            household,
            *persons,
            PARENT,
            CHILD,
            "3512JE",
            "3512 JE",
        ]
        haystack = every_byte(cluster.directory, backup)
        assert len(haystack) > 10_000_000, "the scan read the cluster's files"
        assert identifiers_found(haystack, secrets) == []
