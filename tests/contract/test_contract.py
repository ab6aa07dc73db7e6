from __future__ import annotations

from pathlib import Path

import pytest

from leadrelay.contract import ContractError, default_text, load_file, parse


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


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_an_sla_deadline_must_be_a_finite_number(value: str) -> None:
    found = problems(broken("within_hours = 24", f"within_hours = {value}"))

    assert any(
        p.startswith("sla[0].within_hours: must be a finite number") for p in found
    )


def test_an_sla_deadline_longer_than_a_year_is_refused() -> None:
    found = problems(broken("within_hours = 24", "within_hours = 8761"))

    assert "sla[0].within_hours: must be at most 8760, not 8761" in found


@pytest.mark.parametrize("value", ["1e308", "99999999999"])
def test_a_stall_longer_than_ten_years_is_refused(value: str) -> None:
    found = problems(broken("stall_after_days = 3", f"stall_after_days = {value}"))

    assert any(
        p.startswith("stages[0].stall_after_days: must be at most 3650") for p in found
    )


def test_the_longest_allowed_deadline_and_stall_are_accepted() -> None:
    text = broken("within_hours = 24", "within_hours = 8760")
    text = text.replace("stall_after_days = 3", "stall_after_days = 3650", 1)

    contract = parse(text)

    assert contract.slas[0].within_hours == 8760
    assert contract.stages[0].stall_after_days == 3650


def test_a_holiday_must_be_a_real_date() -> None:
    found = problems(broken("holidays = []", 'holidays = ["2026-12-25", "2026-02-30"]'))

    assert found == [
        'business_hours.holidays[1]: "2026-02-30" is not a date like "2026-12-25"'
    ]


def test_a_pulse_recipient_must_be_an_email_address() -> None:
    text = broken("to = []", 'to = ["sales@example.com", "sales", "@x", "a@b@c"]')

    found = problems(text)

    assert [p.split(":")[0] for p in found] == [
        "pulse.to[1]",
        "pulse.to[2]",
        "pulse.to[3]",
    ]


@pytest.mark.parametrize(
    ("given", "canonical"), [("utc", "UTC"), ("europe/berlin", "Europe/Berlin")]
)
def test_a_time_zone_is_accepted_in_any_case(given: str, canonical: str) -> None:
    contract = parse(broken('timezone = "UTC"', f'timezone = "{given}"'))

    assert contract.timezone == canonical


def test_a_folder_given_as_the_contract_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as caught:
        load_file(tmp_path)

    assert caught.value.problems[0].startswith("is a folder, not a contract file")


def test_an_unreadable_contract_says_why(tmp_path: Path) -> None:
    path = tmp_path / "funnel.toml"
    path.symlink_to(path)

    with pytest.raises(ContractError) as caught:
        load_file(path)

    assert caught.value.problems[0].startswith("cannot be read (")
