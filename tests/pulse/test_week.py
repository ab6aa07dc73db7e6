from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from leadrelay.pulse.week import Week, WeekError

BERLIN = ZoneInfo("Europe/Berlin")


def test_an_iso_week_runs_from_local_monday_midnight_to_the_next() -> None:
    start, end = Week.parse("2018-W10").bounds(BERLIN)

    assert start == datetime(2018, 3, 5, tzinfo=BERLIN)
    assert end == datetime(2018, 3, 12, tzinfo=BERLIN)
    assert start.astimezone(UTC) == datetime(2018, 3, 4, 23, tzinfo=UTC)


def test_the_week_clocks_spring_forward_has_167_hours() -> None:
    start, end = Week.parse("2021-W12").bounds(BERLIN)

    hours = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600

    assert hours == 167


def test_week_one_may_start_in_the_previous_year() -> None:
    assert Week.parse("2026-W01").monday.isoformat() == "2025-12-29"
    assert str(Week.parse("2020-W53").next()) == "2021-W01"


def test_the_last_complete_week_is_the_one_before_today_in_the_contracts_zone() -> None:
    # Monday 00:30 in Berlin is still Sunday in UTC.
    now = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)

    assert str(Week.last_complete(now, BERLIN)) == "2026-W49"
    assert str(Week.last_complete(now, ZoneInfo("UTC"))) == "2026-W48"


@pytest.mark.parametrize(
    "text", ["2018-10", "W10", "2018-W54", "2019-W53", "last week"]
)
def test_a_malformed_or_missing_week_is_refused(text: str) -> None:
    with pytest.raises(WeekError):
        Week.parse(text)


@pytest.mark.parametrize("text", ["9999-W52", "0001-W01", "1899-W52"])
def test_a_year_whose_weeks_run_off_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(WeekError, match="between 1900 and 9998"):
        Week.parse(text)


@pytest.mark.parametrize("text", ["1900-W01", "9998-W52"])
def test_the_years_at_the_ends_of_the_range_have_neighbours(text: str) -> None:
    week = Week.parse(text)

    start, end = week.bounds(BERLIN)

    assert start < end
    assert week.previous().monday < week.monday < week.next().monday
