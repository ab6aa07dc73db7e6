from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrelay.intake.dates import (
    DateFormat,
    DateInference,
    DateProblem,
    override_format,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ISO = override_format("iso")
DAY_FIRST = override_format("day-first")
MONTH_FIRST = override_format("month-first")
TEXT_MONTH = DateFormat("text-month")


def infer(column: str, *values: str, override: str | None = None) -> DateInference:
    inference = DateInference(column, override)
    for value in values:
        inference.feed(value)

    return inference


def berlin(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, BERLIN)


# ISO


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018-02-01", berlin(2018, 2, 1)),
        ("2018-02-26 19:58:54", berlin(2018, 2, 26, 19, 58, 54)),
        ("2018-02-26T19:58:54", berlin(2018, 2, 26, 19, 58, 54)),
        ("2018-02-26T19:58", berlin(2018, 2, 26, 19, 58)),
        ("2018-02-26 19:58:54.25", berlin(2018, 2, 26, 19, 58, 54, 250000)),
        ("  2018-02-01 ", berlin(2018, 2, 1)),
    ],
)
def test_iso_values_without_an_offset_are_taken_in_the_time_zone(
    value: str, expected: datetime
) -> None:
    parsed = ISO.parse(value, BERLIN)

    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is BERLIN


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("2021-04-15T10:30:00Z", timedelta(0)),
        ("2021-04-15T10:30:00+02:00", timedelta(hours=2)),
        ("2021-04-15T10:30:00.000+0000", timedelta(0)),
        ("2021-01-15 10:30:00-05:00", timedelta(hours=-5)),
    ],
)
def test_iso_values_with_an_offset_keep_it(value: str, offset: timedelta) -> None:
    parsed = ISO.parse(value, BERLIN)

    assert parsed is not None
    assert parsed.utcoffset() == offset
    assert parsed.replace(tzinfo=None) == datetime.fromisoformat(value[:19])


def test_a_blank_value_is_none_in_every_form() -> None:
    forms = [ISO, DAY_FIRST, MONTH_FIRST, TEXT_MONTH, override_format("%d/%m/%Y")]

    assert [form.parse(" ", BERLIN) for form in forms] == [None] * 5
    assert [form.parse("", BERLIN) for form in forms] == [None] * 5


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2021-02-31", "'2021-02-31' is not a date"),
        ("15/04/2021", "'15/04/2021' is not an ISO date like 2021-04-15"),
        ("20210415", "'20210415' is not an ISO date like 2021-04-15"),
        (
            "2021-04-15 25:00",
            "'2021-04-15 25:00' is not an ISO date and time like 2021-04-15 10:30:00",
        ),
    ],
)
def test_an_iso_value_that_does_not_fit_says_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        ISO.parse(value, BERLIN)

    assert str(caught.value) == reason


# Daylight saving


def test_a_time_in_the_spring_gap_takes_the_offset_before_the_gap() -> None:
    # Berlin's clocks jumped from 02:00 to 03:00 on 28 March 2021.
    for form, value in ((ISO, "2021-03-28 02:30"), (DAY_FIRST, "28/03/2021 02:30")):
        parsed = form.parse(value, BERLIN)

        assert parsed is not None
        assert parsed.astimezone(UTC) == datetime(2021, 3, 28, 1, 30, tzinfo=UTC)
        assert parsed.astimezone(UTC).astimezone(BERLIN).hour == 3


def test_a_time_that_occurs_twice_in_autumn_is_the_first_one() -> None:
    # Berlin's clocks went back from 03:00 to 02:00 on 31 October 2021.
    for form, value in ((ISO, "2021-10-31 02:30"), (MONTH_FIRST, "10/31/2021 02:30")):
        parsed = form.parse(value, BERLIN)

        assert parsed is not None
        assert parsed.utcoffset() == timedelta(hours=2)
        assert parsed.astimezone(UTC) == datetime(2021, 10, 31, 0, 30, tzinfo=UTC)


def test_the_same_wall_time_is_another_instant_in_another_zone() -> None:
    in_berlin = ISO.parse("2021-04-15 09:00", BERLIN)
    in_new_york = ISO.parse("2021-04-15 09:00", NEW_YORK)

    assert in_berlin is not None and in_new_york is not None
    assert in_new_york - in_berlin == timedelta(hours=6)


# Numeric forms


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15/04/2021", berlin(2021, 4, 15)),
        ("15.04.2021", berlin(2021, 4, 15)),
        ("15-04-2021", berlin(2021, 4, 15)),
        ("5/4/2021", berlin(2021, 4, 5)),
        ("15/04/21", berlin(2021, 4, 15)),
        ("15/04/2021 10:03", berlin(2021, 4, 15, 10, 3)),
        ("15/04/2021 10:03:05", berlin(2021, 4, 15, 10, 3, 5)),
        ("15/04/2021, 10:03:05.5", berlin(2021, 4, 15, 10, 3, 5, 500000)),
        ("15/04/2021 3:04 PM", berlin(2021, 4, 15, 15, 4)),
        ("15/04/2021 12:00 AM", berlin(2021, 4, 15, 0, 0)),
        ("15/04/2021 12:30 pm", berlin(2021, 4, 15, 12, 30)),
        ("15/04/2021 9:15 a.m.", berlin(2021, 4, 15, 9, 15)),
    ],
)
def test_day_first_values_are_read(value: str, expected: datetime) -> None:
    assert DAY_FIRST.parse(value, BERLIN) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("04/15/2021", berlin(2021, 4, 15)),
        ("4-15-2021", berlin(2021, 4, 15)),
        ("4/15/21 3:04:05 PM", berlin(2021, 4, 15, 15, 4, 5)),
        ("12.31.1999 23:59", berlin(1999, 12, 31, 23, 59)),
    ],
)
def test_month_first_values_are_read(value: str, expected: datetime) -> None:
    assert MONTH_FIRST.parse(value, BERLIN) == expected


@pytest.mark.parametrize(
    ("value", "year"),
    [("15/04/00", 2000), ("15/04/21", 2021), ("15/04/68", 2068), ("15/04/69", 1969)],
)
def test_two_digit_years_pivot_as_strptime_does(value: str, year: int) -> None:
    parsed = DAY_FIRST.parse(value, BERLIN)

    assert parsed is not None and parsed.year == year
    assert datetime.strptime(value, "%d/%m/%y").year == year


@pytest.mark.parametrize(
    ("form", "value", "reason"),
    [
        (DAY_FIRST, "31/02/2021", "'31/02/2021' is not a date"),
        (MONTH_FIRST, "13/04/2021", "'13/04/2021' is not a date"),
        (
            DAY_FIRST,
            "15/04/2021 25:00",
            "'15/04/2021 25:00' is not a valid time of day",
        ),
        (
            DAY_FIRST,
            "15/04/2021 13:00 PM",
            "'15/04/2021 13:00 PM' is not a valid time of day",
        ),
        (
            DAY_FIRST,
            "2021-04-15",
            "'2021-04-15' is not a day-first date like 15/04/2021",
        ),
        (
            MONTH_FIRST,
            "15/04-2021",
            "'15/04-2021' is not a month-first date like 04/15/2021",
        ),
    ],
)
def test_a_numeric_value_that_does_not_fit_says_why(
    form: DateFormat, value: str, reason: str
) -> None:
    with pytest.raises(ValueError) as caught:
        form.parse(value, BERLIN)

    assert str(caught.value) == reason


# Month names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15 Apr, 2021 00:03:00", berlin(2021, 4, 15, 0, 3)),
        ("Apr 15, 2021", berlin(2021, 4, 15)),
        ("15 April 2021", berlin(2021, 4, 15)),
        ("2021-Apr-15", berlin(2021, 4, 15)),
        ("15-Apr-21", berlin(2021, 4, 15)),
        ("April 15, 2021 3:04 PM", berlin(2021, 4, 15, 15, 4)),
        ("Sept 5, 2021", berlin(2021, 9, 5)),
        ("1st Jan 2022 10:00", berlin(2022, 1, 1, 10)),
        ("15 APR 2021", berlin(2021, 4, 15)),
    ],
)
def test_text_month_values_are_read(value: str, expected: datetime) -> None:
    assert TEXT_MONTH.parse(value, BERLIN) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("15 Foo 2021", "'15 Foo 2021' is not a date ('Foo' is not a month)"),
        ("31 Feb 2021", "'31 Feb 2021' is not a date"),
        ("15/04/2021", "'15/04/2021' is not a date with a month name like 15 Apr 2021"),
    ],
)
def test_a_text_month_value_that_does_not_fit_says_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        TEXT_MONTH.parse(value, BERLIN)

    assert str(caught.value) == reason


# Inference


def test_iso_values_decide_at_once() -> None:
    inference = infer("won_date", "2018-02-26 19:58:54")

    assert inference.decided
    assert inference.result() == ISO


def test_zoho_values_decide_at_once() -> None:
    inference = infer("Created Time", "15 Apr, 2021 00:03:00")

    assert inference.decided
    assert inference.result() == TEXT_MONTH


def test_a_day_above_twelve_rules_out_month_first() -> None:
    inference = infer("Created", "04/05/2021", "13/04/2021")

    assert inference.decided
    assert inference.result() == DAY_FIRST


def test_a_day_above_twelve_in_second_place_rules_out_day_first() -> None:
    inference = infer("Created", "04/05/2021", "04/13/2021")

    assert inference.decided
    assert inference.result() == MONTH_FIRST


def test_values_that_fit_both_orders_stay_undecided() -> None:
    inference = infer("Created", "04/05/2021", "06/07/2021 10:00", "01/02/2021")

    assert not inference.decided
    with pytest.raises(DateProblem) as caught:
        inference.result()

    assert str(caught.value) == (
        "column 'Created': its dates fit both day-first and month-first, for "
        "example '04/05/2021' and '06/07/2021 10:00'; pass --date-format day-first "
        "if '04/05/2021' is 4 May 2021, --date-format month-first if it is "
        "April 5, 2021, or a strptime pattern such as '%d/%m/%Y %H:%M'"
    )


def test_values_that_read_the_same_in_both_orders_need_no_choice() -> None:
    inference = infer("Created", "05/05/2021", "12/12/2021")

    assert not inference.decided
    assert inference.result() == DAY_FIRST


def test_a_value_in_no_known_form_is_named_with_the_flag() -> None:
    inference = infer("Closing Date", "next Tuesday")

    assert inference.decided
    with pytest.raises(DateProblem) as caught:
        inference.result()

    assert str(caught.value) == (
        "column 'Closing Date': 'next Tuesday' is not a date in a form "
        "leadrelay knows (2021-04-15, 15/04/2021, 04/15/2021, 15 Apr 2021 and "
        "the like); pass --date-format with a strptime pattern that fits it, "
        "such as '%d/%m/%Y %H:%M'; values that still do not fit are rejected "
        "row by row"
    )


def test_a_value_that_fits_no_form_left_says_the_column_mixes_forms() -> None:
    inference = infer("Created", "04/05/2021", "2021-04-15")

    with pytest.raises(DateProblem) as caught:
        inference.result()

    assert str(caught.value) == (
        "column 'Created' mixes date forms: '04/05/2021' is day-first or "
        "month-first but '2021-04-15' is not; pass --date-format day-first, "
        "--date-format month-first, --date-format iso or a strptime pattern "
        "such as '%d/%m/%Y %H:%M' to choose one, and the rows that do not fit "
        "it are rejected"
    )


def test_a_column_without_values_reads_blanks_as_none() -> None:
    inference = infer("Closing Date", "", "  ")

    assert not inference.decided
    assert inference.result().parse("", BERLIN) is None


def test_an_override_decides_before_any_value() -> None:
    inference = infer("Created", "13/04/2021", override="month-first")

    assert inference.decided
    assert inference.result() == MONTH_FIRST


def test_a_bad_override_is_refused_when_inference_starts() -> None:
    with pytest.raises(DateProblem, match="--date-format 'dd/mm/yyyy'"):
        DateInference("Created", "dd/mm/yyyy")


# Overrides


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("day-first", DAY_FIRST),
        (" Month-First ", MONTH_FIRST),
        ("ISO", ISO),
        ("text-month", TEXT_MONTH),
    ],
)
def test_the_shortcuts_name_the_known_forms(pattern: str, expected: DateFormat) -> None:
    assert override_format(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("%d/%m/%Y %H:%M", "15/04/2021 10:03", berlin(2021, 4, 15, 10, 3)),
        ("%d/%m/%Y %H:%M", "5/4/2021   9:03", berlin(2021, 4, 5, 9, 3)),
        ("%Y%m%d", "20210415", berlin(2021, 4, 15)),
        ("%d %b %Y", "15 apr 2021", berlin(2021, 4, 15)),
        ("%B %d, %Y %I:%M %p", "April 15, 2021 03:04 PM", berlin(2021, 4, 15, 15, 4)),
        (
            "%d.%m.%y %H:%M:%S.%f",
            "15.04.21 10:03:05.25",
            berlin(2021, 4, 15, 10, 3, 5, 250000),
        ),
        ("%A, %d %B %Y", "Thursday, 15 April 2021", berlin(2021, 4, 15)),
        ("%d/%m/%Y 100%%", "15/04/2021 100%", berlin(2021, 4, 15)),
    ],
)
def test_a_strptime_pattern_reads_its_values(
    pattern: str, value: str, expected: datetime
) -> None:
    form = override_format(pattern)

    assert form.name == pattern
    assert form.parse(value, BERLIN) == expected


def test_a_pattern_with_an_offset_keeps_it() -> None:
    parsed = override_format("%d/%m/%Y %H:%M %z").parse(
        "15/01/2021 10:00 +0530", BERLIN
    )

    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=5, minutes=30)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2021-04-15", "'2021-04-15' does not fit --date-format '%d/%m/%Y'"),
        ("31/02/2021", "'31/02/2021' is not a date"),
        ("15/04/2021 junk", "'15/04/2021 junk' does not fit --date-format '%d/%m/%Y'"),
    ],
)
def test_a_value_that_does_not_fit_a_pattern_says_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        override_format("%d/%m/%Y").parse(value, BERLIN)

    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "dd/mm/yyyy",
            "--date-format 'dd/mm/yyyy' is not a form leadrelay knows; give "
            "day-first, month-first, iso or a strptime pattern such as "
            "'%d/%m/%Y %H:%M'",
        ),
        (
            "  ",
            "--date-format is empty; give day-first, month-first, iso or a "
            "strptime pattern such as '%d/%m/%Y %H:%M'",
        ),
        (
            "%H:%M",
            "--date-format '%H:%M' has no year, month or day; a pattern needs "
            "a year (%Y or %y), a month (%m, %b or %B) and a day (%d)",
        ),
        (
            "%d/%m",
            "--date-format '%d/%m' has no year; a pattern needs a year (%Y or "
            "%y), a month (%m, %b or %B) and a day (%d)",
        ),
        (
            "%d/%m/%Y %Q",
            "--date-format '%d/%m/%Y %Q' is not a pattern strptime can read "
            "('Q' is a bad directive in format '%d/%m/%Y %Q'); see the format "
            "codes at https://docs.python.org/3/library/datetime.html#format-codes",
        ),
    ],
)
def test_a_bad_pattern_is_refused_with_what_to_do(pattern: str, message: str) -> None:
    with pytest.raises(DateProblem) as caught:
        override_format(pattern)

    assert str(caught.value) == message


# Properties

MOMENTS_WITH_FRACTIONS = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2099, 12, 31, 23, 59, 59),
)
MOMENTS = MOMENTS_WITH_FRACTIONS.map(lambda moment: moment.replace(microsecond=0))
ZONES = st.sampled_from([ZoneInfo("UTC"), BERLIN, NEW_YORK, ZoneInfo("Asia/Kolkata")])


@settings(deadline=None)
@given(moment=MOMENTS, separator=st.sampled_from("/.-"), seconds=st.booleans())
def test_any_day_first_datetime_reads_back_as_written(
    moment: datetime, separator: str, seconds: bool
) -> None:
    clock = "%H:%M:%S" if seconds else "%H:%M"
    if not seconds:
        moment = moment.replace(second=0)
    text = moment.strftime(f"%d{separator}%m{separator}%Y {clock}")

    assert DAY_FIRST.parse(text, BERLIN) == moment.replace(tzinfo=BERLIN)


@settings(deadline=None)
@given(moment=MOMENTS)
def test_any_month_first_datetime_with_am_pm_reads_back_as_written(
    moment: datetime,
) -> None:
    text = f"{moment.month}/{moment.day}/{moment.year} " + moment.strftime(
        "%I:%M:%S %p"
    )

    assert MONTH_FIRST.parse(text, NEW_YORK) == moment.replace(tzinfo=NEW_YORK)


@settings(deadline=None)
@given(
    moment=MOMENTS,
    form=st.sampled_from(["%d %b, %Y %H:%M:%S", "%b %d, %Y", "%Y-%B-%d"]),
)
def test_any_text_month_datetime_reads_back_as_written(
    moment: datetime, form: str
) -> None:
    text = moment.strftime(form)
    expected = datetime.strptime(text, form).replace(tzinfo=BERLIN)

    assert TEXT_MONTH.parse(text, BERLIN) == expected


@settings(deadline=None)
@given(moment=MOMENTS_WITH_FRACTIONS, zone=ZONES)
def test_any_naive_iso_datetime_reads_back_in_the_zone(
    moment: datetime, zone: ZoneInfo
) -> None:
    parsed = ISO.parse(moment.isoformat(" "), zone)

    assert parsed == moment.replace(tzinfo=zone)
    assert parsed is not None and parsed.utcoffset() == zone.utcoffset(moment)


@settings(deadline=None)
@given(moment=MOMENTS_WITH_FRACTIONS, minutes=st.integers(-720, 840))
def test_any_iso_datetime_with_an_offset_reads_back_as_written(
    moment: datetime, minutes: int
) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))

    parsed = ISO.parse(aware.isoformat(), BERLIN)

    assert parsed == aware
    assert parsed is not None and parsed.utcoffset() == aware.utcoffset()


PATTERNS = [
    "%d/%m/%Y %H:%M",
    "%m/%d/%y %I:%M:%S %p",
    "%Y.%m.%d %H:%M:%S.%f",
    "%d %b %Y",
    "%B %d, %Y %H:%M %z",
    "%d-%m-%Y",
]


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1969, 1, 1), max_value=datetime(2068, 12, 31)
    ),
    pattern=st.sampled_from(PATTERNS),
)
def test_a_pattern_reads_values_as_strptime_does(
    moment: datetime, pattern: str
) -> None:
    text = moment.replace(tzinfo=UTC).strftime(pattern)
    expected = datetime.strptime(text, pattern)
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=BERLIN)

    parsed = override_format(pattern).parse(text, BERLIN)

    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == expected.utcoffset()
