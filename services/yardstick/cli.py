"""`radar evaluate`: the radar's own yardstick (issue 23). Runs the synthetic world through the
real pipeline per risk-model version and seed, prints the table and writes it with its plots."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from privacy.addresses import HomeAddress
from radar.risk_model import default_model
from radar.risk_model_v2 import default_model_v2
from services import bootstrap
from services.casework.store import WorklistStore
from services.ledger.consumer import Aggregator
from services.logs import configure_logging
from services.settings import Settings
from services.yardstick.experiment import evaluate as run_experiment
from services.yardstick.pipeline import Clock, RadarUnderTest
from services.yardstick.plots import write_plots
from services.yardstick.report import table
from services.yardstick.world_file import load_world

DEFAULT_SEEDS = 3
DEFAULT_OUT = Path("yardstick-results")


def radar_in_process(settings: Settings, clock: Clock) -> RadarUnderTest:
    """The pipeline's parts on `settings`, built as the processes build them; ingest's clock
    is the simulation's."""
    parts = bootstrap.Parts(settings)
    ingest, publisher = bootstrap.ingest_service(parts, clock)
    aggregator = Aggregator(
        parts.ledger,
        settings.kafka_bootstrap,
        settings.signals_topic,
        settings.consumer_group,
        settings.aggregator_batch_records,
    )
    with parts.database.schema_lock():
        worklist = WorklistStore(parts.engine, parts.row_sealer)
    first_known = bootstrap.household_of(parts.pseudonyms, parts.vault)

    def close() -> None:
        publisher.close()
        parts.close()

    return RadarUnderTest(
        ingest,
        aggregator,
        parts.ledger,
        worklist,
        lambda postcode, number: first_known(HomeAddress.normalised(postcode, number)),
        close,
    )


def evaluate(
    seeds: Annotated[int, typer.Option(help="Worlds to draw (seeds 1..N).", min=1)] = DEFAULT_SEEDS,
    out: Annotated[Path, typer.Option(help="Folder for the table and the plots.")] = DEFAULT_OUT,
    world: Annotated[
        Path | None, typer.Option(help="A world file (default: the shipped world-v1.toml).")
    ] = None,
) -> None:
    """Measure the radar on a synthetic world: recall, lead time and workload per model
    version, radar against the best single party; write the table and plots."""
    settings = Settings()
    configure_logging("yardstick", "warning")  # the pipeline's own lines, per signal, drown it
    logging.getLogger("kafka").setLevel(logging.ERROR)  # each fresh topic's first-poll notes
    parameters = load_world(world)
    began = time.monotonic()
    results = run_experiment(
        parameters,
        [default_model(), default_model_v2()],
        range(1, seeds + 1),
        radar_in_process,
        settings.kafka_bootstrap,
        progress=lambda line: typer.echo(line, err=True),
    )
    text = table(parameters, results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(text, encoding="utf-8")
    written = write_plots(results, out)
    typer.echo(text)
    typer.echo(f"written: {', '.join(str(p) for p in [out / 'table.md', *written])}")
    typer.echo(f"took {time.monotonic() - began:.0f} s ({datetime.now().astimezone():%H:%M})")
