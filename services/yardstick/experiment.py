"""The yardstick's experiment: for each risk-model version and seed, the world through the
pipeline with every party's signals (the radar) and with each party's alone (the single-party
baseline: the same pipeline, only that party's signals), measured; and the radar's recorded
scores measured against a range of alert thresholds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from radar.risk_model_v2 import AnyRiskModel
from radar.simulation.measures import Measures, Spread, measure, measure_at_threshold
from radar.simulation.parameters import WorldParameters
from radar.simulation.world import generate
from services.yardstick import pipeline
from services.yardstick.pipeline import Builder

WORKERS = 6  # pipeline runs at once: a seed's radar and its five single parties
THRESHOLDS = (4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 18.0, 22.0, 27.0, 33.0, 40.0)


@dataclass
class SeedRun:
    seed: int
    radar: Measures
    parties: dict[str, Measures]
    curve: dict[float, Measures]  # threshold -> the radar's score rule at it


@dataclass
class ModelRuns:
    version: int
    alert_score: float  # the model's own threshold (thresholds.alert_score)
    runs: list[SeedRun] = field(default_factory=list)

    def best_party(self) -> str:
        """The single party that sees most escalations in time (then: the earliest)."""
        names = self.runs[0].parties
        return max(
            names,
            key=lambda p: (
                Spread.of([r.parties[p].recall for r in self.runs]).mean,
                Spread.of([r.parties[p].median_lead for r in self.runs]).mean,
            ),
        )


def evaluate(
    parameters: WorldParameters,
    models: Sequence[AnyRiskModel],
    seeds: Sequence[int],
    build: Builder,
    bootstrap_servers: str,
    progress: Callable[[str], None] = lambda _: None,
    workers: int = WORKERS,
) -> list[ModelRuns]:
    """Every model version on every seed's world (the world does not depend on the model).
    The runs are independent (each its own topic and database) and mostly wait on the broker
    and the aggregator, so `workers` of them go at once."""
    found = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="yardstick") as pool:
        for model in models:
            runs = ModelRuns(model.version, model.thresholds.alert_score)
            for seed in seeds:
                world = generate(parameters, seed)
                progress(f"model {model.version}, seed {seed}: {len(world.signals)} signals")
                names = sorted(parameters.parties)
                radar = pool.submit(pipeline.run, world, model, build, bootstrap_servers)
                alone = [
                    pool.submit(
                        pipeline.run, world, model, build, bootstrap_servers, frozenset({name})
                    )
                    for name in names
                ]
                seen = radar.result()
                parties = {n: measure(world, f.result()) for n, f in zip(names, alone, strict=True)}
                curve = {t: measure_at_threshold(world, seen, t) for t in THRESHOLDS}
                runs.runs.append(SeedRun(seed, measure(world, seen), parties, curve))
            found.append(runs)
    return found
