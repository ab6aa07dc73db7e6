"""The SLA clock: hand-computed deadlines, then properties against a minute walk."""

from __future__ import annotations

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrelay.contract import default_text, parse
from leadrelay.contract.model import BusinessHours
from leadrelay.sla.clock import Calendar, add_hours, elapsed_hours, is_open

BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
GOOSE_BAY = ZoneInfo("America/Goose_Bay")
EVERY_DAY = frozenset(range(7))

OFFICE = Calendar("business", BERLIN)
WALL = Calendar("calendar", BERLIN)
NINE_TO_FIVE = BusinessHours(
    days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17), holidays=()
)


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def assert_same_moment(actual: datetime, expected: datetime) -> None:
    # Aware datetimes sharing a tzinfo compare as wall times and ignore
    # fold, so compare in UTC, and check the offset the result carries.
    assert actual.astimezone(UTC) == expected.astimezone(UTC)
    assert actual.utcoffset() == expected.utcoffset()


# -- the calendar clock ----------------------------------------------------------


def test_calendar_clock_counts_the_weekend() -> None:
    deadline = add_hours(berlin(2026, 1, 9, 16), 24, WALL)

    assert_same_moment(deadline, berlin(2026, 1, 10, 16))


def test_calendar_clock_counts_real_hours_across_spring_forward() -> None:
    start = berlin(2021, 3, 27, 12)

    deadline = add_hours(start, 24, WALL)

    assert_same_moment(deadline, berlin(2021, 3, 28, 13))
    assert elapsed_hours(start, deadline, WALL) == 24


def test_calendar_clock_counts_real_hours_across_fall_back() -> None:
    start = berlin(2021, 10, 30, 12)

    deadline = add_hours(start, 24, WALL)

    assert_same_moment(deadline, berlin(2021, 10, 31, 11))
    assert elapsed_hours(start, deadline, WALL) == 24


def test_calendar_clock_answers_in_the_calendar_zone() -> None:
    start = datetime(2026, 1, 9, 15, tzinfo=UTC)

    deadline = add_hours(start, 1.5, WALL)

    assert deadline.tzinfo is BERLIN
    assert_same_moment(deadline, berlin(2026, 1, 9, 17, 30))


def test_calendar_clock_is_always_open() -> None:
    assert is_open(berlin(2026, 1, 10, 3), WALL)


# -- the business clock ------------------------------------------------------------


def test_friday_afternoon_plus_24_business_hours_lands_on_wednesday() -> None:
    # 1 h Friday + 8 Monday + 8 Tuesday + 7 Wednesday.
    deadline = add_hours(berlin(2026, 1, 9, 16), 24, OFFICE)

    assert_same_moment(deadline, berlin(2026, 1, 14, 16))


def test_start_in_another_zone_is_answered_in_the_calendar_zone() -> None:
    start = datetime(2026, 1, 9, 15, tzinfo=UTC)

    deadline = add_hours(start, 24, OFFICE)

    assert deadline.tzinfo is BERLIN
    assert_same_moment(deadline, berlin(2026, 1, 14, 16))


def test_the_last_hour_of_friday_ends_at_closing_not_monday() -> None:
    deadline = add_hours(berlin(2026, 1, 9, 16), 1, OFFICE)

    assert_same_moment(deadline, berlin(2026, 1, 9, 17))


def test_a_weekend_start_counts_from_monday_opening() -> None:
    deadline = add_hours(berlin(2026, 1, 10, 10), 1, OFFICE)

    assert_same_moment(deadline, berlin(2026, 1, 12, 10))


def test_an_early_start_counts_from_opening() -> None:
    deadline = add_hours(berlin(2026, 1, 12, 7, 30), 2, OFFICE)

    assert_same_moment(deadline, berlin(2026, 1, 12, 11))


def test_an_evening_start_counts_from_next_morning() -> None:
    deadline = add_hours(berlin(2026, 1, 13, 18), 1, OFFICE)

    assert_same_moment(deadline, berlin(2026, 1, 14, 10))


def test_a_start_at_closing_counts_from_the_next_working_day() -> None:
    deadline = add_hours(berlin(2026, 1, 9, 17), 0.5, OFFICE)

    assert_same_moment(deadline, berlin(2026, 1, 12, 9, 30))


def test_zero_hours_is_the_start_itself_even_when_closed() -> None:
    start = datetime(2026, 1, 10, 9, tzinfo=UTC)

    deadline = add_hours(start, 0, OFFICE)

    assert deadline.tzinfo is BERLIN
    assert_same_moment(deadline, berlin(2026, 1, 10, 10))


def test_fractional_hours_count_to_the_minute() -> None:
    assert_same_moment(
        add_hours(berlin(2026, 1, 12, 9), 1.25, OFFICE), berlin(2026, 1, 12, 10, 15)
    )
    assert_same_moment(
        add_hours(berlin(2026, 1, 12, 16), 7.5, OFFICE), berlin(2026, 1, 13, 15, 30)
    )
    assert_same_moment(
        add_hours(berlin(2026, 1, 12, 16, 59), 1 / 60, OFFICE),
        berlin(2026, 1, 12, 17),
    )


def test_elapsed_business_hours_skip_the_weekend() -> None:
    start, end = berlin(2026, 1, 9, 16), berlin(2026, 1, 14, 16)

    assert elapsed_hours(start, end, OFFICE) == 24
    assert elapsed_hours(berlin(2026, 1, 10, 8), berlin(2026, 1, 11, 20), OFFICE) == 0


def test_elapsed_hours_is_zero_when_the_end_is_not_after_the_start() -> None:
    start = berlin(2026, 1, 12, 12)

    assert elapsed_hours(start, start, OFFICE) == 0
    assert elapsed_hours(start, start - timedelta(hours=5), OFFICE) == 0
    assert elapsed_hours(start, start - timedelta(hours=5), WALL) == 0


def test_the_business_clock_runs_from_opening_until_just_before_closing() -> None:
    assert is_open(berlin(2026, 1, 12, 9), OFFICE)
    assert is_open(berlin(2026, 1, 12, 16, 59) + timedelta(seconds=59), OFFICE)
    assert not is_open(berlin(2026, 1, 12, 17), OFFICE)
    assert not is_open(berlin(2026, 1, 12, 8, 59), OFFICE)
    assert not is_open(berlin(2026, 1, 10, 12), OFFICE)
    assert is_open(datetime(2026, 1, 12, 8, tzinfo=UTC), OFFICE)


def test_many_weeks_are_skipped_to_the_same_answer_as_a_day_at_a_time() -> None:
    # 50 weeks across both of 2026's offset changes and Germany's holidays.
    calendar = Calendar.from_contract("business", BERLIN, NINE_TO_FIVE, country="DE")
    start = berlin(2026, 1, 5, 9)
    stepped = start
    for _ in range(250):
        stepped = add_hours(stepped, 8, calendar)

    leaped = add_hours(start, 2000, calendar)

    assert_same_moment(leaped, stepped)
    assert elapsed_hours(start, leaped, calendar) == 2000


def test_ten_weeks_of_business_hours_end_on_a_friday_at_closing() -> None:
    deadline = add_hours(berlin(2026, 1, 5, 9), 400, OFFICE)

    assert_same_moment(deadline, berlin(2026, 3, 13, 17))


def test_ten_thousand_deadlines_take_well_under_a_second() -> None:
    starts = [berlin(2026, 1, 1) + timedelta(minutes=37 * i) for i in range(10_000)]

    began = stopwatch.perf_counter()
    for start in starts:
        add_hours(start, 24, OFFICE)
    took = stopwatch.perf_counter() - began

    assert took < 1.0


# -- daylight saving -------------------------------------------------------------


def test_business_week_across_spring_forward_keeps_eight_hour_days() -> None:
    start = berlin(2021, 3, 26, 16)

    deadline = add_hours(start, 24, OFFICE)

    assert_same_moment(deadline, berlin(2021, 3, 31, 16))
    assert elapsed_hours(start, berlin(2021, 3, 29, 10), OFFICE) == 2


def test_business_week_across_fall_back_keeps_eight_hour_days() -> None:
    start = berlin(2021, 10, 29, 16)

    deadline = add_hours(start, 24, OFFICE)

    assert_same_moment(deadline, berlin(2021, 11, 3, 16))
    assert elapsed_hours(start, berlin(2021, 11, 1, 10), OFFICE) == 2


def test_spring_forward_inside_opening_hours_shortens_the_day() -> None:
    night_shift = Calendar("business", BERLIN, EVERY_DAY, time(0), time(8))
    day = berlin(2021, 3, 28)

    assert elapsed_hours(day, day + timedelta(hours=12), night_shift) == 7
    # 00:00 + 2 real hours: the wall clock skips from 02:00 to 03:00.
    assert_same_moment(add_hours(day, 2, night_shift), berlin(2021, 3, 28, 3))
    # 1 h on Saturday, then 1 h from Sunday's opening.
    assert_same_moment(
        add_hours(berlin(2021, 3, 27, 7), 2, night_shift), berlin(2021, 3, 28, 1)
    )


def test_fall_back_inside_opening_hours_lengthens_the_day() -> None:
    night_shift = Calendar("business", BERLIN, EVERY_DAY, time(0), time(8))
    day = berlin(2021, 10, 31)

    assert elapsed_hours(day, day + timedelta(hours=12), night_shift) == 9
    # 00:00 CEST + 3 real hours is the second 02:00, in CET.
    assert_same_moment(add_hours(day, 3, night_shift), berlin(2021, 10, 31, 2, fold=1))


def test_santiago_midnight_change_leaves_office_hours_alone() -> None:
    # Chile's clocks jump from Saturday 24:00 to Sunday 01:00 on 2023-09-03.
    start = datetime(2023, 9, 1, 16, tzinfo=SANTIAGO)
    weekend = Calendar("business", SANTIAGO, EVERY_DAY)

    deadline = add_hours(start, 24, Calendar("business", SANTIAGO))

    assert_same_moment(deadline, datetime(2023, 9, 6, 16, tzinfo=SANTIAGO))
    # 1 h Friday, 8 Saturday, 7 until Sunday 16:00.
    assert elapsed_hours(start, start + timedelta(days=2), weekend) == 16


def test_santiago_spring_forward_at_midnight_shortens_a_window_from_midnight() -> None:
    night_shift = Calendar("business", SANTIAGO, EVERY_DAY, time(0), time(8))
    saturday_noon = datetime(2023, 9, 2, 12, tzinfo=SANTIAGO)

    hours = elapsed_hours(
        saturday_noon, saturday_noon + timedelta(hours=24), night_shift
    )

    assert hours == 7


def test_santiago_fall_back_at_midnight_repeats_the_last_hour_of_saturday() -> None:
    # On 2023-04-01 Saturday 24:00 (-03) becomes 23:00 (-04): 22:00-23:59
    # reads as open for 1 h 59 min, then again for 59 min after the change.
    late = Calendar("business", SANTIAGO, EVERY_DAY, time(22), time(23, 59))
    start = datetime(2023, 4, 1, 22, tzinfo=SANTIAGO)

    deadline = add_hours(start, 2, late)

    assert elapsed_hours(start, start + timedelta(hours=6), late) == 178 / 60
    assert deadline.astimezone(UTC) == datetime(2023, 4, 2, 3, 1, tzinfo=UTC)
    assert_same_moment(deadline, datetime(2023, 4, 1, 23, 1, fold=1, tzinfo=SANTIAGO))


def test_sao_paulo_historic_midnight_change_shortens_a_window_from_midnight() -> None:
    # Brazil's clocks jumped from Saturday 24:00 to Sunday 01:00 on 2018-11-04.
    mornings = Calendar("business", SAO_PAULO, EVERY_DAY, time(0), time(12))
    saturday_noon = datetime(2018, 11, 3, 12, tzinfo=SAO_PAULO)

    hours = elapsed_hours(saturday_noon, saturday_noon + timedelta(hours=24), mornings)

    assert hours == 11


def test_sao_paulo_historic_fall_back_leaves_office_hours_alone() -> None:
    # 2019-02-16 Saturday 24:00 became 23:00: 1 h Friday + 8 h Monday.
    start = datetime(2019, 2, 15, 16, tzinfo=SAO_PAULO)

    deadline = add_hours(start, 9, Calendar("business", SAO_PAULO))

    assert_same_moment(deadline, datetime(2019, 2, 18, 17, tzinfo=SAO_PAULO))


def test_goose_bay_turning_back_across_midnight_counts_in_time_order() -> None:
    # On 2006-10-29 Sunday 00:01 ADT became Saturday 23:01 AST (03:01 UTC):
    # Saturday 23:30-23:59 (29 min), Sunday's first minute, Saturday again
    # 23:01-23:59 (58 min), then Sunday from 00:00 AST (04:00 UTC).
    all_day = Calendar("business", GOOSE_BAY, EVERY_DAY, time(0), time(23, 59))
    start = datetime(2006, 10, 29, 2, 30, tzinfo=UTC)
    end = datetime(2006, 10, 29, 4, 2, tzinfo=UTC)

    assert add_hours(start, 0.5, all_day).astimezone(UTC) == start.replace(
        hour=3, minute=1
    )
    assert add_hours(start, 1.5, all_day).astimezone(UTC) == end
    assert elapsed_hours(start, end, all_day) == 1.5


def test_goose_bay_start_on_sunday_still_counts_saturday_again() -> None:
    # 30 s of Sunday's first minute, then 30 s of the repeated Saturday.
    all_day = Calendar("business", GOOSE_BAY, EVERY_DAY, time(0), time(23, 59))
    start = datetime(2006, 10, 29, 3, 0, 30, tzinfo=UTC)

    deadline = add_hours(start, 1 / 60, all_day)

    assert deadline.astimezone(UTC) == datetime(2006, 10, 29, 3, 1, 30, tzinfo=UTC)


# -- holidays --------------------------------------------------------------------


def test_german_christmas_holidays_are_skipped() -> None:
    # 1 h Thursday 24th; Friday 25th is a holiday and the 26th a Saturday;
    # then 8 Monday + 8 Tuesday + 7 Wednesday.
    calendar = Calendar.from_contract("business", BERLIN, NINE_TO_FIVE, country="DE")
    start = berlin(2026, 12, 24, 16)

    assert_same_moment(add_hours(start, 24, calendar), berlin(2026, 12, 30, 16))
    assert_same_moment(add_hours(start, 24, OFFICE), berlin(2026, 12, 29, 16))


def test_german_new_year_is_skipped() -> None:
    # 1 + 8 (28th) + 8 (29th) + 8 (30th) + 8 (31st); 1 January is a holiday;
    # 7 on Monday the 4th.
    calendar = Calendar.from_contract("business", BERLIN, NINE_TO_FIVE, country="DE")

    deadline = add_hours(berlin(2026, 12, 24, 16), 40, calendar)

    assert_same_moment(deadline, berlin(2027, 1, 4, 16))


def test_a_subdivision_adds_its_own_holidays() -> None:
    # Epiphany, Wednesday 2027-01-06, is a holiday in Bavaria, not in Berlin.
    start = berlin(2027, 1, 5, 16)
    bavaria = Calendar.from_contract(
        "business", BERLIN, NINE_TO_FIVE, country="DE", subdiv="BY"
    )
    capital = Calendar.from_contract(
        "business", BERLIN, NINE_TO_FIVE, country="DE", subdiv="BE"
    )

    assert_same_moment(add_hours(start, 9, bavaria), berlin(2027, 1, 7, 17))
    assert_same_moment(add_hours(start, 9, capital), berlin(2027, 1, 6, 17))


def test_listed_holidays_are_skipped() -> None:
    # Monday the 12th is off: 1 h Friday + 8 Tuesday + 8 Wednesday + 7 Thursday.
    hours = BusinessHours(
        days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17), holidays=("2026-01-12",)
    )
    calendar = Calendar.from_contract("business", BERLIN, hours)

    deadline = add_hours(berlin(2026, 1, 9, 16), 24, calendar)

    assert_same_moment(deadline, berlin(2026, 1, 15, 16))
    assert not is_open(berlin(2026, 1, 12, 10), calendar)


def test_listed_and_public_holidays_are_combined() -> None:
    hours = BusinessHours(
        days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17), holidays=("2026-12-28",)
    )

    calendar = Calendar.from_contract("business", BERLIN, hours, country="de")

    assert {date(2026, 12, 25), date(2026, 12, 28)} <= calendar.holidays
    assert_same_moment(
        add_hours(berlin(2026, 12, 24, 16), 24, calendar), berlin(2026, 12, 31, 16)
    )


def test_public_holidays_are_limited_to_the_years_asked_for() -> None:
    calendar = Calendar.from_contract(
        "business", BERLIN, NINE_TO_FIVE, country="DE", years=range(2026, 2027)
    )

    assert date(2026, 12, 25) in calendar.holidays
    assert date(2027, 12, 25) not in calendar.holidays


def test_an_unknown_country_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r'"XX".*ISO 3166'):
        Calendar.from_contract("business", BERLIN, NINE_TO_FIVE, country="XX")


def test_an_unknown_subdivision_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r'"ZZ".*ISO 3166'):
        Calendar.from_contract(
            "business", BERLIN, NINE_TO_FIVE, country="DE", subdiv="ZZ"
        )


def test_a_subdivision_without_a_country_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a country"):
        Calendar.from_contract("business", BERLIN, NINE_TO_FIVE, subdiv="BY")


def test_a_listed_holiday_that_is_not_a_date_is_refused() -> None:
    hours = BusinessHours(
        days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17), holidays=("24.12.",)
    )

    with pytest.raises(ValueError, match=r'"24\.12\." is not an ISO date'):
        Calendar.from_contract("business", BERLIN, hours)


def test_the_default_contract_builds_its_first_outreach_clock() -> None:
    contract = parse(default_text())
    sla = contract.first_outreach_sla
    assert sla is not None

    calendar = Calendar.from_contract(sla.clock, contract.tz, contract.business_hours)

    assert calendar.kind == sla.clock
    assert calendar.days == frozenset(contract.business_hours.days)
    assert calendar.opens == contract.business_hours.opens


# -- validation ------------------------------------------------------------------


def test_negative_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_hours(berlin(2026, 1, 12, 9), -1, OFFICE)


def test_hours_that_are_not_finite_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        add_hours(berlin(2026, 1, 12, 9), float("nan"), OFFICE)


def test_naive_moments_are_refused() -> None:
    naive = datetime(2026, 1, 12, 9)

    with pytest.raises(ValueError, match="^start must be timezone-aware$"):
        add_hours(naive, 1, OFFICE)
    with pytest.raises(ValueError, match="^start must be timezone-aware$"):
        elapsed_hours(naive, berlin(2026, 1, 12, 10), OFFICE)
    with pytest.raises(ValueError, match="^end must be timezone-aware$"):
        elapsed_hours(berlin(2026, 1, 12, 10), naive, OFFICE)
    with pytest.raises(ValueError, match="^moment must be timezone-aware$"):
        is_open(naive, OFFICE)


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one working day"):
        Calendar("business", BERLIN, days=frozenset())


@pytest.mark.parametrize("closes", [time(9), time(8)])
def test_a_calendar_that_closes_before_it_opens_is_refused(closes: time) -> None:
    with pytest.raises(ValueError, match="must be after opens"):
        Calendar("business", BERLIN, opens=time(9), closes=closes)


def test_an_unknown_clock_kind_is_refused() -> None:
    with pytest.raises(ValueError, match='unknown clock "office"'):
        Calendar("office", BERLIN)


def test_a_working_day_outside_the_week_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not \[7\]"):
        Calendar("business", BERLIN, days=frozenset({0, 7}))


# -- properties against a minute-by-minute walk ----------------------------------

ZONES = {
    "Europe/Berlin": ("2021-03-28", "2021-10-31", "2024-03-31", "2024-10-27"),
    "America/New_York": ("2021-03-14", "2021-11-07", "2024-03-10", "2024-11-03"),
    "Australia/Sydney": ("2021-04-04", "2021-10-03", "2024-04-07", "2024-10-06"),
    "Asia/Kolkata": (),
    "America/Santiago": ("2022-04-03", "2022-09-11", "2023-04-02", "2023-09-03"),
    "America/Sao_Paulo": ("2017-10-15", "2018-02-18", "2018-11-04", "2019-02-17"),
    "America/Goose_Bay": ("2006-10-29", "2007-03-11", "2009-11-01", "2010-03-14"),
}
FIRST_MINUTE = int(datetime(2015, 1, 1, tzinfo=UTC).timestamp()) // 60
LAST_MINUTE = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp()) // 60
# Windows where offset changes land on or inside the edges.
AWKWARD_WINDOWS = (
    (time(0), time(23, 59)),
    (time(0), time(8)),
    (time(1, 30), time(2, 30)),
    (time(2, 30), time(3, 30)),
    (time(22), time(23, 59)),
    (time(23), time(23, 30)),
    (time(9), time(17)),
)


def walk_is_open(minute: int, calendar: Calendar) -> bool:
    local = datetime.fromtimestamp(minute * 60, calendar.tz)
    return (
        local.weekday() in calendar.days
        and local.date() not in calendar.holidays
        and calendar.opens <= local.time() < calendar.closes
    )


def walk_add(start: int, minutes: int, calendar: Calendar) -> int:
    """Return the UTC minute at which `minutes` open minutes after `start` have run."""
    counted, minute = 0, start
    while counted < minutes:
        counted += walk_is_open(minute, calendar)
        minute += 1

    return minute


def walk_elapsed(start: int, end: int, calendar: Calendar) -> int:
    return sum(walk_is_open(minute, calendar) for minute in range(start, end))


def utc_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


@st.composite
def windows(draw: st.DrawFn) -> tuple[time, time]:
    if draw(st.booleans()):
        return draw(st.sampled_from(AWKWARD_WINDOWS))

    opens = draw(st.integers(0, 1438))
    closes = draw(st.integers(opens + 1, 1439))
    return time(*divmod(opens, 60)), time(*divmod(closes, 60))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, Calendar]:
    """Draw a start minute and a business calendar, often near an offset change."""
    zone = draw(st.sampled_from(sorted(ZONES)))
    tz = ZoneInfo(zone)
    changes = ZONES[zone]
    near_a_change = bool(changes) and draw(st.booleans())
    if near_a_change:
        night = datetime.fromisoformat(draw(st.sampled_from(changes)))
        around = int(night.replace(tzinfo=UTC).timestamp()) // 60
        start = around + draw(st.integers(-2 * 1440, 2 * 1440))
    else:
        start = draw(st.integers(FIRST_MINUTE, LAST_MINUTE))

    # Near a change, favour windows the change can land in.
    awkward = st.sampled_from(AWKWARD_WINDOWS)
    opens, closes = draw(st.one_of(awkward, windows()) if near_a_change else windows())
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if near_a_change and draw(st.booleans()):
        # Every sampled night is a Saturday into Sunday, local time.
        days |= {5, 6}

    start_day = utc_minute(start).astimezone(tz).date()
    offsets = draw(st.lists(st.integers(-2, 30), max_size=4))
    holidays = frozenset(start_day + timedelta(days=n) for n in offsets)
    return start, Calendar("business", tz, days, opens, closes, holidays)


def affordable_minutes(calendar: Calendar) -> int:
    """Cap a duration at two weeks of clock time, so the walk stays short."""
    window = (calendar.closes.hour - calendar.opens.hour) * 60
    window += calendar.closes.minute - calendar.opens.minute
    return min(200 * 60, 2 * len(calendar.days) * window)


def add_in_utc(moment: datetime, minutes: int, calendar: Calendar) -> datetime:
    # Two deadlines in one zone compare by wall time, fold ignored, and a
    # moment in a repeated hour never equals one in another zone: compare
    # in UTC.
    return add_hours(moment, minutes / 60, calendar).astimezone(UTC)


def as_seen_from(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_add_hours_matches_a_minute_by_minute_walk(
    scenario: tuple[int, Calendar], data: st.DataObject
) -> None:
    start, calendar = scenario
    minutes = data.draw(st.integers(0, affordable_minutes(calendar)))
    seen_from = data.draw(st.sampled_from(["UTC", "Asia/Kolkata", calendar.tz.key]))

    deadline = add_hours(
        as_seen_from(utc_minute(start), seen_from), minutes / 60, calendar
    )

    assert deadline.tzinfo is calendar.tz
    assert deadline.astimezone(UTC) == utc_minute(walk_add(start, minutes, calendar))


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(0, 10 * 1440))
def test_elapsed_hours_matches_a_minute_by_minute_count(
    scenario: tuple[int, Calendar], span: int
) -> None:
    start, calendar = scenario

    hours = elapsed_hours(utc_minute(start), utc_minute(start + span), calendar)

    assert hours * 60 == pytest.approx(walk_elapsed(start, start + span, calendar))


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.integers(0, 60 * 24 * 7 * 4))
def test_is_open_matches_the_walk(scenario: tuple[int, Calendar], later: int) -> None:
    start, calendar = scenario
    minute = start + later

    assert is_open(utc_minute(minute), calendar) == walk_is_open(minute, calendar)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.data())
def test_elapsed_hours_undoes_add_hours(
    scenario: tuple[int, Calendar], data: st.DataObject
) -> None:
    start, calendar = scenario
    # Up to about 60 weeks, so that whole weeks are skipped past holidays and
    # offset changes.
    longest = min(2000 * 60, 30 * affordable_minutes(calendar))
    minutes = data.draw(st.integers(0, longest))
    moment = utc_minute(start)

    deadline = add_hours(moment, minutes / 60, calendar)

    assert elapsed_hours(moment, deadline, calendar) == pytest.approx(
        minutes / 60, abs=1e-9
    )


@settings(max_examples=300, deadline=None)
@given(
    scenarios(),
    st.integers(0, 300 * 60),
    st.integers(0, 300 * 60),
    st.integers(0, 14 * 1440),
)
def test_add_hours_never_goes_backwards(
    scenario: tuple[int, Calendar], first: int, second: int, later: int
) -> None:
    start, calendar = scenario
    fewer, more = sorted((first, second))
    moment = utc_minute(start)

    deadline = add_in_utc(moment, fewer, calendar)

    assert deadline <= add_in_utc(moment, more, calendar)
    assert deadline <= add_in_utc(utc_minute(start + later), fewer, calendar)
    assert deadline >= moment


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.integers(0, 30 * 1440), st.integers(0, 30 * 1440))
def test_elapsed_hours_adds_up_and_lands_no_later_than_the_end(
    scenario: tuple[int, Calendar], first: int, second: int
) -> None:
    start, calendar = scenario
    middle, end = (utc_minute(start + n) for n in sorted((first, second)))
    moment = utc_minute(start)

    whole = elapsed_hours(moment, end, calendar)
    parts = elapsed_hours(moment, middle, calendar) + elapsed_hours(
        middle, end, calendar
    )

    assert whole == pytest.approx(parts, abs=1e-9)
    assert add_hours(moment, whole, calendar).astimezone(UTC) <= end


def test_the_sampled_nights_are_offset_changes() -> None:
    for zone, nights in ZONES.items():
        tz = ZoneInfo(zone)
        for night in nights:
            noon = datetime.fromisoformat(night).replace(hour=12, tzinfo=UTC)
            before = (noon - timedelta(days=1)).astimezone(tz).utcoffset()
            after = (noon + timedelta(days=1)).astimezone(tz).utcoffset()

            assert before != after, f"{zone} keeps its offset around {night}"
