from __future__ import annotations

import pytest

from leadrelay.contract import ContractError, default_text, parse


def broken(old: str, new: str) -> str:
    text = default_text()
    assert old in text, old
    return text.replace(old, new, 1)


def problems(text: str) -> list[str]:
    with pytest.raises(ContractError) as caught:
        parse(text)

    return caught.value.problems


def test_the_default_contract_is_valid_and_has_the_six_usual_stages() -> None:
    contract = parse(default_text())

    assert [s.label for s in contract.stages] == [
        "Inquiry",
        "Contacted",
        "Qualified",
        "Opportunity",
        "Won",
        "Lost",
    ]
    assert contract.qualified_stage == "qualified"
    assert contract.won_stage and contract.won_stage.key == "won"
    assert len(contract.sha256) == 64


def test_an_unknown_requirement_names_its_place_and_the_known_fields() -> None:
    text = broken(
        'requires = ["owner", "next_action"]', 'requires = ["owner", "budget"]'
    )

    found = problems(text)

    assert len(found) == 1
    assert found[0].startswith(
        'stages[3].requires[1]: unknown field "budget"; known fields: '
    )
    assert "industry" in found[0] and "next_action" in found[0]


def test_every_problem_is_listed_at_once() -> None:
    text = broken('timezone = "UTC"', 'timezone = "Mars/Olympus"\ncolour = "blue"')
    text = text.replace("within_hours = 24", "within_hours = -3")
    text = text.replace('stage = "qualified"', 'stage = "nurtured"')

    found = problems(text)

    assert any(
        p.startswith('funnel.timezone: "Mars/Olympus" is not a time zone')
        for p in found
    )
    assert any(p.startswith('funnel.colour: unknown key "colour"') for p in found)
    assert any(
        p.startswith("sla[0].within_hours: must be greater than 0") for p in found
    )
    assert any(
        p.startswith('qualified.stage: "nurtured" is not a stage') for p in found
    )
    assert len(found) == 4


def test_a_typo_in_a_section_name_is_an_error_not_ignored() -> None:
    text = broken("[handoff]", "[handof]")

    found = problems(text)

    assert any('unknown key "handof"' in p for p in found)
    assert any(p.startswith("handoff: is required") for p in found)


def test_a_contract_without_exactly_one_won_and_one_lost_stage_is_refused() -> None:
    text = broken('outcome = "won"', "")

    assert any(
        'exactly one stage needs outcome = "won"; found 0' in p for p in problems(text)
    )


def test_duplicate_stage_keys_and_loss_reasons_are_refused() -> None:
    text = broken('key = "contacted"', 'key = "inquiry"')
    text = text.replace(
        'key = "price"\nlabel = "Price too high"', 'key = "no_budget"\nlabel = "x"'
    )

    found = problems(text)

    assert any(
        p.startswith('stages[1].key: "inquiry" is used by an earlier stage')
        for p in found
    )
    assert any(
        p.startswith('loss.reasons[1].key: "no_budget" is listed twice') for p in found
    )


def test_wrong_types_say_what_was_given() -> None:
    text = broken("stall_after_days = 3", 'stall_after_days = "three"')
    text = text.replace('opens = "09:00"', 'opens = "9am"')

    found = problems(text)

    assert (
        'stages[0].stall_after_days: must be a number, not the string "three"' in found
    )
    assert any(
        p.startswith('business_hours.opens: "9am" is not a time of day') for p in found
    )


def test_invalid_toml_is_refused_with_the_parser_position() -> None:
    found = problems("[funnel\nname = 1")

    assert len(found) == 1 and found[0].startswith("not valid TOML:")
    assert "line 1" in found[0]


def test_the_hash_changes_with_the_text() -> None:
    a = parse(default_text())
    b = parse(default_text().replace('name = "Our funnel"', 'name = "Their funnel"'))

    assert a.sha256 != b.sha256
    assert b.name == "Their funnel"
