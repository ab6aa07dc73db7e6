from __future__ import annotations

from datetime import UTC, datetime

from leadrelay.contract import default_text, parse
from leadrelay.contract.gates import (
    LeadFacts,
    icp_misfits,
    is_one_sentence,
    missing_for_handoff,
    missing_for_stage,
    note_problem,
)

CONTRACT = parse(default_text())
DUE = datetime(2026, 12, 7, 10, tzinfo=UTC)

READY = LeadFacts(
    source="web_form",
    industry="software",
    company_size="51-200",
    location="Berlin",
    intent="wants a demo",
    next_action="call back",
    next_action_owner="sam",
    next_action_due=DUE,
)


def test_a_complete_lead_passes_the_handoff_checklist() -> None:
    assert missing_for_handoff(CONTRACT, READY) == []


def test_the_handoff_lists_everything_missing_in_the_contracts_order() -> None:
    lead = LeadFacts(source="web_form", intent="demo")

    assert missing_for_handoff(CONTRACT, lead) == [
        "ICP tag industry",
        "ICP tag company size",
        "ICP tag location",
        "next action",
        "next action owner",
        "next action due time",
    ]


def test_the_next_action_owner_may_be_the_lead_owner() -> None:
    lead = LeadFacts(next_action="call", owner="sam", next_action_due=DUE)

    assert "next action owner" not in missing_for_stage(CONTRACT, "opportunity", lead)


def test_a_blank_value_counts_as_missing() -> None:
    lead = LeadFacts(source="   ")

    assert "source" in missing_for_handoff(CONTRACT, lead)


def test_employees_alone_satisfy_the_company_size_tag() -> None:
    lead = LeadFacts(employees=40)

    assert "ICP tag company size" not in missing_for_handoff(CONTRACT, lead)


def test_lost_requires_a_listed_reason_and_a_one_sentence_note() -> None:
    bad = LeadFacts(loss_reason="astrology", loss_note="No. Never. Ever.")
    good = LeadFacts(
        loss_reason="price", loss_note="They picked the cheaper plan from a rival."
    )

    assert missing_for_stage(CONTRACT, "lost", bad) == [
        "a loss reason from the contract's list",
        "a one-sentence note",
    ]
    assert missing_for_stage(CONTRACT, "lost", good) == []


def test_one_sentence_means_one_sentence() -> None:
    assert is_one_sentence("Budget moved to next year, e.g. after the 3.5 release.")
    assert not is_one_sentence("No.")
    assert not is_one_sentence("Too pricey. Also slow.")
    assert not is_one_sentence("line one\nline two here")
    assert note_problem(CONTRACT, "") == "a note is required"


def test_icp_misfits_name_each_dimension_outside_the_profile() -> None:
    lead = LeadFacts(industry="Mining", employees=9000, location="Mars")

    assert icp_misfits(CONTRACT, lead) == [
        'industry "Mining" is outside the profile',
        "company size 9000 is outside the profile",
    ]
