"""Hypothesis strategies for the signal contracts: any valid v1 signal, and any valid v2 signal
(v2's own facts on top of an upcast v1 one)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from contracts.pseudonyms import PseudonymLink
from contracts.regions import VtRegion
from contracts.signal_types_v2 import REPORTED_TYPES, SIGNAL_TYPES_V2, SignalTypeV2
from contracts.signal_v1 import CLOCK_SKEW_ALLOWED, MAX_PERSONS_PER_SIGNAL, PersonRef, SignalEventV1
from contracts.signal_v2 import MAX_AGE, SignalEventV2
from contracts.upcast_v1_v2 import upcast_signal
from contracts.vocabulary import SIGNAL_TYPES, PersonRole, Severity
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2, ProsecutionOutcome, Reporter

START = datetime(2020, 1, 1, tzinfo=UTC)
_CET = timezone(timedelta(hours=1))
_digests = st.binary(min_size=16, max_size=16).map(bytes.hex)
_sector_and_type = st.sampled_from(
    [(sector, kind) for kind, definition in SIGNAL_TYPES.items() for sector in definition.sectors]
)


@st.composite
def v1_signals(draw: st.DrawFn) -> SignalEventV1:
    """Any valid v1 signal: any sector with a type it may publish, times in order within the
    clock skew allowed, up to the maximum of persons, made under k1 or (rotated) k2 with links
    from some of its pseudonyms to the k1 ones the radar first knew."""
    key = draw(st.sampled_from(["k1", "k2"]))
    household = f"hh.{key}.{draw(_digests)}"
    persons = draw(
        st.lists(
            st.builds(
                PersonRef,
                pseudonym=_digests.map(lambda d: f"p.{key}.{d}"),
                role=st.sampled_from(PersonRole),
            ),
            max_size=MAX_PERSONS_PER_SIGNAL,
        )
    )
    links: list[PseudonymLink] = []
    if key == "k2":
        rekeyed = draw(st.sets(st.sampled_from([household, *(p.pseudonym for p in persons)])))
        links = [
            PseudonymLink(
                kind="household" if name.startswith("hh.") else "person",
                pseudonym=name,
                known_as=f"{name.split('.')[0]}.k1.{draw(_digests)}",
            )
            for name in sorted(rekeyed)
        ]
    occurred = START + timedelta(seconds=draw(st.integers(0, 10**8)))
    skew = st.integers(-CLOCK_SKEW_ALLOWED.seconds, 10**6).map(lambda s: timedelta(seconds=s))
    reported = occurred + draw(skew)
    sector, kind = draw(_sector_and_type)
    return SignalEventV1(
        event_id=uuid.UUID(int=draw(st.integers(0, 2**128 - 1))),
        organisation=draw(st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}", fullmatch=True)),
        sector=sector,
        signal_type=kind,
        severity=draw(st.sampled_from(Severity)),
        occurred_at=occurred.astimezone(draw(st.sampled_from([UTC, _CET]))),
        reported_at=reported,
        received_at=reported + draw(skew),
        region=draw(st.sampled_from(VtRegion)),
        household=household,
        persons=tuple(persons),
        pseudonym_key_id=key,
        known_as=tuple(links),
    )


_v2_sector_and_type = st.sampled_from(
    [(sector, kind) for kind, d in SIGNAL_TYPES_V2.items() for sector in d.sectors]
)


def _person_v2(draw: st.DrawFn, person: dict[str, Any]) -> dict[str, Any]:
    roles = draw(st.lists(st.sampled_from(PersonRoleV2), min_size=1, max_size=3, unique=True))
    age = draw(st.none() | st.integers(0, MAX_AGE))
    return person | {"roles": [str(r) for r in roles], "age": age}


@st.composite
def v2_signals(draw: st.DrawFn) -> SignalEventV2:
    """Any valid v2 signal: an upcast v1 signal given any v2 sector and type, forms of violence,
    roles and ages, perhaps a shelter placement for its household (when not rekeyed) and a
    child not yet born of its first person."""
    document = upcast_signal(draw(v1_signals())).model_dump(mode="json")
    sector, kind = draw(_v2_sector_and_type)
    forms = draw(st.lists(st.sampled_from(FormOfViolence), max_size=4, unique=True))
    document |= {"sector": str(sector), "signal_type": str(kind)}
    document["forms_of_violence"] = [str(f) for f in forms]
    if kind in REPORTED_TYPES:
        document["reported_by"] = draw(st.none() | st.sampled_from(Reporter).map(str))
    if kind == SignalTypeV2.PROSECUTION_DECISION:
        outcome = st.sampled_from(ProsecutionOutcome).map(str)
        referral = st.none() | st.uuids().map(str)
        said = st.fixed_dictionaries({"outcome": outcome, "referral_id": referral})
        document["prosecution"] = draw(st.none() | said)
    document["persons"] = [_person_v2(draw, p) for p in document["persons"]]
    rekeyed = {link["pseudonym"] for link in document["known_as"]}
    if document["household"] not in rekeyed and draw(st.booleans()):
        document["household"] = "hs." + document["household"].removeprefix("hh.")
    persons = document["persons"]
    if persons and len(persons) < MAX_PERSONS_PER_SIGNAL and draw(st.booleans()):
        key = document["pseudonym_key_id"]
        unborn = f"pl.{key}.{draw(_digests)}"
        persons.append(
            {"pseudonym": unborn, "roles": ["child"], "unborn_child_of": persons[0]["pseudonym"]}
        )
    return SignalEventV2.model_validate(document)
