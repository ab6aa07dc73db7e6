"""Work out which date form a column uses, then read its values quickly.

The forms known without help:

- "iso": 2018-02-01, 2018-02-26 19:58:54, 2018-02-26T19:58:54.250, with
  an offset (Z, +02:00, +0200) or without;
- "day-first": 15/04/2021, 15.04.2021, 15-04-21;
- "month-first": 04/15/2021, 4-15-2021, 4/15/21;
- "text-month": 15 Apr, 2021 00:03:00 (as Zoho writes it), Apr 15, 2021,
  15 April 2021, 15-Apr-21, 2021-Apr-15.

The numeric and text forms may carry a time, HH:MM or HH:MM:SS with
optional fractions of a second and AM/PM. Two-digit years pivot as
strptime's %y does, so the shortcuts and a pattern agree: 00-68 are
2000-2068 and 69-99 are 1969-1999.

A value with an offset keeps it. A value without one is a wall-clock time
in the time zone given to `DateFormat.parse`, built as
`datetime(..., tzinfo=tz)` with fold=0. So a time that occurs twice, when
the clocks go back, is the first occurrence (2021-10-31 02:30 in Berlin is
+02:00), and a time in the gap when they go forward is read with the offset
in force before the gap (2021-03-28 02:30 in Berlin is 01:30 UTC, which is
03:30 on the clocks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

ISO = "iso"
DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"
TEXT_MONTH = "text-month"

_Parser = Callable[[str, tzinfo], datetime | None]

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTHS = {
    name: number
    for number, full in enumerate(_MONTH_NAMES, start=1)
    for name in (full, full[:3])
}
_MONTHS["sept"] = 9

_TIME = (
    r"(?:(?:,?\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
    r"(?:\s*([AaPp])\.?[Mm]\.?)?)?"
)
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_MONTH_NAME = r"([A-Za-z]{3,9})\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH_YEAR = re.compile(
    r"(\d{1,2})" + _ORDINAL + r"[\s-]+" + _MONTH_NAME + r",?[\s-]+(\d{4}|\d{2})" + _TIME
)
_MONTH_DAY_YEAR = re.compile(
    _MONTH_NAME + r"\s+(\d{1,2})" + _ORDINAL + r",?\s+(\d{4})" + _TIME
)
_YEAR_MONTH_DAY = re.compile(
    r"(\d{4})[\s/-]+" + _MONTH_NAME + r"[\s/-]+(\d{1,2})" + _TIME
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

_HELP_PATTERN = "such as '%d/%m/%Y %H:%M'"
_FORMAT_CODES = "https://docs.python.org/3/library/datetime.html#format-codes"


class DateProblem(Exception):
    """A date column or a --date-format that cannot be used; str() says what to do."""


@dataclass(frozen=True)
class DateFormat:
    """One way of writing dates: a known form's name or a strptime pattern."""

    #: "iso", "day-first", "month-first", "text-month" or a strptime pattern.
    name: str
    _parser: _Parser = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parser", _parser_for(self.name))

    def parse(self, value: str, tz: ZoneInfo) -> datetime | None:
        """Return an aware datetime, None for a blank value.

        A value that does not fit raises ValueError with a short reason,
        such as "'31/02/2021' is not a date".
        """
        return self._parser(value, tz)

    def _fits(self, value: str) -> bool:
        try:
            self._parser(value, UTC)
        except ValueError:
            return False

        return True


def override_format(pattern: str) -> DateFormat:
    """Return the format `--date-format PATTERN` asks for.

    PATTERN is "day-first", "month-first", "iso", "text-month" or a strptime
    pattern such as "%d/%m/%Y %H:%M"; a bad one raises DateProblem.
    """
    name = pattern.strip()
    if name.lower() in _KNOWN:
        return _KNOWN[name.lower()]

    if not name:
        raise DateProblem(
            "--date-format is empty; give day-first, month-first, iso "
            f"or a strptime pattern {_HELP_PATTERN}"
        )

    return DateFormat(name)


class DateInference:
    """Narrow the forms a date column may use, one value at a time.

    Every known form starts as possible and each value rules out those it
    does not fit: 13/04/2021 rules out month-first, 04/13/2021 day-first,
    and the first ISO or text-month value decides at once.
    """

    def __init__(self, column: str, override: str | None = None) -> None:
        self.column = column
        self._override = None if override is None else override_format(override)
        self._left: tuple[DateFormat, ...] = _INFERRED
        self._first = ""
        self._misfit = ""
        self._before_misfit: tuple[DateFormat, ...] = ()
        # Values that read differently day-first and month-first; a column
        # without any reads the same either way and needs no choice.
        self._examples: list[str] = []

    def feed(self, value: str) -> None:
        """Rule out the forms that `value`, the column's next value, does not fit."""
        if self._override is not None or not self._left:
            return

        text = value.strip()
        if not text:
            return

        left = tuple(form for form in self._left if form._fits(text))
        if not left:
            self._misfit = text
            self._before_misfit = self._left

        if not self._first:
            self._first = text

        if len(left) > 1 and len(self._examples) < 2 and _reads_two_ways(text):
            if text not in self._examples:
                self._examples.append(text)

        self._left = left

    @property
    def decided(self) -> bool:
        """Say whether more values can change the result; stop feeding once True."""
        return self._override is not None or len(self._left) <= 1

    def result(self) -> DateFormat:
        """Return the column's format, or raise DateProblem saying how to choose."""
        if self._override is not None:
            return self._override

        if len(self._left) == 1:
            return self._left[0]

        if not self._left:
            raise DateProblem(self._misfit_message())

        if self._left == _INFERRED:
            # No values at all: every form reads "" as None.
            return _KNOWN[ISO]

        if not self._examples:
            return _KNOWN[DAY_FIRST]

        raise DateProblem(self._ambiguous_message())

    def _misfit_message(self) -> str:
        column = f"column '{self.column}'"
        if not any(form._fits(self._misfit) for form in _INFERRED):
            return (
                f"{column}: '{self._misfit}' is not a date in a form leadrelay "
                "knows (2021-04-15, 15/04/2021, 04/15/2021, 15 Apr 2021 and "
                "the like); pass --date-format with a strptime pattern that "
                f"fits it, {_HELP_PATTERN}; values that still do not fit are "
                "rejected row by row"
            )

        forms = " or ".join(form.name for form in self._before_misfit)
        return (
            f"{column} mixes date forms: '{self._first}' is {forms} but "
            f"'{self._misfit}' is not; pass --date-format day-first, "
            "--date-format month-first, --date-format iso or a strptime "
            f"pattern {_HELP_PATTERN} to choose one, and the rows that do "
            "not fit it are rejected"
        )

    def _ambiguous_message(self) -> str:
        examples = " and ".join(f"'{value}'" for value in self._examples)
        first = self._examples[0]
        moment = _KNOWN[DAY_FIRST]._parser(first, UTC)
        assert moment is not None
        day, month, year = moment.day, moment.month, moment.year
        day_first = f"{day} {_month_name(month)} {year}"
        month_first = f"{_month_name(day)} {month}, {year}"
        return (
            f"column '{self.column}': its dates fit both day-first and "
            f"month-first, for example {examples}; pass --date-format day-first "
            f"if '{first}' is {day_first}, --date-format month-first if it "
            f"is {month_first}, or a strptime pattern {_HELP_PATTERN}"
        )


def _parser_for(name: str) -> _Parser:
    if name == ISO:
        return _parse_iso

    if name == DAY_FIRST:
        return _numeric_parser(day_first=True)

    if name == MONTH_FIRST:
        return _numeric_parser(day_first=False)

    if name == TEXT_MONTH:
        return _parse_text_month

    if "%" not in name:
        raise DateProblem(
            f"--date-format '{name}' is not a form leadrelay knows; give "
            f"day-first, month-first, iso or a strptime pattern {_HELP_PATTERN}"
        )

    return _pattern_parser(name)


def _parse_iso(value: str, tz: tzinfo) -> datetime | None:
    text = value.strip()
    if not text:
        return None

    # fromisoformat also takes 20210415 and week dates, and a CRM column of
    # eight-digit numbers holds ids, not dates: insist on YYYY-MM-DD.
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"'{value}' is not an ISO date like 2021-04-15")

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(_iso_reason(value, text)) from None

    if moment.tzinfo is None:
        # The same as replace(tzinfo=tz), which is three times slower.
        return datetime.combine(moment, moment.time(), tz)

    return moment


def _iso_reason(value: str, text: str) -> str:
    if _ISO_DAY.match(text):
        try:
            date.fromisoformat(text[:10])
        except ValueError:
            return f"'{value}' is not a date"

    return f"'{value}' is not an ISO date and time like 2021-04-15 10:30:00"


def _numeric_parser(day_first: bool) -> _Parser:
    if day_first:
        form = "day-first date like 15/04/2021"
    else:
        form = "month-first date like 04/15/2021"

    def parse(value: str, tz: tzinfo) -> datetime | None:
        text = value.strip()
        if not text:
            return None

        match = _NUMERIC.fullmatch(text)
        if match is None:
            raise ValueError(f"'{value}' is not a {form}")

        first, _, second, year, *clock = match.groups()
        day, month = (first, second) if day_first else (second, first)
        return _moment(value, _year(year), int(month), int(day), clock, tz)

    return parse


def _parse_text_month(value: str, tz: tzinfo) -> datetime | None:
    text = value.strip()
    if not text:
        return None

    if match := _DAY_MONTH_YEAR.fullmatch(text):
        day, name, year, *clock = match.groups()
    elif match := _MONTH_DAY_YEAR.fullmatch(text):
        name, day, year, *clock = match.groups()
    elif match := _YEAR_MONTH_DAY.fullmatch(text):
        year, name, day, *clock = match.groups()
    else:
        raise ValueError(f"'{value}' is not a date with a month name like 15 Apr 2021")

    month = _MONTHS.get(name.lower())
    if month is None:
        raise ValueError(f"'{value}' is not a date ('{name}' is not a month)")

    return _moment(value, _year(year), month, int(day), clock, tz)


def _reads_two_ways(text: str) -> bool:
    match = _NUMERIC.fullmatch(text)
    return match is not None and int(match[1]) != int(match[3])


def _either(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]

    return ", ".join(words[:-1]) + " or " + words[-1]


def _month_name(number: int) -> str:
    return _MONTH_NAMES[number - 1].capitalize()


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000

    return year


def _moment(
    value: str,
    year: int,
    month: int,
    day: int,
    clock: list[str | None],
    tz: tzinfo,
) -> datetime:
    hour_text, minute_text, second_text, fraction_text, half = clock
    hour = minute = second = microsecond = 0
    if hour_text is not None and minute_text is not None:
        hour = int(hour_text)
        minute = int(minute_text)
        second = int(second_text) if second_text else 0
        microsecond = int(fraction_text.ljust(6, "0")) if fraction_text else 0
        if half is not None:
            if not 1 <= hour <= 12:
                raise ValueError(f"'{value}' is not a valid time of day")

            hour = hour % 12 + (12 if half in "Pp" else 0)

        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"'{value}' is not a valid time of day")

    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tz)
    except ValueError:
        raise ValueError(f"'{value}' is not a date") from None


# The strptime codes the fast path reads itself, each as a named group that
# matches what strptime's own expression for it matches in the C locale.
_CODES = {
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "b": "(?P<b>" + "|".join(name[:3] for name in _MONTH_NAMES) + ")",
    "B": "(?P<B>" + "|".join(_MONTH_NAMES) + ")",
    "d": r"(?P<d>3[01]|[12]\d|0[1-9]|[1-9])",
    "H": r"(?P<H>2[0-3]|[01]\d|\d)",
    "I": r"(?P<I>1[0-2]|0[1-9]|[1-9])",
    "p": r"(?P<p>am|pm)",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>[0-5]\d|\d)",
    "f": r"(?P<f>\d{1,6})",
    "z": r"(?P<z>(?-i:Z)|[+-]\d\d:?[0-5]\d)",
}
# Codes that say the same thing twice; strptime's choice between them is
# left to strptime.
_RIVALS = ({"Y", "y"}, {"m", "b", "B"}, {"H", "I"})
_TOKEN = re.compile(r"%(.?)|[^%]+", re.DOTALL)


def _pattern_parser(pattern: str) -> _Parser:
    codes = {token[1] for token in _TOKEN.finditer(pattern) if token[0][0] == "%"}
    missing = [
        what
        for what, options in (("year", "Yy"), ("month", "mbB"), ("day", "d"))
        if not codes & set(options)
    ]
    if missing:
        raise DateProblem(
            f"--date-format '{pattern}' has no {_either(missing)}; a pattern "
            "needs a year (%Y or %y), a month (%m, %b or %B) and a day (%d)"
        )

    sample = datetime(2021, 4, 15, 13, 4, 5, 123456, tzinfo=UTC)
    try:
        datetime.strptime(sample.strftime(pattern), pattern)
    except ValueError as exc:
        raise DateProblem(
            f"--date-format '{pattern}' is not a pattern strptime can read "
            f"({exc}); see the format codes at {_FORMAT_CODES}"
        ) from None

    def slow(value: str, text: str, tz: tzinfo) -> datetime:
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError as exc:
            if str(exc).startswith(("time data", "unconverted data")):
                raise ValueError(
                    f"'{value}' does not fit --date-format '{pattern}'"
                ) from None

            raise ValueError(f"'{value}' is not a date") from None

        if moment.tzinfo is None:
            return moment.replace(tzinfo=tz)

        return moment

    regex = _pattern_regex(pattern)

    def parse(value: str, tz: tzinfo) -> datetime | None:
        text = value.strip()
        if not text:
            return None

        # strptime is several times slower than a regex and int(), so it
        # only judges the values the regex does not take.
        match = regex.fullmatch(text) if regex is not None else None
        if match is None:
            return slow(value, text, tz)

        return _from_fields(value, match.groupdict(), tz)

    return parse


def _pattern_regex(pattern: str) -> re.Pattern[str] | None:
    """Translate `pattern` into a regex, or None when strptime must read it."""
    parts: list[str] = []
    codes: set[str] = set()
    for token in _TOKEN.finditer(pattern):
        text, code = token[0], token[1]
        if not text.startswith("%"):
            # strptime lets any run of whitespace in the pattern match any
            # run of whitespace in the value.
            pieces = re.split(r"\s+", text)
            parts.append(r"\s+".join(re.escape(piece) for piece in pieces))
        elif code == "%":
            parts.append("%")
        elif code in _CODES and code not in codes:
            parts.append(_CODES[code])
            codes.add(code)
        else:
            return None

    if any(len(codes & rivals) > 1 for rivals in _RIVALS):
        return None

    return re.compile("".join(parts), re.IGNORECASE)


def _from_fields(value: str, found: dict[str, str], tz: tzinfo) -> datetime:
    year = int(found["Y"]) if "Y" in found else _year(found["y"])
    if "m" in found:
        month = int(found["m"])
    else:
        month = _MONTHS[(found.get("b") or found["B"]).lower()]

    if "I" in found:
        # As strptime does, %I without %p is a morning hour.
        hour = int(found["I"]) % 12
        if found.get("p", "").lower() == "pm":
            hour += 12
    else:
        hour = int(found.get("H", 0))

    fraction = found.get("f")
    microsecond = int(fraction.ljust(6, "0")) if fraction else 0
    zone = _offset(found["z"]) if "z" in found else tz
    try:
        return datetime(
            year,
            month,
            int(found["d"]),
            hour,
            int(found.get("M", 0)),
            int(found.get("S", 0)),
            microsecond,
            zone,
        )
    except ValueError:
        raise ValueError(f"'{value}' is not a date") from None


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC

    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timezone(sign * timedelta(minutes=minutes))


_KNOWN = {name: DateFormat(name) for name in (ISO, DAY_FIRST, MONTH_FIRST, TEXT_MONTH)}
_INFERRED = tuple(_KNOWN.values())
