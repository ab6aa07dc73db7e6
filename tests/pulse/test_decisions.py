from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadrelay.contract import default_text, parse
from leadrelay.models import ContractVersion, Decision, Event, Lead
from leadrelay.pulse import decisions
from leadrelay.pulse.decisions import DecisionError, DecisionExists
from leadrelay.pulse.week import Week
from leadrelay.workflow.bulk import contract_version

pytestmark = pytest.mark.django_db

CONTRACT = parse(default_text())
# Monday 10:00 of 2018-W10, in the default contract's UTC.
T0 = datetime(2018, 3, 5, 10, tzinfo=UTC)
W10 = Week.parse("2018-W10")
W11 = Week.parse("2018-W11")
LATER = datetime(2019, 1, 1, tzinfo=UTC)


@pytest.fixture
def version() -> ContractVersion:
    return contract_version(CONTRACT)


def lead(
    version: ContractVersion, at: datetime, *, qualified: bool = False, **fields: Any
) -> Lead:
    row = Lead.objects.create(
        stage="inquiry", created_at=at, last_event_at=at, **fields
    )
    Event.objects.create(
        lead=row,
        kind="created",
        stage="inquiry",
        at=at,
        actor="test",
        contract_version=version,
    )
    if qualified:
        Event.objects.create(
            lead=row,
            kind="stage",
            stage="qualified",
            milestone="qualified",
            at=at + timedelta(days=1),
            actor="test",
            contract_version=version,
        )
    return row


def closed(version: ContractVersion, at: datetime, outcome: str, **fields: Any) -> None:
    row = lead(version, at - timedelta(days=30), **fields)
    Event.objects.create(
        lead=row,
        kind=outcome,
        stage=outcome,
        milestone=outcome,
        at=at,
        actor="test",
        contract_version=version,
    )


def record(week: str = "2018-W10", **options: Any) -> Decision:
    options.setdefault("kind", "targeting")
    options.setdefault("text", "Move the budget to paid search")
    options.setdefault("made_by", "ana")
    return decisions.record(week, contract=CONTRACT, now=LATER, **options)


# -- recording -----------------------------------------------------------------


def test_a_decision_is_recorded_with_its_figure_as_it_stands(
    version: ContractVersion,
) -> None:
    lead(version, T0, source="paid_search", qualified=True)
    lead(version, T0, source="paid_search")
    lead(version, T0, source="web_form", qualified=True)

    decision = record(metric="qualified_cohort_rate", source="paid_search")

    assert decision.week == "2018-W10"
    assert decision.made_at == LATER
    assert (decision.value_at_decision, decision.n_at_decision) == (0.5, 2)


def test_a_week_is_written_the_iso_way_whatever_was_typed() -> None:
    assert record("2018w10").week == "2018-W10"


def test_an_unknown_kind_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(
        DecisionError, match="targeting, messaging, follow_up"
    ) as caught:
        record(kind="pricing")

    assert caught.value.field == "kind"
    assert Decision.objects.count() == 0


def test_an_unknown_metric_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(DecisionError, match="leads_in .* sla_met_rate") as caught:
        record(metric="revenue")

    assert caught.value.field == "metric"


def test_a_source_without_a_metric_is_refused() -> None:
    with pytest.raises(
        DecisionError, match="name that figure as the metric too"
    ) as caught:
        record(source="paid_search")

    assert caught.value.field == "source"


def test_an_empty_text_is_refused() -> None:
    with pytest.raises(DecisionError, match="say what was decided") as caught:
        record(text="  ")

    assert caught.value.field == "text"


def test_a_bad_week_is_refused() -> None:
    with pytest.raises(DecisionError, match="2018 has no week 60") as caught:
        record("2018-W60")

    assert caught.value.field == "week"


def test_a_second_decision_for_a_week_is_refused() -> None:
    record(text="Move the budget to paid search")

    with pytest.raises(DecisionExists, match="2018-W10 already has its decision"):
        record(text="Something else")

    assert Decision.objects.get().text == "Move the budget to paid search"


def test_replacing_a_decision_keeps_the_first_in_the_log() -> None:
    record(text="Move the budget to paid search", kind="targeting")

    decision = record(
        text="Answer every lead within the hour", kind="follow_up", replace=True
    )

    assert Decision.objects.count() == 1
    assert (decision.kind, decision.text) == (
        "follow_up",
        "Answer every lead within the hour",
    )
    assert [r["text"] for r in decision.replaced] == ["Move the budget to paid search"]


# -- figures -------------------------------------------------------------------


def test_a_week_with_no_leads_has_zero_counts_and_no_rates(
    version: ContractVersion,
) -> None:
    lead(version, T0 + timedelta(weeks=2), qualified=True)

    for metric in ("leads_in", "won", "lost"):
        assert decisions.measure(metric, None, W10, contract=CONTRACT) == {
            "value": 0,
            "n": 0,
        }
    for metric in ("qualified_cohort_rate", "sla_met_rate"):
        assert decisions.measure(metric, None, W10, contract=CONTRACT) == {
            "value": None,
            "n": 0,
        }


def test_leads_in_counts_the_week_and_the_source(version: ContractVersion) -> None:
    lead(version, T0, source="paid_search")
    lead(version, T0 + timedelta(days=6, hours=13), source="paid_search")
    lead(version, T0 + timedelta(days=7), source="paid_search")
    lead(version, T0, source="web_form")

    assert decisions.measure(
        "leads_in", "paid_search", "2018-W10", contract=CONTRACT
    ) == {
        "value": 2,
        "n": 2,
    }
    assert decisions.measure("leads_in", None, W10, contract=CONTRACT)["value"] == 3


def test_the_sla_rate_leaves_out_open_clocks_and_unknown_contact_times(
    version: ContractVersion,
) -> None:
    now = T0 + timedelta(days=6, hours=5)
    lead(version, T0, first_outreach_at=T0 + timedelta(hours=10))  # met
    lead(version, T0, first_outreach_at=T0 + timedelta(hours=30))  # missed
    lead(version, T0)  # deadline passed without contact: missed
    lead(version, T0 + timedelta(days=6))  # deadline still ahead: open
    lead(version, T0, contact_time_known=False)  # the source records no contact

    figure = decisions.measure("sla_met_rate", None, W10, contract=CONTRACT, now=now)

    assert figure == {"value": 0.3333, "n": 3}


def test_won_and_lost_count_closes_in_the_week(version: ContractVersion) -> None:
    closed(version, T0, "won", source="paid_search")
    closed(version, T0, "won", source="web_form")
    closed(version, T0 + timedelta(weeks=1), "won", source="paid_search")
    closed(version, T0, "lost", source="paid_search")

    assert decisions.measure("won", "paid_search", W10, contract=CONTRACT)["value"] == 1
    assert decisions.measure("won", None, W10, contract=CONTRACT)["value"] == 2
    assert decisions.measure("lost", None, W10, contract=CONTRACT)["value"] == 1


# -- the pulse's two slots -----------------------------------------------------


def test_next_weeks_pulse_shows_the_decision_and_what_followed(
    version: ContractVersion,
) -> None:
    for qualified in (True, False, False, False):
        lead(version, T0, source="paid_search", qualified=qualified)
    lead(version, T0, source="web_form", qualified=True)
    for _ in range(2):
        lead(version, T0 + timedelta(weeks=1), source="paid_search", qualified=True)
    record(metric="qualified_cohort_rate", source="paid_search")

    shown = decisions.for_pulse(CONTRACT, W11, now=LATER)

    assert shown is not None
    assert shown["week"] == "2018-W10"
    assert (shown["kind"], shown["made_by"]) == ("targeting", "ana")
    assert shown["text"] == "Move the budget to paid search"
    assert (shown["metric"], shown["source"]) == (
        "qualified_cohort_rate",
        "paid_search",
    )
    assert shown["before"] == {"week": "2018-W10", "value": 0.25, "n": 4}
    assert shown["after"] == {"week": "2018-W11", "value": 1.0, "n": 2}
    assert shown["at_decision"] == {"value": 0.25, "n": 4}
    assert shown["note"] == (
        "Figures are shown side by side; "
        "a change is not proof that the decision caused it."
    )


def test_a_source_appearing_for_the_first_time_starts_from_nothing(
    version: ContractVersion,
) -> None:
    record(metric="leads_in", source="podcast")
    for _ in range(3):
        lead(version, T0 + timedelta(weeks=1), source="podcast")

    shown = decisions.for_pulse(CONTRACT, W11, now=LATER)

    assert shown is not None
    assert shown["before"] == {"week": "2018-W10", "value": 0, "n": 0}
    assert shown["after"] == {"week": "2018-W11", "value": 3, "n": 3}


def test_a_decision_without_a_metric_has_no_figures() -> None:
    record()

    shown = decisions.for_pulse(CONTRACT, "2018-W11")

    assert shown is not None
    assert shown["before"] is None and shown["after"] is None
    assert shown["at_decision"] is None


def test_the_week_a_decision_was_taken_shows_it_as_the_one_for_next_week() -> None:
    record()

    assert decisions.this_week(W10)["text"] == "Move the budget to paid search"
    assert decisions.this_week(W11) is None
    assert decisions.for_pulse(CONTRACT, W10) is None


# -- the command ---------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "funnel.toml"
    path.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    return path


def decide(*args: str) -> str:
    out = StringIO()
    call_command("decisions", *args, stdout=out)
    return out.getvalue()


def test_the_command_records_and_lists_newest_first(workspace: Path) -> None:
    decide(
        "add",
        "--week",
        "2018-W10",
        "--kind",
        "targeting",
        "--text",
        "Paid search",
        "--by",
        "ana",
    )
    done = decide(
        "add",
        "--week",
        "2018-W11",
        "--kind",
        "follow_up",
        "--text",
        "Call within the hour",
        "--metric",
        "sla_met_rate",
        "--by",
        "sam",
    )

    listed = decide().splitlines()
    as_json = json.loads(decide("--format", "json"))

    assert done.startswith("recorded the decision for 2018-W11")
    assert listed[0].startswith("2018-W11  follow_up")
    assert listed[1].startswith("2018-W10  targeting  Paid search  (by ana)")
    assert [d["week"] for d in as_json["decisions"]] == ["2018-W11", "2018-W10"]
    assert as_json["decisions"][0]["metric"] == "sla_met_rate"


def test_the_command_names_the_option_and_the_allowed_values(workspace: Path) -> None:
    with pytest.raises(
        CommandError, match="--kind: .*targeting, messaging, follow_up"
    ) as caught:
        decide("add", "--week", "2018-W10", "--kind", "pricing", "--text", "x")

    assert caught.value.returncode == 2


def test_the_command_says_how_to_replace_a_weeks_decision(workspace: Path) -> None:
    decide("add", "--week", "2018-W10", "--kind", "targeting", "--text", "Paid search")

    with pytest.raises(CommandError, match="add --replace") as caught:
        decide(
            "add",
            "--week",
            "2018-W10",
            "--kind",
            "messaging",
            "--text",
            "Lead with ROI",
        )

    assert caught.value.returncode == 2
    replaced = decide(
        "add",
        "--week",
        "2018-W10",
        "--kind",
        "messaging",
        "--text",
        "Lead with ROI",
        "--replace",
    )
    assert replaced.startswith("replaced the decision for 2018-W10")
