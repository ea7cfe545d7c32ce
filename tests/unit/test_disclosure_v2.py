"""signal.v2's facts under the purpose register: for every purpose, a disclosed signal carries a
form of violence, a person's role, age, unborn child or local pseudonym only when the register
lets that purpose see it, and everything it may see is still there. The page of who may see
what (docs/purposes.md) is the register's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2, SectorV2
from privacy import purposes_doc
from privacy.actors import Analyst
from privacy.disclosure import PERSON_ALWAYS, disclose, visible_forms
from privacy.policy import AccessRequest, PolicyDecisionPoint
from privacy.purposes import (
    DEFAULT_REGISTER,
    PERSON_FIELDS,
    DataCategory,
    PurposeRegister,
    Resource,
)
from privacy.registers import MalformedFileError

REGISTER = PurposeRegister.load()
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
READERS = [n for n, p in REGISTER.purposes.items() if Resource.HOUSEHOLD_TIMELINE in p.resources]
MOTHER = "p.k1." + "fe" * 16
UNBORN = "pl.k1." + "0f" * 16


def _obligations(purpose: str) -> Any:
    role = sorted(REGISTER.purposes[purpose].roles)[0]
    actor = Analyst("user-1", "vt-vt09", role, "VT09")
    request = AccessRequest(actor, Resource.HOUSEHOLD_TIMELINE, purpose, "hh.k1." + "a" * 32)
    decision = PolicyDecisionPoint(REGISTER).decide(request, NOW)
    assert decision.permitted, decision.reason
    return decision.obligations


def _record(sector: str, forms: list[str], persons: list[dict[str, Any]]) -> dict[str, Any]:
    """A timeline record as the read model will hold a v2 signal (plus a key nobody knows)."""
    return {
        "signal_id": "s-1",
        "organisation": "org-1",
        "sector": sector,
        "signal_type": "vt_report",
        "severity": "high",
        "occurred_at": NOW,
        "reported_at": NOW,
        "received_at": NOW,
        "region": "VT09",
        "forms_of_violence": forms,
        "persons": persons,
        "household": "hs.k1." + "b" * 32,
        "position": 7,
        "roles": ["victim"],  # a person's field at the signal's level: never disclosed
        "unknown": "x",
    }


persons = st.lists(
    st.fixed_dictionaries(
        {
            "pseudonym": st.just("p.k1." + "c0" * 16),
            "role": st.sampled_from(["child", "parent_or_carer", "other_adult"]),
            "roles": st.lists(st.sampled_from([str(r) for r in PersonRoleV2]), unique=True),
            "age": st.integers(min_value=0, max_value=110),
            "unborn_child_of": st.just(MOTHER),
            "local_pseudonym": st.just("pl.k1." + "1e" * 16),
            "remark": st.just("a key the register does not know"),
        }
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    purpose=st.sampled_from(READERS),
    sector=st.sampled_from([str(s) for s in SectorV2]),
    forms=st.lists(st.sampled_from([str(f) for f in FormOfViolence]), unique=True),
    people=persons,
)
def test_a_purpose_sees_exactly_the_v2_facts_the_register_grants_it(
    purpose: str, sector: str, forms: list[str], people: list[dict[str, Any]]
) -> None:
    granted = REGISTER.purposes[purpose]
    obligations = _obligations(purpose)
    shown = disclose(obligations, [_record(sector, forms, people)])
    if sector not in granted.sectors:
        assert shown == []
        return
    [signal] = shown
    assert "unknown" not in signal and "roles" not in signal and "position" not in signal
    if "forms_of_violence" in granted.fields:
        assert signal["forms_of_violence"] == [
            f for f in forms if granted.sees_form(FormOfViolence(f))
        ]
    else:
        assert "forms_of_violence" not in signal
    if "persons" not in granted.fields:
        assert "persons" not in signal
        return
    allowed = PERSON_ALWAYS | (granted.fields & PERSON_FIELDS)
    assert len(signal["persons"]) == len(people)
    for person, source in zip(signal["persons"], people, strict=True):
        assert set(person) == allowed  # every granted field kept, no other
        if "roles" in person:
            assert person["roles"] == [
                r for r in source["roles"] if granted.sees_role(PersonRoleV2(r))
            ]
        assert all(person[k] == source[k] for k in allowed - {"roles"})


@pytest.mark.parametrize(
    ("purpose", "forms", "age", "unborn", "perpetrator"),
    [
        ("triage", True, True, True, True),
        ("safety_assessment", True, True, True, True),
        ("monitoring", True, False, False, False),  # no persons at all: what happened, when
        ("medical_review", True, True, True, True),
        ("legal_claims", True, True, True, True),
        ("subject_request", True, True, True, False),  # whom another suspects stays out
    ],
)
def test_each_purpose_sees_a_shelter_placement_as_the_register_says(
    purpose: str, forms: bool, age: bool, unborn: bool, perpetrator: bool
) -> None:
    """A shelter's placement of a mother, her unborn child and the suspected father: what each
    purpose's analyst reads of it (FGM named only to triage and the confidential doctor)."""
    record = _record(
        "shelter",
        ["physical_violence", "female_genital_mutilation"],
        [
            {"pseudonym": MOTHER, "role": "parent_or_carer", "roles": ["victim"], "age": 31},
            {"pseudonym": UNBORN, "role": "child", "roles": ["child"], "unborn_child_of": MOTHER},
            {
                "pseudonym": "p.k1." + "d1" * 16,
                "role": "other_adult",
                "roles": ["ex_partner", "suspected_perpetrator"],
                "age": 35,
            },
        ],
    )
    [signal] = disclose(_obligations(purpose), [record])
    fgm = purpose in {"triage", "medical_review", "subject_request"}
    expected_forms = ["physical_violence", *(["female_genital_mutilation"] if fgm else [])]
    assert signal.get("forms_of_violence") == (expected_forms if forms else None)
    people = signal.get("persons") or [{}, {}, {}]
    assert (people[0].get("age") == 31) is age
    assert (people[1].get("unborn_child_of") == MOTHER) is unborn
    assert ("suspected_perpetrator" in people[2].get("roles", [])) is perpetrator
    assert all("local_pseudonym" not in p for p in people)


def test_an_explanation_names_only_the_forms_its_signal_view_names() -> None:
    forms = ["female_genital_mutilation", "neglect"]
    assert visible_forms(_obligations("safety_assessment"), forms) == ["neglect"]
    assert visible_forms(_obligations("triage"), forms) == forms


def test_every_sector_states_its_basis_and_every_new_medical_sector_stays_with_the_doctor() -> None:
    medical: set[DataCategory] = {"health"}
    for sector in SectorV2:
        provision = REGISTER.sectors[sector]
        if provision.data in medical:
            seen = {n for n, p in REGISTER.purposes.items() if sector in p.sectors}
            assert seen == {"medical_review", "subject_request"}, sector
    assert REGISTER.sectors[SectorV2.PUBLIC_PROSECUTION].data == "criminal_law"


def test_a_register_without_a_sectors_basis_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_REGISTER.read_text(encoding="utf-8")
    path = tmp_path / "purposes.toml"
    path.write_text(text.replace("[sectors.shelter]", "[sectors.opvang]", 1), encoding="utf-8")
    with pytest.raises(MalformedFileError, match=r"sectors\.opvang"):
        PurposeRegister.load(path)
    path.write_text(text.split("[sectors.shelter]")[0], encoding="utf-8")
    with pytest.raises(MalformedFileError, match=r"sectors\.shelter: Field required"):
        PurposeRegister.load(path)


def test_a_person_field_without_persons_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_REGISTER.read_text(encoding="utf-8")
    monitoring = '"occurred_at", "region", "forms_of_violence"]'
    assert monitoring in text
    path = tmp_path / "purposes.toml"
    path.write_text(text.replace(monitoring, monitoring[:-1] + ', "age"]'), encoding="utf-8")
    with pytest.raises(MalformedFileError, match="need the field persons"):
        PurposeRegister.load(path)


def test_the_purpose_tables_are_generated_from_the_register() -> None:
    page = purposes_doc.DOC_FILE.read_text(encoding="utf-8")
    assert purposes_doc.rendered(page) == page, "run `make contracts` to regenerate the tables"
    for value in [*SectorV2, *FormOfViolence, *PersonRoleV2]:
        assert f"| `{value}` |" in page
