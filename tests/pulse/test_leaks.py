from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadrelay.contract import default_text, parse
from leadrelay.models import ContractVersion, Event, Lead
from leadrelay.pulse import leaks
from leadrelay.pulse.stats import wilson
from leadrelay.workflow.bulk import contract_version

pytestmark = pytest.mark.django_db

CONTRACT = parse(default_text())
# Monday of 2018-W10, in the default contract's UTC.
T0 = datetime(2018, 3, 5, 10, tzinfo=UTC)
LATER = datetime(2019, 1, 1, tzinfo=UTC)

History = tuple[str, str, datetime | None]


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def came(at: datetime | None = T0) -> History:
    return ("created", "inquiry", at)


def moved(stage: str, at: datetime | None) -> History:
    return ("stage", stage, at)


def won(at: datetime | None) -> History:
    return ("won", "won", at)


def lost(at: datetime | None) -> History:
    return ("lost", "lost", at)


@pytest.fixture
def version() -> ContractVersion:
    return contract_version(CONTRACT)


def lead(version: ContractVersion, *history: History, **fields: Any) -> Lead:
    """Store a lead whose events are `history`, in that order, and its current row."""
    entries = [h for h in history if h[0] in leaks.ENTRIES]
    known = [at for _, _, at in history if at is not None]
    row = Lead.objects.create(
        stage=entries[-1][1],
        created_at=history[0][2],
        last_event_at=max(known) if known else None,
        **fields,
    )
    Event.objects.bulk_create(
        Event(
            lead=row,
            kind=kind,
            stage=stage,
            at=at,
            actor="test",
            contract_version=version,
        )
        for kind, stage, at in history
    )
    return row


def many(
    version: ContractVersion, count: int, *history: History, **fields: Any
) -> None:
    for _ in range(count):
        lead(version, *history, **fields)


def run(**options: Any) -> dict[str, Any]:
    return leaks.report(CONTRACT, now=LATER, **options)


def step(section: dict[str, Any], start: str) -> dict[str, Any]:
    return next(row for row in section["conversion"] if row["from"] == start)


def group(result: dict[str, Any], label: str) -> dict[str, Any]:
    return next(row for row in result["breakdown"] if row["label"] == label)


# -- conversion ----------------------------------------------------------------


def test_a_lead_that_skipped_a_stage_counts_as_having_passed_it(
    version: ContractVersion,
) -> None:
    lead(version, came(), moved("qualified", day(2)), won(day(9)))

    result = run()

    for start in ("inquiry", "contacted", "qualified", "opportunity"):
        row = step(result["overall"], start)
        assert (row["n"], row["converted"]) == (1, 1)


def test_lost_does_not_count_as_a_later_stage(version: ContractVersion) -> None:
    lead(version, came(), moved("contacted", day(1)), lost(day(4)))
    lead(version, came(), moved("contacted", day(1)))

    row = step(run()["overall"], "contacted")

    assert row["n"] == 2
    assert row["converted"] == 0
    assert row["lost"] == 1
    assert row["open"] == 1
    assert row["rate"] == 0.0


def test_a_stage_nobody_reached_has_no_rate(version: ContractVersion) -> None:
    many(version, 3, came(), moved("contacted", day(1)))

    overall = run()["overall"]
    row = step(overall, "qualified")

    assert row["n"] == 0
    assert row["rate"] is None
    assert row["low"] is None and row["high"] is None
    assert row["too_few"] is True
    assert step(overall, "contacted")["rate"] == 0.0


def test_every_rate_carries_its_wilson_interval(version: ContractVersion) -> None:
    many(version, 5, came(), moved("contacted", day(1)))
    many(version, 5, came())

    row = step(run()["overall"], "inquiry")
    low, high = wilson(5, 10)

    assert (row["n"], row["converted"], row["rate"]) == (10, 5, 0.5)
    assert row["low"] == pytest.approx(low, abs=1e-4)
    assert row["high"] == pytest.approx(high, abs=1e-4)


def test_end_to_end_runs_from_the_first_stage_to_won(version: ContractVersion) -> None:
    lead(version, came(), moved("opportunity", day(3)), won(day(20)))
    lead(version, came(), moved("opportunity", day(3)), lost(day(20)))
    lead(version, came())
    lead(version, came())

    row = run()["overall"]["end_to_end"]

    assert (row["from"], row["to"]) == ("inquiry", "won")
    assert (row["n"], row["converted"], row["lost"], row["open"]) == (4, 1, 1, 2)


def test_a_lead_without_events_has_still_come_in(version: ContractVersion) -> None:
    Lead.objects.create(stage="inquiry", created_at=T0)

    assert step(run()["overall"], "inquiry")["n"] == 1


# -- time in stage -------------------------------------------------------------


def test_time_in_stage_counts_ended_stays_with_both_times_known(
    version: ContractVersion,
) -> None:
    lead(
        version,
        came(),
        moved("contacted", day(2)),
        moved("qualified", day(5)),
        won(day(15)),
    )
    lead(version, came(), moved("contacted", day(4)), lost(day(10)))
    lead(version, came(), moved("contacted", None), moved("qualified", day(6)))

    stays = {row["stage"]: row for row in run()["overall"]["time_in_stage"]}

    # Inquiry: 2 and 4 days; the third left at an unknown time.
    assert stays["inquiry"]["n"] == 2
    assert stays["inquiry"]["median_days"] == 3.0
    assert stays["inquiry"]["p90_days"] == pytest.approx(3.8)
    assert stays["inquiry"]["unmeasured"] == 1
    # Contacted: 3 days to Qualified, 6 to Lost; the third entered at an unknown time.
    assert stays["contacted"]["n"] == 2
    assert stays["contacted"]["median_days"] == 4.5
    assert stays["contacted"]["p90_days"] == pytest.approx(5.7)
    assert stays["contacted"]["unmeasured"] == 1
    # Qualified: one 10-day stay ended in Won; the other is still going.
    assert stays["qualified"]["n"] == 1
    assert stays["qualified"]["median_days"] == 10.0
    assert stays["qualified"]["too_few"] is True
    assert stays["opportunity"]["n"] == 0
    assert stays["opportunity"]["median_days"] is None


def test_a_second_event_in_the_same_stage_does_not_end_the_stay(
    version: ContractVersion,
) -> None:
    lead(
        version,
        came(),
        moved("contacted", day(1)),
        moved("contacted", day(3)),
        moved("qualified", day(8)),
    )

    stays = {row["stage"]: row for row in run()["overall"]["time_in_stage"]}

    assert stays["contacted"]["median_days"] == 7.0


# -- stalled -------------------------------------------------------------------


def test_stalled_leads_are_judged_as_of_the_end_of_until(
    version: ContractVersion,
) -> None:
    # As of 2018-03-15 00:00: idle 9 days in Contacted (limit 7), so stalled.
    lead(version, came(), moved("contacted", day(1)))
    # Moved on only after the 15th: as of then it sat idle in Contacted too.
    lead(version, came(), moved("contacted", day(1)), moved("qualified", day(20)))
    # Contacted on the 13th: 1.6 days idle.
    lead(version, came(), moved("contacted", day(8)))
    # Closed leads never stall.
    lead(version, came(), moved("contacted", day(1)), lost(day(2)))

    result = run(until=date(2018, 3, 14))
    stalled = {row["stage"]: row for row in result["overall"]["stalled"]["by_stage"]}

    assert result["as_of"] == "2018-03-15T00:00:00+00:00"
    assert stalled["contacted"]["count"] == 2
    assert stalled["contacted"]["open"] == 3
    assert result["overall"]["stalled"]["total"] == 2


def test_stalled_as_of_now_reads_the_current_row(version: ContractVersion) -> None:
    lead(version, came(), moved("contacted", day(1)), moved("qualified", day(20)))

    stalled = {row["stage"]: row for row in run()["overall"]["stalled"]["by_stage"]}

    assert stalled["qualified"]["count"] == 1
    assert stalled["contacted"]["count"] == 0


# -- the range -----------------------------------------------------------------


def test_a_week_with_no_leads_has_no_rates(version: ContractVersion) -> None:
    lead(version, came(), moved("contacted", day(1)))

    result = run(since=date(2018, 3, 12), until=date(2018, 3, 18))

    assert result["leads"] == 0
    assert all(row["rate"] is None for row in result["overall"]["conversion"])
    assert result["biggest_leak"]["from"] is None
    assert result["biggest_leak"]["sentence"].startswith("Too few leads to name a leak")


def test_since_and_until_select_leads_by_the_day_they_came_in(
    version: ContractVersion,
) -> None:
    lead(version, came(datetime(2018, 3, 4, 23, 59, tzinfo=UTC)))
    lead(version, came(datetime(2018, 3, 5, 0, 0, tzinfo=UTC)))
    lead(version, came(datetime(2018, 3, 11, 23, 59, tzinfo=UTC)))
    lead(version, came(datetime(2018, 3, 12, 0, 0, tzinfo=UTC)))
    Lead.objects.create(stage="inquiry", created_at=None)

    assert run(since=date(2018, 3, 5), until=date(2018, 3, 11))["leads"] == 2
    assert run()["leads"] == 5
    assert run()["undated_leads"] == 1


def test_days_are_read_in_the_contracts_time_zone(version: ContractVersion) -> None:
    berlin = parse(
        default_text().replace('timezone = "UTC"', 'timezone = "Europe/Berlin"')
    )
    # 00:30 on Monday 5 March in Berlin, still Sunday in UTC.
    lead(version, came(datetime(2018, 3, 4, 23, 30, tzinfo=UTC)))

    result = leaks.report(
        berlin, since=date(2018, 3, 5), until=date(2018, 3, 5), now=LATER
    )

    assert result["leads"] == 1
    assert result["as_of"] == "2018-03-06T00:00:00+01:00"
    assert run(since=date(2018, 3, 5))["leads"] == 0


def test_a_source_appearing_for_the_first_time_gets_its_own_row(
    version: ContractVersion,
) -> None:
    many(version, 3, came(), source="web_form")
    many(version, 2, came(day(8)), moved("contacted", day(9)), source="podcast")
    lead(version, came(day(8)), source="web_form")

    earlier = run(until=date(2018, 3, 11), by="source")
    later = run(since=date(2018, 3, 12), by="source")

    assert [g["label"] for g in earlier["breakdown"]] == ["web_form"]
    assert [g["label"] for g in later["breakdown"]] == ["podcast", "web_form"]
    podcast = group(later, "podcast")
    assert podcast["leads"] == 2
    assert step(podcast, "inquiry")["rate"] == 1.0
    assert step(podcast, "inquiry")["too_few"] is True


# -- breakdowns and the leak ---------------------------------------------------


def test_missing_values_have_their_own_labelled_row(version: ContractVersion) -> None:
    lead(version, came(), source=None, industry="", owner="")
    lead(version, came(), source="referral", industry="retail", owner="sam")

    assert group(run(by="source"), "(no source)")["value"] is None
    assert group(run(by="segment"), "(no segment)")["leads"] == 1
    assert group(run(by="owner"), "(no owner)")["leads"] == 1
    assert group(run(by="segment"), "retail")["value"] == "retail"


def test_a_row_with_few_leads_or_a_wide_interval_is_too_few(
    version: ContractVersion,
) -> None:
    # 29 leads: too few by count.
    many(version, 29, came(), moved("contacted", day(1)), industry="retail")
    # 30 leads, half converted: 95% interval 33-67%, wider than 30 points.
    many(version, 15, came(), moved("contacted", day(1)), industry="software")
    many(version, 15, came(), industry="software")
    # 60 leads, half converted: 37-63%, narrow enough.
    many(version, 30, came(), moved("contacted", day(1)), industry="services")
    many(version, 30, came(), industry="services")

    result = run(by="segment")

    assert step(group(result, "retail"), "inquiry")["too_few"] is True
    assert step(group(result, "software"), "inquiry")["too_few"] is True
    assert step(group(result, "services"), "inquiry")["too_few"] is False


def test_the_biggest_leak_is_the_group_losing_most_against_the_overall_rate(
    version: ContractVersion,
) -> None:
    many(version, 60, came(), moved("contacted", day(1)), source="web_form")
    many(version, 40, came(), source="web_form")
    many(version, 10, came(), moved("contacted", day(1)), source="event")
    many(version, 40, came(), source="event")
    # Loses more against the overall rate than any, but is too small to say.
    many(version, 10, came(), source="partner")

    result = run(by="source")
    leak = result["biggest_leak"]

    # Overall 70 of 160 = 43.75%; event 10 of 50 = 20%,
    # so 50 × (0.4375 - 0.2) = 11.875 more lost.
    low, high = wilson(10, 50)
    assert (low, high) == pytest.approx((0.1124, 0.3304), abs=1e-4)
    assert (leak["from"], leak["to"], leak["value"]) == (
        "inquiry",
        "contacted",
        "event",
    )
    assert leak["excess_lost"] == pytest.approx(11.875)
    assert leak["overall_rate"] == pytest.approx(0.4375)
    assert leak["sentence"] == (
        "The biggest leak is Inquiry → Contacted for source 'event': 20% convert "
        "against 44% overall (n=50, 95% CI 11–33%), about 12 more leads lost than "
        "the overall rate would lose. Of the 40 that have not reached Contacted, "
        "0 closed lost and 40 are still open."
    )
    partner = step(group(result, "partner"), "inquiry")
    assert partner["too_few"] is True
    assert partner["excess_lost"] == pytest.approx(4.375)


def test_without_a_breakdown_the_leak_is_where_most_leads_stop(
    version: ContractVersion,
) -> None:
    many(
        version,
        40,
        came(),
        moved("contacted", day(1)),
        moved("qualified", day(3)),
        won(day(9)),
    )
    many(version, 20, came(), moved("contacted", day(1)), lost(day(5)))
    many(version, 5, came())

    leak = run()["biggest_leak"]

    # Inquiry → Contacted loses 5 of 65; Contacted → Qualified 20 of 60, and
    # 40 of 60 has the interval 54.1-77.3%.
    assert (leak["from"], leak["to"]) == ("contacted", "qualified")
    assert leak["sentence"] == (
        "The biggest leak is Contacted → Qualified: 20 of the 60 leads that reached "
        "Contacted have not reached Qualified (67% did, 95% CI 54–77%)."
    )


def test_when_no_group_does_worse_than_overall_no_leak_is_named(
    version: ContractVersion,
) -> None:
    many(version, 40, came(), moved("contacted", day(1)), source="web_form")
    many(version, 40, came(), moved("contacted", day(1)), source="event")

    leak = run(by="source")["biggest_leak"]

    assert leak["from"] is None
    assert leak["sentence"] == (
        "No source loses more leads at any transition than the overall rate would."
    )


def test_an_unknown_breakdown_is_refused() -> None:
    with pytest.raises(ValueError, match="use source, segment, owner"):
        leaks.report(CONTRACT, by="campaign")


# -- the command ---------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "funnel.toml"
    path.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    return path


def test_the_command_prints_json_with_the_breakdown(
    version: ContractVersion, workspace: Path
) -> None:
    many(version, 3, came(), moved("contacted", day(1)), source="web_form")
    out = StringIO()

    call_command(
        "leaks",
        "--by",
        "source",
        "--format",
        "json",
        "--since",
        "2018-03-01",
        stdout=out,
    )

    result = json.loads(out.getvalue())
    assert result["since"] == "2018-03-01"
    assert result["by"] == "source"
    assert group(result, "web_form")["leads"] == 3
    assert result["definitions"]["conversion"].startswith(
        "Of the leads that reached a stage"
    )


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_the_command_prints_the_leak_first(
    version: ContractVersion, workspace: Path, fmt: str
) -> None:
    many(version, 40, came(), moved("contacted", day(1)), source="web_form")
    many(version, 10, came(), moved("contacted", day(1)), source="event")
    many(version, 30, came(), source="event")
    out = StringIO()

    call_command("leaks", "--by", "source", "--format", fmt, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[4].startswith(
        "The biggest leak is Inquiry → Contacted for source 'event': 25% convert "
        "against 63% overall (n=40, 95% CI 14–40%), about 15 more leads lost"
    )
    assert any(
        line.endswith("By source: Inquiry → Contacted (63% overall)") for line in lines
    )
    if fmt == "markdown":
        assert "| event | 25% | 14–40% | 40 | +15 |" in lines


def test_a_bad_date_names_the_option(workspace: Path) -> None:
    with pytest.raises(CommandError, match='--since: "March" is not a date') as caught:
        call_command("leaks", "--since", "March")

    assert caught.value.returncode == 2


def test_since_after_until_is_refused(workspace: Path) -> None:
    with pytest.raises(CommandError, match="is after --until") as caught:
        call_command("leaks", "--since", "2018-03-10", "--until", "2018-03-01")

    assert caught.value.returncode == 2


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}

    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}

    return set()


def test_every_json_key_is_documented(version: ContractVersion) -> None:
    many(version, 40, came(), moved("contacted", day(1)), source="web_form")
    many(version, 40, came(), source="event")
    docs = (Path(__file__).resolve().parents[2] / "docs" / "leaks.md").read_text()

    keys = keys_of(run(by="source")) | keys_of(run())

    assert sorted(k for k in keys if f"`{k}`" not in docs) == []
