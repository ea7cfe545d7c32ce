"""The yardstick's table: per risk-model version, the radar against the best single party
(mean ± standard deviation over the seeds)."""

from __future__ import annotations

from collections.abc import Sequence

from radar.simulation.measures import Measures, Spread
from radar.simulation.parameters import WorldParameters
from services.yardstick.experiment import THRESHOLDS, ModelRuns


def _spread(values: Sequence[float], digits: int = 2) -> str:
    return Spread.of(values).shown(digits)


def table(parameters: WorldParameters, results: Sequence[ModelRuns]) -> str:
    """Markdown: one row per model version; the world's version and scale above it."""
    first = results[0].runs
    households = parameters.scale.households()
    lines = [
        f"World v{parameters.version}: {households} households a year "
        f"({parameters.scale.region_fraction:g} of an average VT region), "
        f"{len(first)} seed{'' if len(first) == 1 else 's'} "
        f"({', '.join(str(r.seed) for r in first)}), "
        f"{_spread([r.radar.escalating for r in first], 1)} escalating households per world.",
        "",
        "| model | recall radar | recall best party | median lead days radar | median lead days "
        "best party | lead gain days | alerts per analyst per week | share of alerts escalating |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model in results:
        best = model.best_party()
        radar = [r.radar for r in model.runs]
        party = [r.parties[best] for r in model.runs]
        gains = [r.radar.median_lead - r.parties[best].median_lead for r in model.runs]
        lines.append(
            f"| {model.version} | {_spread([m.recall for m in radar])} "
            f"| {_spread([m.recall for m in party])} ({best}) "
            f"| {_spread([m.median_lead for m in radar], 1)} "
            f"| {_spread([m.median_lead for m in party], 1)} "
            f"| {_spread(gains, 1)} "
            f"| {_spread([m.alerts_per_analyst_week for m in radar], 1)} "
            f"| {_spread([m.escalating_share for m in radar])} |"
        )
    lines += ["", *_parties(results), "", *_curve(results)]
    return "\n".join(lines) + "\n"


def _parties(results: Sequence[ModelRuns]) -> list[str]:
    """Every single party's recall and median lead, for the record."""
    lines = ["| model | party | recall | median lead days | alerts per analyst per week |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for model in results:
        for name in sorted(model.runs[0].parties):
            found: list[Measures] = [r.parties[name] for r in model.runs]
            lines.append(
                f"| {model.version} | {name} | {_spread([m.recall for m in found])} "
                f"| {_spread([m.median_lead for m in found], 1)} "
                f"| {_spread([m.alerts_per_analyst_week for m in found], 1)} |"
            )
    return lines


def _curve(results: Sequence[ModelRuns]) -> list[str]:
    """The radar's score rule over the thresholds: recall and workload (the plots' numbers)."""
    header = " | ".join(
        f"model {m.version} recall | model {m.version} alerts/analyst/week" for m in results
    )
    lines = [f"| threshold | {header} |", "| --- |" + " --- |" * (2 * len(results))]
    for threshold in THRESHOLDS:
        cells = []
        for model in results:
            at = [r.curve[threshold] for r in model.runs]
            cells.append(_spread([m.recall for m in at]))
            cells.append(_spread([m.alerts_per_analyst_week for m in at], 1))
        lines.append(f"| {threshold:g} | {' | '.join(cells)} |")
    return lines
