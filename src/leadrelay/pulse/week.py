"""ISO weeks in the contract's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)

# A week's bounds and the weeks before and after it must stay inside what
# `date` can hold, so the years at either end of its range are refused.
FIRST_YEAR = 1900
LAST_YEAR = 9998


class WeekError(ValueError):
    pass


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        match = _WEEK_RE.match(text.strip())
        if not match:
            raise WeekError(f'"{text}" is not an ISO week; write it as 2018-W10')

        year, number = int(match[1]), int(match[2])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise WeekError(
                f'"{text}": 2018-W10 is the form; the year must be between '
                f"{FIRST_YEAR} and {LAST_YEAR}"
            )

        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise WeekError(f"{year} has no week {number}") from None

        return cls(year, number)

    @classmethod
    def containing(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime, tz: ZoneInfo) -> Week:
        return cls.containing(now.astimezone(tz).date()).previous()

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def previous(self, weeks: int = 1) -> Week:
        return Week.containing(self.monday - timedelta(weeks=weeks))

    def next(self) -> Week:
        return Week.containing(self.monday + timedelta(weeks=1))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Return [start, end) as aware datetimes: local midnights, so a DST week is 167 or 169 hours."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(weeks=1), time(0), tzinfo=tz)
        return start, end
