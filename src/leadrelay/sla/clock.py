"""Deadline arithmetic for SLA clocks: add clock hours, measure them, ask if one runs.

A clock is either of the contract's two kinds:

* ``calendar``: real elapsed time. 24 hours after Friday 16:00 is Saturday
  16:00, and across a daylight-saving change it is still 24 real hours, so the
  deadline's wall time moves by the hour the clocks moved. An SLA promises a
  wait, and a wait is measured in real time.
* ``business``: the clock runs only on working days that are not holidays,
  while the local wall clock in the calendar's zone reads between ``opens``
  (inclusive) and ``closes`` (exclusive). Put precisely, the open moments are
  the moments whose wall time falls in a working day's opening hours. On an
  ordinary day, a daylight-saving night included, that adds up to
  ``closes - opens``. Only when the change happens inside opening hours does a
  day grow or shrink: the clock then counts the real time during which the
  wall clock showed opening hours (7 hours for 00:00-08:00 on a spring-forward
  night, 9 on a fall-back night).

``add_hours`` returns the earliest moment at which the hours have run: one
business hour after Friday 16:00 is Friday 17:00, not Monday 09:00, and zero
hours after any moment is that moment.

Internally every moment is an integer count of microseconds since the Unix
epoch, so sums of many windows never drift the way floats would. The business
clock walks whole windows a day at a time and skips whole weeks that hold no
holiday and no offset change, so its cost grows with the holidays and offset
changes it passes, not with the hours.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays as holiday_registry

from leadrelay.contract.model import CLOCKS, BusinessHours

CALENDAR, BUSINESS = CLOCKS

#: The years whose public holidays a calendar knows when none are given.
DEFAULT_HOLIDAY_YEARS = range(2000, 2041)

_MICROSECOND = timedelta(microseconds=1)
_SECOND = 1_000_000
_HOUR = 3600 * _SECOND
_DAY = 24 * _HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_DAY = timedelta(days=1)

# No zone's UTC offset comes near 26 hours, so a day's wall-clock window can
# only be touched by offset changes within this distance of its wall times.
_MARGIN = 26 * _HOUR

Window = tuple[int, int]


@dataclass(frozen=True)
class Calendar:
    """When the clock runs."""

    #: "calendar" or "business", as the contract's SLA names it.
    kind: str
    #: The zone whose wall clock the opening hours are read on.
    tz: ZoneInfo
    #: Working days, 0=Mon..6=Sun.
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    opens: time = time(9)
    closes: time = time(17)
    #: Local dates on which the business clock does not run.
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in CLOCKS:
            raise ValueError(
                f'unknown clock "{self.kind}": use "calendar" or "business"'
            )

        # Accept any iterable for the sets, so a contract's tuples pass as they are.
        object.__setattr__(self, "days", frozenset(self.days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.days:
            raise ValueError("a calendar needs at least one working day (0=Mon..6=Sun)")

        strays = sorted(day for day in self.days if day not in range(7))
        if strays:
            raise ValueError(f"working days must be 0=Mon..6=Sun, not {strays}")

        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are local wall times: give no tzinfo")

        if self.closes <= self.opens:
            raise ValueError(
                f"closes ({self.closes}) must be after opens ({self.opens}) "
                "on the same day"
            )

    @classmethod
    def from_contract(
        cls,
        sla_clock: str,
        tz: ZoneInfo,
        hours: BusinessHours,
        country: str | None = None,
        subdiv: str | None = None,
        years: range | None = None,
    ) -> Calendar:
        """Build the clock an SLA names from the contract's business hours.

        The holidays are the dates the contract lists plus, when `country`
        (an ISO 3166-1 code) is given, that country's public holidays, or its
        subdivision's (ISO 3166-2, e.g. "BY"), in `years`. Outside those
        years only the listed dates count, so the default reaches well past
        any deadline a lead can have.
        """
        if subdiv is not None and country is None:
            raise ValueError(f'subdivision "{subdiv}" needs a country as well')

        listed = frozenset(_parse_holiday(text) for text in hours.holidays)
        public: frozenset[date] = frozenset()
        if country is not None:
            wanted = DEFAULT_HOLIDAY_YEARS if years is None else years
            public = _public_holidays(country, subdiv, wanted)

        return cls(
            kind=sla_clock,
            tz=tz,
            days=frozenset(hours.days),
            opens=hours.opens,
            closes=hours.closes,
            holidays=listed | public,
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    @cached_property
    def _window_length(self) -> int:
        return _time_micros(self.closes) - _time_micros(self.opens)

    @cached_property
    def _week_length(self) -> int:
        return len(self.days) * self._window_length

    @cached_property
    def _sorted_holidays(self) -> tuple[date, ...]:
        # Only holidays on working days change how long a week is.
        return tuple(sorted(d for d in self.holidays if d.weekday() in self.days))

    @cached_property
    def _windows_by_day(self) -> dict[date, tuple[Window, ...]]:
        return {}


def add_hours(start: datetime, hours: float, calendar: Calendar) -> datetime:
    """Return the moment `hours` of clock time after `start`.

    `start` is an aware datetime in any zone; the result is aware, in
    ``calendar.tz``, and is the earliest moment at which the hours have run.
    Negative hours raise ValueError.
    """
    _require_aware(start, "start")
    span = _hours_to_micros(hours)
    start_us = _micros(start)
    if calendar.kind == CALENDAR or span == 0:
        return _moment(start_us + span, calendar.tz)

    return _moment(_add_business(calendar, start_us, span), calendar.tz)


def elapsed_hours(start: datetime, end: datetime, calendar: Calendar) -> float:
    """Return the clock hours between two aware moments (0 if end <= start)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    start_us, end_us = _micros(start), _micros(end)
    if end_us <= start_us:
        return 0.0

    if calendar.kind == CALENDAR:
        return (end_us - start_us) / _HOUR

    return _elapsed_business(calendar, start_us, end_us) / _HOUR


def is_open(moment: datetime, calendar: Calendar) -> bool:
    """Return whether the clock runs at `moment`; a calendar clock always does."""
    _require_aware(moment, "moment")
    if calendar.kind == CALENDAR:
        return True

    local = moment.astimezone(calendar.tz)
    if not calendar.is_working_day(local.date()):
        return False

    return calendar.opens <= local.time() < calendar.closes


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdiv: str | None, years: range) -> frozenset[date]:
    """Return a country's (or subdivision's) public holidays in `years`, once."""
    code = country.strip().upper()
    supported = holiday_registry.list_supported_countries()
    if code not in supported:
        raise ValueError(
            f'unknown holiday country "{country}": use an ISO 3166-1 alpha-2 code '
            'such as "DE" or "US"'
        )

    if subdiv is not None and subdiv not in supported[code]:
        known = ", ".join(supported[code]) or "none"
        raise ValueError(
            f'unknown subdivision "{subdiv}" of "{code}": use an ISO 3166-2 '
            f"subdivision code ({known})"
        )

    found = holiday_registry.country_holidays(code, subdiv=subdiv, years=years)
    return frozenset(found.keys())


# -- business clock ------------------------------------------------------------


def _add_business(calendar: Calendar, start_us: int, span: int) -> int:
    start_day = _local_date(start_us, calendar.tz)
    # Begin a day early: where an offset change turns the clock back across
    # midnight, part of the day before's window comes after the start.
    day = start_day - _ONE_DAY
    remaining = span
    taken: tuple[Window, ...] = ()
    while True:
        if day > start_day and remaining > calendar._week_length:
            # Keep at least one microsecond back, so that the landing is
            # found inside a window and is the earliest moment, not the
            # start of the next week.
            affordable = (remaining - 1) // calendar._week_length
            weeks = min(_regular_weeks(calendar, day), affordable)
            day += timedelta(days=7 * weeks)
            remaining -= weeks * calendar._week_length

        spans, taken = _in_order(calendar, day, taken)
        for opens, closes in spans:
            if closes <= start_us:
                continue

            opens = max(opens, start_us)
            if remaining <= closes - opens:
                return opens + remaining

            remaining -= closes - opens

        day += _ONE_DAY


def _in_order(
    calendar: Calendar, day: date, taken: tuple[Window, ...]
) -> tuple[list[Window], tuple[Window, ...]]:
    """Return `day`'s windows in time order, with any of the next day's that come first.

    Where a change turns the clock back across midnight (America/Goose_Bay
    went from 00:01 back to 23:01 until 2010), the next day's first minute
    comes before the end of this day's window. Such early windows are
    returned here and handed back as `taken`, to leave out the next day.
    """
    spans = [span for span in _windows(calendar, day) if span not in taken]
    following = _windows(calendar, day + _ONE_DAY)
    if not spans or not following or following[0][0] >= spans[-1][1]:
        return spans, ()

    early = tuple(span for span in following if span[0] < spans[-1][1])
    return sorted([*spans, *early]), early


def _elapsed_business(calendar: Calendar, start_us: int, end_us: int) -> int:
    start_day = _local_date(start_us, calendar.tz)
    end_day = _local_date(end_us, calendar.tz)
    day = start_day - _ONE_DAY
    spent = 0
    while day <= end_day + _ONE_DAY:
        # Whole days strictly between the two dates lie wholly inside the span.
        if day > start_day and (end_day - day).days >= 7:
            affordable = (end_day - day).days // 7
            weeks = min(_regular_weeks(calendar, day), affordable)
            day += timedelta(days=7 * weeks)
            spent += weeks * calendar._week_length

        for opens, closes in _windows(calendar, day):
            overlap = min(closes, end_us) - max(opens, start_us)
            if overlap > 0:
                spent += overlap

        day += _ONE_DAY

    return spent


def _regular_weeks(calendar: Calendar, day: date) -> int:
    """Return how many whole weeks from `day` on have no holiday and no offset change.

    Such a week holds exactly one window of ``closes - opens`` per working
    day, so it can be skipped in one step.
    """
    # Conservative: no day is skipped whose window comes within the margin
    # of the next offset change.
    change = _next_transition(calendar.tz, _wall(day, time(0)) - _MARGIN)
    room = change - _MARGIN - _wall(day, calendar.closes)
    clear_days = max(room, 0) // _DAY

    holidays = calendar._sorted_holidays
    index = bisect_left(holidays, day)
    if index < len(holidays):
        clear_days = min(clear_days, (holidays[index] - day).days)

    return clear_days // 7


def _windows(calendar: Calendar, day: date) -> tuple[Window, ...]:
    cache = calendar._windows_by_day
    found = cache.get(day)
    if found is None:
        found = cache[day] = _day_windows(calendar, day)

    return found


def _day_windows(calendar: Calendar, day: date) -> tuple[Window, ...]:
    """Return the spans of moments in which `day`'s wall clock shows opening hours.

    Usually one span of ``closes - opens``. An offset change inside the window
    cuts it short or stretches it, and splits it in two when `opens` or
    `closes` falls inside the repeated hour of a fall-back night.
    """
    if not calendar.is_working_day(day):
        return ()

    wall_opens = _wall(day, calendar.opens)
    wall_closes = _wall(day, calendar.closes)
    changes = _transitions_between(
        calendar.tz, wall_opens - _MARGIN, wall_closes + _MARGIN
    )
    if not changes:
        offset = _offset_at(calendar.tz, wall_opens // _SECOND)
        return ((wall_opens - offset, wall_closes - offset),)

    # Between offset changes wall time is UTC plus one offset; intersect each
    # such stretch with the moments its offset maps into the window.
    edges = [-math.inf, *(change.at for change in changes), math.inf]
    offsets = [changes[0].before, *(change.after for change in changes)]
    spans: list[Window] = []
    for low, high, offset in zip(edges, edges[1:], offsets, strict=False):
        begin = max(low, wall_opens - offset)
        end = min(high, wall_closes - offset)
        if begin >= end:
            continue

        if spans and spans[-1][1] == begin:
            spans[-1] = (spans[-1][0], int(end))
        else:
            spans.append((int(begin), int(end)))

    return tuple(spans)


# -- offset changes ------------------------------------------------------------


class _Transition(NamedTuple):
    at: int
    before: int
    after: int


@lru_cache(maxsize=4096)
def _year_transitions(tz: ZoneInfo, year: int) -> tuple[_Transition, ...]:
    """Return the offset changes of `tz` after 1 January `year` UTC, up to the next.

    zoneinfo does not expose its transitions, so sample the offset once a
    UTC day and bisect to the second where it differs. That finds every
    change as long as a zone changes at most once a day, which holds for
    every zone in tzdata since 1970.
    """
    first = _new_year(year) // _SECOND
    last = _new_year(year + 1) // _SECOND
    found = []
    low, low_offset = first, _offset_at(tz, first)
    for high in range(first + 86400, last + 1, 86400):
        high_offset = _offset_at(tz, high)
        if high_offset != low_offset:
            found.append(_bisect_transition(tz, low, high, low_offset, high_offset))

        low, low_offset = high, high_offset

    return tuple(found)


def _bisect_transition(
    tz: ZoneInfo, low: int, high: int, before: int, after: int
) -> _Transition:
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(tz, middle) == before:
            low = middle
        else:
            high = middle

    return _Transition(at=high * _SECOND, before=before, after=after)


def _transitions_between(tz: ZoneInfo, low: int, high: int) -> list[_Transition]:
    return [
        change
        for year in range(_utc_year(low) - 1, _utc_year(high) + 1)
        for change in _year_transitions(tz, year)
        if low <= change.at <= high
    ]


def _next_transition(tz: ZoneInfo, low: int) -> int:
    """Return when `tz` next changes offset at or after `low`.

    Zones without changes answer a bound two years on, before which there are
    none; the caller asks again from there.
    """
    year = _utc_year(low)
    for candidate in range(year - 1, year + 2):
        for change in _year_transitions(tz, candidate):
            if change.at >= low:
                return change.at

    return _new_year(year + 2)


def _offset_at(tz: ZoneInfo, seconds: int) -> int:
    offset = datetime.fromtimestamp(seconds, tz).utcoffset()
    assert offset is not None, "a ZoneInfo always knows its offset"
    return offset // _MICROSECOND


# -- conversions ---------------------------------------------------------------


def _micros(moment: datetime) -> int:
    # Aware datetimes with different tzinfos subtract as real instants, but
    # two sharing one subtract as wall times; the epoch's tzinfo is UTC, where
    # the two agree.
    return (moment - _EPOCH) // _MICROSECOND


def _moment(micros: int, tz: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(tz)


def _local_date(micros: int, tz: ZoneInfo) -> date:
    return _moment(micros, tz).date()


def _utc_year(micros: int) -> int:
    return (_EPOCH + timedelta(microseconds=micros)).year


def _wall(day: date, at: time) -> int:
    """Return a wall time as if it were UTC, in microseconds since the epoch."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY + _time_micros(at)


def _new_year(year: int) -> int:
    return _wall(date(year, 1, 1), time(0))


def _time_micros(at: time) -> int:
    return ((at.hour * 60 + at.minute) * 60 + at.second) * _SECOND + at.microsecond


def _hours_to_micros(hours: float) -> int:
    if math.isnan(hours) or math.isinf(hours):
        raise ValueError(f"hours must be a finite number, not {hours}")

    if hours < 0:
        raise ValueError(f"hours must not be negative, not {hours}")

    return round(hours * _HOUR)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _parse_holiday(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f'holiday "{text}" is not an ISO date: write it as YYYY-MM-DD'
        ) from None
