"""Read and validate `funnel.toml`, reporting every problem with its key path."""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holiday_registry

from leadrelay.contract.model import (
    ASSIGNMENTS,
    CLOCKS,
    DEFAULT_ESCALATION,
    ESCALATE_TO,
    NOTE_RULES,
    OUTCOMES,
    REQUIREMENTS,
    SLA_STARTS,
    WEEKDAYS,
    BusinessHours,
    Choice,
    Contract,
    Escalation,
    Icp,
    PulseSchedule,
    SizeRange,
    Sla,
    Stage,
)


class ContractError(Exception):
    """A contract that cannot be used; `problems` lists every reason."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}:\n{lines}")


def default_text() -> str:
    return resources.files("leadrelay.contract").joinpath("default.toml").read_text()


def load_file(path: str | Path) -> Contract:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(
            str(path), ["file not found; run `leadrelay init` to write a default"]
        ) from None
    except UnicodeDecodeError as exc:
        raise ContractError(str(path), [f"not UTF-8 text ({exc.reason})"]) from None
    except IsADirectoryError:
        raise ContractError(
            str(path), ["is a folder, not a contract file; name funnel.toml itself"]
        ) from None
    except OSError as exc:
        raise ContractError(str(path), [f"cannot be read ({exc.strerror})"]) from None

    return parse(text, source=str(path))


def parse(text: str, source: str = "funnel.toml") -> Contract:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(source, [f"not valid TOML: {exc}"]) from None

    checker = _Checker()
    contract = checker.contract(data, text)
    if checker.problems:
        raise ContractError(source, checker.problems)

    assert contract is not None
    return contract


_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")

# Upper bounds keep every deadline and stall date inside what `datetime` can
# hold: a year of clock hours, ten years of days.
MAX_HOURS = 8760
MAX_STALL_DAYS = 3650

_TOP = ("funnel", "stages", "icp", "lead", "qualified", "sources", "handoff")
_TOP_KEYS = _TOP + ("sla", "business_hours", "loss", "objections", "pulse")


class _Checker:
    """Walk the parsed TOML once, collecting problems instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def table(
        self, value: Any, path: str, known: tuple[str, ...], required: tuple[str, ...]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(path, f"must be a table, not {_kind(value)}")
            return {}

        for key in value:
            if key not in known:
                self.problem(
                    _join(path, key),
                    f'unknown key "{key}"; known keys: {", ".join(known)}',
                )

        for key in required:
            if key not in value:
                self.problem(_join(path, key), "is required")

        return value

    def string(self, value: Any, path: str, default: str | None = None) -> str:
        if value is None and default is not None:
            return default

        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"must be a non-empty string, not {_kind(value)}")
            return default or ""

        return value.strip()

    def key(self, value: Any, path: str) -> str:
        text = self.string(value, path)
        if text and not _KEY_RE.match(text):
            self.problem(
                path,
                f'"{text}" is not a key: use lowercase letters, digits and _',
            )

        return text

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()

        if not isinstance(value, list):
            self.problem(path, f"must be a list of strings, not {_kind(value)}")
            return ()

        out = []
        for i, item in enumerate(value):
            out.append(self.string(item, f"{path}[{i}]"))

        return tuple(out)

    def number(
        self, value: Any, path: str, maximum: float, minimum: float = 0.0
    ) -> float | None:
        if value is None:
            return None

        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(path, f"must be a number, not {_kind(value)}")
            return None

        if isinstance(value, float) and not math.isfinite(value):
            self.problem(path, f"must be a finite number, not {value}")
            return None

        if value <= minimum:
            self.problem(path, f"must be greater than {minimum:g}, not {value}")
            return None

        if value > maximum:
            self.problem(path, f"must be at most {maximum:g}, not {value}")
            return None

        return float(value)

    def clock_time(self, value: Any, path: str, default: str) -> time:
        text = self.string(value, path, default)
        match = _TIME_RE.match(text)
        if not match:
            self.problem(path, f'"{text}" is not a time of day; write it as "09:00"')
            return time(0, 0)

        return time(int(match[1]), int(match[2]))

    def weekday(self, value: Any, path: str) -> int:
        text = self.string(value, path, "mon").lower()
        if text not in WEEKDAYS:
            self.problem(
                path, f'"{text}" is not a day; use one of {", ".join(WEEKDAYS)}'
            )
            return 0

        return WEEKDAYS.index(text)

    def requirements(self, value: Any, path: str) -> tuple[str, ...]:
        names = self.strings(value, path)
        for i, name in enumerate(names):
            if name and name not in REQUIREMENTS:
                self.problem(
                    f"{path}[{i}]",
                    f'unknown field "{name}"; known fields: {", ".join(REQUIREMENTS)}',
                )

        return tuple(n for n in names if n in REQUIREMENTS)

    def choices(self, value: Any, path: str) -> tuple[Choice, ...]:
        if value is None:
            return ()

        if not isinstance(value, list):
            self.problem(path, f"must be a list of tables, not {_kind(value)}")
            return ()

        out: list[Choice] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            here = f"{path}[{i}]"
            item = self.table(item, here, ("key", "label"), ("key", "label"))
            key = self.key(item.get("key"), f"{here}.key") if "key" in item else ""
            label = self.string(item.get("label"), f"{here}.label", key or "?")
            if key in seen:
                self.problem(f"{here}.key", f'"{key}" is listed twice')
            seen.add(key)
            out.append(Choice(key, label))

        return tuple(out)

    # -- sections ----------------------------------------------------------

    def contract(self, data: dict[str, Any], text: str) -> Contract | None:
        self.table(data, "", _TOP_KEYS, _TOP)

        funnel = self.table(data.get("funnel", {}), "funnel", ("name", "timezone"), ())
        name = self.string(funnel.get("name"), "funnel.name", "Funnel")
        timezone = self.timezone(funnel.get("timezone"), "funnel.timezone")

        stages = self.stages(data.get("stages"))
        stage_keys = [s.key for s in stages]

        icp = self.icp(data.get("icp", {}))
        lead = self.table(data.get("lead", {}), "lead", ("requires",), ())
        lead_requires = self.requirements(lead.get("requires"), "lead.requires")

        qualified = self.table(
            data.get("qualified", {}), "qualified", ("stage", "means"), ("stage",)
        )
        qualified_stage = self.string(qualified.get("stage"), "qualified.stage", "?")
        if stage_keys and qualified_stage not in stage_keys:
            self.problem(
                "qualified.stage",
                f'"{qualified_stage}" is not a stage; stages: {", ".join(stage_keys)}',
            )
        elif stages and stages[stage_keys.index(qualified_stage)].outcome == "lost":
            self.problem("qualified.stage", "cannot be the lost stage")
        qualified_means = self.string(
            qualified.get("means"), "qualified.means", "Reached the qualified stage."
        )

        sources = self.table(data.get("sources", {}), "sources", ("allowed",), ())
        allowed = self.strings(sources.get("allowed"), "sources.allowed")

        handoff = self.table(
            data.get("handoff", {}), "handoff", ("checklist", "team", "assign"), ()
        )
        checklist = self.requirements(handoff.get("checklist"), "handoff.checklist")
        handoff_team = (
            self.string(handoff.get("team"), "handoff.team")
            if "team" in handoff
            else ""
        )
        handoff_assign = self.string(handoff.get("assign"), "handoff.assign", "team")
        if handoff_assign not in ASSIGNMENTS:
            self.problem(
                "handoff.assign",
                f'"{handoff_assign}" is not one of {", ".join(ASSIGNMENTS)}',
            )

        slas = self.slas(data.get("sla"))
        hours = self.business_hours(data.get("business_hours", {}))

        loss = self.table(data.get("loss", {}), "loss", ("reasons", "note"), ())
        reasons = self.choices(loss.get("reasons"), "loss.reasons")
        if not reasons:
            self.problem("loss.reasons", "list at least one loss reason")
        note_rule = self.string(loss.get("note"), "loss.note", "one_sentence")
        if note_rule not in NOTE_RULES:
            self.problem(
                "loss.note", f'"{note_rule}" is not one of {", ".join(NOTE_RULES)}'
            )

        objections = self.choices(data.get("objections"), "objections")
        pulse = self.pulse(data.get("pulse", {}))

        if self.problems:
            return None

        return Contract(
            name=name,
            timezone=timezone,
            stages=stages,
            icp=icp,
            lead_requires=lead_requires,
            qualified_stage=qualified_stage,
            qualified_means=qualified_means,
            sources=allowed,
            handoff=checklist,
            handoff_team=handoff_team,
            handoff_assign=handoff_assign,
            slas=slas,
            business_hours=hours,
            loss_reasons=reasons,
            note_rule=note_rule,
            objections=objections,
            pulse=pulse,
            text=text,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )

    def timezone(self, value: Any, path: str) -> str:
        text = self.string(value, path, "UTC")
        name = _zone_name(text)
        if name is None:
            self.problem(
                path, f'"{text}" is not a time zone; use a name like "Europe/Berlin"'
            )
            return "UTC"

        return name

    def stages(self, value: Any) -> tuple[Stage, ...]:
        if not isinstance(value, list) or not value:
            self.problem("stages", "list the stages as [[stages]] tables, at least two")
            return ()

        known = (
            "key",
            "label",
            "means",
            "requires",
            "stall_after_days",
            "outcome",
            "skippable",
        )
        out: list[Stage] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            here = f"stages[{i}]"
            item = self.table(item, here, known, ("key", "label", "means"))
            key = (
                self.key(item.get("key"), f"{here}.key")
                if "key" in item
                else f"stage{i}"
            )
            if key in seen:
                self.problem(f"{here}.key", f'"{key}" is used by an earlier stage')
            seen.add(key)
            outcome = item.get("outcome")
            if outcome is not None and outcome not in OUTCOMES:
                self.problem(
                    f"{here}.outcome",
                    f'"{outcome}" is not one of {", ".join(OUTCOMES)}',
                )
                outcome = None
            skippable = item.get("skippable", True)
            if not isinstance(skippable, bool):
                self.problem(
                    f"{here}.skippable",
                    f"must be true or false, not {_kind(skippable)}",
                )
                skippable = True
            out.append(
                Stage(
                    key=key,
                    label=self.string(item.get("label"), f"{here}.label", key),
                    means=self.string(item.get("means"), f"{here}.means", key),
                    requires=self.requirements(
                        item.get("requires"), f"{here}.requires"
                    ),
                    stall_after_days=self.number(
                        item.get("stall_after_days"),
                        f"{here}.stall_after_days",
                        MAX_STALL_DAYS,
                    ),
                    outcome=outcome,
                    skippable=skippable,
                    position=i,
                )
            )

        for outcome in OUTCOMES:
            found = [s for s in out if s.outcome == outcome]
            if len(found) != 1:
                self.problem(
                    "stages",
                    f'exactly one stage needs outcome = "{outcome}"; found {len(found)}',
                )

        if out and out[0].outcome is not None:
            self.problem("stages[0].outcome", "the first stage must be an open stage")

        return tuple(out)

    def icp(self, value: Any) -> Icp:
        icp = self.table(value, "icp", ("industries", "company_size", "locations"), ())
        size = self.table(
            icp.get("company_size", {}),
            "icp.company_size",
            ("min_employees", "max_employees"),
            (),
        )
        low = size.get("min_employees")
        high = size.get("max_employees")
        for name, bound in (("min_employees", low), ("max_employees", high)):
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int)
            ):
                self.problem(
                    f"icp.company_size.{name}",
                    f"must be a whole number, not {_kind(bound)}",
                )
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.problem(
                "icp.company_size", f"min_employees {low} is above max_employees {high}"
            )

        return Icp(
            industries=tuple(
                s.lower() for s in self.strings(icp.get("industries"), "icp.industries")
            ),
            company_size=SizeRange(
                low if isinstance(low, int) else None,
                high if isinstance(high, int) else None,
            ),
            locations=tuple(
                s.lower() for s in self.strings(icp.get("locations"), "icp.locations")
            ),
        )

    def slas(self, value: Any) -> tuple[Sla, ...]:
        if value is None:
            return ()

        if not isinstance(value, list):
            self.problem("sla", "must be a list of [[sla]] tables")
            return ()

        known = (
            "key",
            "label",
            "starts",
            "within_hours",
            "clock",
            "warn_before_hours",
            "pausable",
            "escalate",
        )
        out: list[Sla] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            here = f"sla[{i}]"
            item = self.table(item, here, known, ("key", "within_hours"))
            key = self.key(item.get("key"), f"{here}.key") if "key" in item else "sla"
            if key in seen:
                self.problem(f"{here}.key", f'"{key}" is used by an earlier SLA')
            seen.add(key)
            starts = self.string(item.get("starts"), f"{here}.starts", "inquiry")
            if starts not in SLA_STARTS:
                self.problem(
                    f"{here}.starts",
                    f'"{starts}" is not one of {", ".join(SLA_STARTS)}',
                )
            clock = self.string(item.get("clock"), f"{here}.clock", "calendar")
            if clock not in CLOCKS:
                self.problem(
                    f"{here}.clock", f'"{clock}" is not one of {", ".join(CLOCKS)}'
                )
            hours = self.number(
                item.get("within_hours"), f"{here}.within_hours", MAX_HOURS
            )
            warn = self.number(
                item.get("warn_before_hours"), f"{here}.warn_before_hours", MAX_HOURS
            )
            if warn is not None and hours is not None and warn >= hours:
                self.problem(
                    f"{here}.warn_before_hours",
                    f"must be less than within_hours ({hours:g}), not {warn:g}",
                )
            pausable = item.get("pausable", False)
            if not isinstance(pausable, bool):
                self.problem(
                    f"{here}.pausable", f"must be true or false, not {_kind(pausable)}"
                )
                pausable = False
            out.append(
                Sla(
                    key=key,
                    label=self.string(item.get("label"), f"{here}.label", key),
                    starts=starts,
                    within_hours=hours or 24.0,
                    clock=clock,
                    warn_before_hours=warn,
                    pausable=pausable,
                    escalate=self.escalation(item.get("escalate"), f"{here}.escalate"),
                )
            )

        return tuple(out)

    def escalation(self, value: Any, path: str) -> tuple[Escalation, ...]:
        if value is None:
            return DEFAULT_ESCALATION

        if not isinstance(value, list) or not value:
            self.problem(
                path,
                'list the steps as [{ after_hours = 0, to = "owner" }, ...], '
                "at least one",
            )
            return DEFAULT_ESCALATION

        out: list[Escalation] = []
        for i, item in enumerate(value):
            here = f"{path}[{i}]"
            item = self.table(item, here, ("after_hours", "to"), ("to",))
            after = item.get("after_hours", 0)
            if isinstance(after, bool) or not isinstance(after, (int, float)):
                self.problem(
                    f"{here}.after_hours", f"must be a number, not {_kind(after)}"
                )
                after = 0
            elif not math.isfinite(after):
                self.problem(
                    f"{here}.after_hours", f"must be a finite number, not {after}"
                )
                after = 0
            elif after < 0:
                self.problem(f"{here}.after_hours", f"must be 0 or more, not {after:g}")
                after = 0
            elif after > MAX_HOURS:
                self.problem(
                    f"{here}.after_hours",
                    f"must be at most {MAX_HOURS:g}, not {after:g}",
                )
                after = 0
            to = self.string(item.get("to"), f"{here}.to", "owner")
            if to not in ESCALATE_TO:
                self.problem(
                    f"{here}.to", f'"{to}" is not one of {", ".join(ESCALATE_TO)}'
                )
            if out and after < out[-1].after_hours:
                self.problem(
                    f"{here}.after_hours",
                    f"list the steps in order: {after:g} comes after "
                    f"{out[-1].after_hours:g}",
                )
            out.append(Escalation(float(after), to))

        return tuple(out)

    def business_hours(self, value: Any) -> BusinessHours:
        known = ("days", "opens", "closes", "holidays", "holidays_country")
        known += ("holidays_region",)
        hours = self.table(value, "business_hours", known, ())
        days = []
        for i, day in enumerate(hours.get("days", ["mon", "tue", "wed", "thu", "fri"])):
            days.append(self.weekday(day, f"business_hours.days[{i}]"))
        if not days:
            self.problem("business_hours.days", "list at least one working day")
        opens = self.clock_time(hours.get("opens"), "business_hours.opens", "09:00")
        closes = self.clock_time(hours.get("closes"), "business_hours.closes", "17:00")
        if closes <= opens:
            self.problem("business_hours.closes", "must be later than opens")
        holidays = self.strings(hours.get("holidays"), "business_hours.holidays")
        for i, day in enumerate(holidays):
            if day and not _is_date(day):
                self.problem(
                    f"business_hours.holidays[{i}]",
                    f'"{day}" is not a date like "2026-12-25"',
                )

        country, region = self.holiday_region(
            hours.get("holidays_country"), hours.get("holidays_region")
        )
        return BusinessHours(
            tuple(sorted(set(days))), opens, closes, holidays, country, region
        )

    def holiday_region(
        self, country: Any, region: Any
    ) -> tuple[str | None, str | None]:
        """Check a country's (and region's) code against the holidays package."""
        if country is None:
            if region is not None:
                self.problem(
                    "business_hours.holidays_region", "needs holidays_country as well"
                )
            return None, None

        path = "business_hours.holidays_country"
        code = self.string(country, path).upper()
        supported = holiday_registry.list_supported_countries()
        if code not in supported:
            self.problem(
                path,
                f'"{code}" is not a country the holidays package knows; use an '
                'ISO 3166-1 code like "DE" or "US"',
            )
            return None, None

        if region is None:
            return code, None

        path = "business_hours.holidays_region"
        wanted = self.string(region, path)
        found = next((r for r in supported[code] if r.upper() == wanted.upper()), None)
        if found is None:
            known = ", ".join(supported[code]) or "none"
            self.problem(
                path, f'"{wanted}" is not a region of {code}; its regions: {known}'
            )
            return code, None

        return code, found

    def pulse(self, value: Any) -> PulseSchedule:
        pulse = self.table(value, "pulse", ("day", "time", "to", "chat"), ())
        chat = pulse.get("chat", False)
        if not isinstance(chat, bool):
            self.problem("pulse.chat", f"must be true or false, not {_kind(chat)}")
            chat = False
        to = self.strings(pulse.get("to"), "pulse.to")
        for i, address in enumerate(to):
            if address and not _EMAIL_RE.match(address):
                self.problem(
                    f"pulse.to[{i}]",
                    f'"{address}" is not an e-mail address like "sales@example.com"',
                )

        return PulseSchedule(
            day=self.weekday(pulse.get("day", "mon"), "pulse.day"),
            at=self.clock_time(pulse.get("time"), "pulse.time", "09:00"),
            to=to,
            chat=chat,
        )


def _is_date(text: str) -> bool:
    if not _DATE_RE.match(text):
        return False

    try:
        date.fromisoformat(text)
    except ValueError:
        return False

    return True


def _zone_name(text: str) -> str | None:
    """Return the canonical spelling of a time zone name given in any case."""
    wanted = text.casefold()
    found = next((z for z in available_timezones() if z.casefold() == wanted), text)
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError):
        return None

    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"

    return type(value).__name__
