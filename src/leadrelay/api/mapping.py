"""Which field of a posted payload fills which field of a lead.

A key may carry a mapping, given as a small TOML or JSON file when the key
is made, so that a form tool can post its own payload as it is:

    [fields]
    email = "data.fields.email"      # a dotted path; list items by number
    name = "data.fields.0.value"
    intent = "data.message"

    [defaults]
    source = "web_form"              # when the payload has no value

    [values.source]
    google = "paid_search"           # the tool's word -> the contract's

A key without one takes the lead fields by name, and refuses any other.
A mapped payload may carry anything else; set `strict = true` to refuse
top-level fields the mapping does not read. Pure: no database here.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any

from leadrelay.workflow.ops import EDITABLE

#: The lead fields an inquiry may fill, with the most characters each holds.
FIELD_LENGTHS: dict[str, int] = {
    "email": 254,
    "phone": 64,
    "name": 200,
    "company": 200,
    "source": 200,
    "campaign": 200,
    "industry": 200,
    "company_size": 100,
    "employees": 0,
    "location": 200,
    "intent": 500,
}
assert tuple(FIELD_LENGTHS) == EDITABLE, "keep in step with workflow.ops.EDITABLE"

_SECTIONS = ("fields", "defaults", "values", "strict")


class MappingError(Exception):
    """A mapping file that cannot be used; `problems` names each place."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Problem:
    #: Where in the payload: the field or dotted path the sender wrote.
    field: str
    message: str


def parse(text: str, source: str) -> dict[str, Any]:
    """Read a mapping file's text (TOML, or JSON for a .json file) and check it."""
    try:
        if source.endswith(".json"):
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(source, [f"not valid {_kind(source)}: {exc}"]) from None

    problems = check(data)
    if problems:
        raise MappingError(source, problems)

    return data


def check(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return ["the mapping must be a table of sections"]

    known = ", ".join(EDITABLE)
    out = [
        f"{name}: not a section; the sections are {', '.join(_SECTIONS)}"
        for name in data
        if name not in _SECTIONS
    ]
    for section in ("fields", "defaults", "values"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            out.append(f"{section}: must be a table")
            continue
        for name, value in table.items():
            place = f"{section}.{name}"
            if name not in FIELD_LENGTHS:
                out.append(f"{place}: not a lead field; the fields are {known}")
            elif section == "fields" and not (isinstance(value, str) and value):
                out.append(f'{place}: must be a dotted path such as "data.email"')
            elif section == "defaults" and not isinstance(value, str | int):
                out.append(f"{place}: must be text (or a number for employees)")
            elif section == "defaults" and _value(name, value)[1]:
                out.append(f"{place}: {_value(name, value)[1]}")
            elif section == "values" and not (
                isinstance(value, dict)
                and all(isinstance(v, str) for v in value.values())
            ):
                out.append(f"{place}: must be a table of text to text")

    if not isinstance(data.get("strict", False), bool):
        out.append("strict: must be true or false")

    return out


def apply(
    mapping: dict[str, Any], payload: Any
) -> tuple[dict[str, Any], list[Problem]]:
    """Return the lead fields a payload gives, and what is wrong with it, per field."""
    if not isinstance(payload, dict):
        return {}, [Problem("body", "must be a JSON object")]

    paths: dict[str, str] = mapping.get("fields") or {}
    mapped = bool(mapping)
    if not mapped:
        paths = {name: name for name in EDITABLE}

    problems = []
    if not mapped or mapping.get("strict"):
        read = {path.split(".", 1)[0] for path in paths.values()}
        unknown = [name for name in payload if name not in read]
        expected = ", ".join(sorted(read))
        problems += [
            Problem(name, f"unknown field; the fields read are {expected}")
            for name in unknown
        ]

    values: dict[str, Any] = {}
    for name, path in paths.items():
        raw = _lookup(payload, path)
        if raw is None:
            continue
        value, problem = _value(name, raw)
        if problem:
            problems.append(Problem(path, problem))
        elif value != "":
            values[name] = value

    for name, value in (mapping.get("defaults") or {}).items():
        values.setdefault(name, value)

    for name, table in (mapping.get("values") or {}).items():
        if isinstance(values.get(name), str) and values[name] in table:
            values[name] = table[values[name]]

    return values, problems


def _lookup(payload: Any, path: str) -> Any:
    here = payload
    for step in path.split("."):
        if isinstance(here, dict):
            here = here.get(step)
        elif isinstance(here, list) and step.isdigit() and int(step) < len(here):
            here = here[int(step)]
        else:
            return None

    return here


def _value(name: str, raw: Any) -> tuple[Any, str | None]:
    """Return the value for lead field `name`, or what is wrong with `raw`."""
    if name == "employees":
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            return None, "must be a whole number"
        text = str(raw).strip()
        if not text:
            return "", None
        if not text.isdigit() or len(text) > 9:
            return None, "must be a whole number of 0 or more"
        return int(text), None

    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None, "must be text"

    text = str(raw).strip()
    limit = FIELD_LENGTHS[name]
    if len(text) > limit:
        return None, f"must be at most {limit} characters (it has {len(text)})"

    return text, text_problem(text)


def text_problem(text: str) -> str | None:
    """Return why a database cannot store this text, or None when it can."""
    if "\x00" in text:
        return "must not contain the NUL character"

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it holds a lone surrogate)"

    return None


def _kind(source: str) -> str:
    return "JSON" if source.endswith(".json") else "TOML"
