"""Mappings from a CRM export's columns and values to the contract's fields.

A mapping is data: a TOML file. The bundled presets live in `presets/`; a
user's own file is passed with `--mapping`. One mapping describes one or more
files of an export: the first is the primary file (one row per lead), the
others are joined to it on a key column.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from leadrelay.contract.model import Contract

#: Fields a mapping can fill, with whether each holds a date.
TEXT_FIELDS = (
    "external_id",
    "email",
    "phone",
    "name",
    "first_name",
    "last_name",
    "company",
    "source",
    "campaign",
    "industry",
    "company_size",
    "employees",
    "location",
    "intent",
    "owner",
    "next_action",
    "next_action_owner",
    "stage",
    "outcome",
    "loss_reason",
    "loss_note",
    "amount",
)
DATE_FIELDS = (
    "created_at",
    "first_outreach_at",
    "next_action_due",
    "closed_at",
    "won_at",
    "lost_at",
)
FIELDS = TEXT_FIELDS + DATE_FIELDS

#: Fields whose values are translated through `[values.FIELD]`.
MAPPED_VALUES = ("stage", "outcome", "loss_reason", "source")

#: What `[values.outcome]` may map a value to: a closing outcome, which then
#: overrides the stage, or "open", which leaves the stage column to decide.
OUTCOME_VALUES = ("won", "lost", "open")


class MappingError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}:\n{lines}")


@dataclass(frozen=True)
class FileMap:
    """How to read one file of an export."""

    role: str
    detect: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]
    entered: dict[str, tuple[str, ...]]
    key: tuple[str, ...] = ()
    matches: tuple[str, ...] = ()
    stage: str = ""
    optional: bool = False
    keep: tuple[str, ...] = ()

    def recognises(self, header: tuple[str, ...]) -> bool:
        present = {h.casefold() for h in header}
        return all(column.casefold() in present for column in self.detect)


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    files: tuple[FileMap, ...]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    source_path: str = ""

    @property
    def primary(self) -> FileMap:
        return self.files[0]

    def translate(self, name: str, raw: str) -> str | None:
        """Return the contract value for an export value, or None if it maps to nothing.

        A field without a `[values.NAME]` table passes values through unchanged.
        """
        table = self.values.get(name)
        if table is None:
            return raw

        return table.get(raw.strip().casefold())

    def records_contact_times(self) -> bool:
        return any("first_outreach_at" in f.fields for f in self.files)


def pick_column(candidates: tuple[str, ...], header: tuple[str, ...]) -> str | None:
    """Return the header's spelling of the first candidate it has, ignoring case."""
    by_fold = {h.casefold(): h for h in header}
    for candidate in candidates:
        found = by_fold.get(candidate.casefold())
        if found is not None:
            return found

    return None


def preset_names() -> list[str]:
    folder = resources.files("leadrelay.intake").joinpath("presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> Mapping:
    if name not in preset_names():
        known = ", ".join(preset_names())
        raise MappingError(
            f"--preset {name}",
            [f"no preset of that name; presets: {known}; or pass --mapping FILE"],
        )

    text = (
        resources.files("leadrelay.intake").joinpath(f"presets/{name}.toml").read_text()
    )
    return parse(text, f"preset {name}")


def load_file(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(
            str(path), [f"cannot read the mapping file ({exc.strerror})"]
        ) from None

    return parse(text, str(path))


def parse(text: str, source: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(source, [f"not valid TOML: {exc}"]) from None

    problems: list[str] = []
    _unknown(data, "", ("name", "description", "files", "values"), problems)
    files_data = data.get("files")
    if not isinstance(files_data, list) or not files_data:
        problems.append("files: list the export's files as [[files]] tables")
        files_data = []

    files = tuple(
        _file_map(item, f"files[{i}]", i, problems) for i, item in enumerate(files_data)
    )

    values: dict[str, dict[str, str]] = {}
    raw_values = data.get("values", {})
    if not isinstance(raw_values, dict):
        problems.append("values: must be a table of [values.FIELD] tables")
        raw_values = {}
    for name, table in raw_values.items():
        if name not in MAPPED_VALUES:
            problems.append(
                f'values.{name}: unknown field "{name}"; values can be mapped for: '
                + ", ".join(MAPPED_VALUES)
            )
            continue
        if not isinstance(table, dict) or not all(
            isinstance(v, str) for v in table.values()
        ):
            problems.append(
                f'values.{name}: must map export values to strings, as "Closed Won" = "won"'
            )
            continue
        values[name] = {str(k).strip().casefold(): v for k, v in table.items()}

    if problems:
        raise MappingError(source, problems)

    return Mapping(
        name=str(data.get("name", source)),
        description=str(data.get("description", "")),
        files=files,
        values=values,
        source_path=source,
    )


def check_against(mapping: Mapping, contract: Contract) -> None:
    """Refuse a mapping whose values name stages or reasons the contract lacks."""
    problems = []
    stages = {s.key for s in contract.stages}
    for raw, key in mapping.values.get("stage", {}).items():
        if key not in stages:
            problems.append(
                f'values.stage."{raw}": "{key}" is not a stage of the contract; '
                f"stages: {', '.join(sorted(stages))}"
            )
    for raw, value in mapping.values.get("outcome", {}).items():
        if value not in OUTCOME_VALUES:
            problems.append(
                f'values.outcome."{raw}": "{value}" is not one of '
                + ", ".join(OUTCOME_VALUES)
            )
    for file_map in mapping.files:
        if file_map.stage and file_map.stage not in stages:
            problems.append(
                f'files ({file_map.role}).stage: "{file_map.stage}" is not a stage'
            )
        for key in file_map.entered:
            if key not in stages:
                problems.append(
                    f"files ({file_map.role}).entered.{key}: not a stage of the contract"
                )
    reasons = set(contract.loss_reason_keys())
    for raw, key in mapping.values.get("loss_reason", {}).items():
        if key not in reasons:
            problems.append(
                f'values.loss_reason."{raw}": "{key}" is not a loss reason of the contract; '
                f"reasons: {', '.join(sorted(reasons))}"
            )

    if problems:
        problems.append(
            "edit the mapping, or the contract, so that both name the same keys"
        )
        raise MappingError(mapping.source_path, problems)


def _unknown(
    table: dict[str, Any], path: str, known: tuple[str, ...], problems: list[str]
) -> None:
    for key in table:
        if key not in known:
            where = f"{path}.{key}" if path else key
            problems.append(
                f'{where}: unknown key "{key}"; known keys: {", ".join(known)}'
            )


def _columns(value: Any, path: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)

    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)

    problems.append(f"{path}: must be a column name or a list of column names")
    return ()


def _file_map(item: Any, path: str, index: int, problems: list[str]) -> FileMap:
    if not isinstance(item, dict):
        problems.append(f"{path}: must be a table")
        return FileMap(role="?", detect=(), fields={}, entered={})

    known = (
        "role",
        "detect",
        "key",
        "matches",
        "fields",
        "entered",
        "stage",
        "optional",
        "keep",
    )
    _unknown(item, path, known, problems)
    detect = (
        _columns(item.get("detect", []), f"{path}.detect", problems)
        if item.get("detect")
        else ()
    )
    fields: dict[str, tuple[str, ...]] = {}
    raw_fields = item.get("fields", {})
    if not isinstance(raw_fields, dict):
        problems.append(f"{path}.fields: must be a table of field = column")
        raw_fields = {}
    for name, columns in raw_fields.items():
        if name not in FIELDS:
            problems.append(
                f'{path}.fields.{name}: unknown field "{name}"; known fields: {", ".join(FIELDS)}'
            )
            continue
        fields[name] = _columns(columns, f"{path}.fields.{name}", problems)

    entered = {
        str(stage): _columns(columns, f"{path}.entered.{stage}", problems)
        for stage, columns in (item.get("entered") or {}).items()
    }
    key = _columns(item["key"], f"{path}.key", problems) if "key" in item else ()
    matches = (
        _columns(item["matches"], f"{path}.matches", problems)
        if "matches" in item
        else ()
    )
    if index > 0 and (not key or not matches):
        problems.append(
            f"{path}: a joined file needs key (its column) and matches (the primary file's column)"
        )

    return FileMap(
        role=str(item.get("role", f"file {index + 1}")),
        detect=detect,
        fields=fields,
        entered=entered,
        key=key,
        matches=matches,
        stage=str(item.get("stage", "")),
        optional=bool(item.get("optional", index > 0)),
        keep=_columns(item["keep"], f"{path}.keep", problems) if "keep" in item else (),
    )
