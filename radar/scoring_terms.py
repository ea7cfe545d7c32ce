"""What a model says of each kind of signal, looked up once per model object (radar.scoring's
scopes read it for every factor they work out)."""

from __future__ import annotations

from contracts.signal_types_v2 import SignalTypeV2
from radar.risk_model_v2 import AnyRiskModel


class Terms:
    """What a model says of each kind of signal, looked up once per model rather than per
    factor (the model's own lookups parse its enums on every call): the weight (type weight x
    severity multiplier, the reference's product) and half-life by type and severity (signal.v2's
    types too: those the model does not know weigh radar.risk_model.UNWEIGHED_TYPE), and the
    types that concern children."""

    def __init__(self, model: AnyRiskModel) -> None:
        self.concerning = frozenset(str(t) for t in model.children.types_concerning_children)
        kinds = {str(kind) for kind in (*model.signal_types, *SignalTypeV2)}  # v2's: unweighed
        self.weights: dict[tuple[str, str], tuple[float, float]] = {
            (kind, str(severity)): (weight.weight * multiplier, weight.half_life_days)
            for kind, weight in ((k, model.type_weight(k)) for k in kinds)
            for severity, multiplier in model.severity.items()
        }

    @classmethod
    def of(cls, model: AnyRiskModel) -> Terms:
        """The model's terms, made once per model object (the ledger's model in force is one
        object for as long as it is in force)."""
        held = _TERMS.get(id(model))
        if held is not None and held[0] is model:
            return held[1]
        if len(_TERMS) >= 16:
            _TERMS.clear()
        terms = cls(model)
        _TERMS[id(model)] = (model, terms)
        return terms


_TERMS: dict[int, tuple[AnyRiskModel, Terms]] = {}
