"""Import a CRM export: stream its files, map each row to a lead, write in batches.

Rows that cannot be used go to a rejects file with their row number and the
reason; values that map to nothing are counted by value; everything else is
committed batch by batch, so a bad row never costs the good ones.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from leadrelay.contract.model import Contract
from leadrelay.intake import csvfile, dates, jsonfile
from leadrelay.intake.mapping import (
    DATE_FIELDS,
    FileMap,
    Mapping,
    check_against,
    pick_column,
)
from leadrelay.workflow import bulk
from leadrelay.workflow.history import LeadRecord


class ImportFailed(Exception):
    """An export that cannot be imported at all; the message says where and what to do."""


@dataclass
class Options:
    rejects: Path | None = None
    # False: write no rejects file (the audit keeps them in memory instead).
    write_rejects: bool = True
    # --date-format values: "day-first" for undecided columns, or
    # "COLUMN=FORMAT" for one column.
    date_formats: list[str] = field(default_factory=list)
    batch_size: int = 5000
    # False inside the audit, whose whole run is one transaction rolled back.
    commit_batches: bool = True
    actor: str = "import"
    progress: Callable[[int], None] | None = None
    # Files a rejects path must never write over (the contract, the database).
    protected: list[Path] = field(default_factory=list)


@dataclass
class Summary:
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    footer_rows: int = 0
    seconds: float = 0.0
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects_path: str | None = None
    reject_examples: list[dict[str, Any]] = field(default_factory=list)
    contradictions: int = 0
    contradiction_examples: list[str] = field(default_factory=list)
    undated: int = 0
    unjoined: dict[str, int] = field(default_factory=dict)
    # Rows of the primary file whose id (or email) an earlier row had.
    repeated: int = 0
    repeated_examples: list[str] = field(default_factory=list)
    # Joined-file rows whose key an earlier row of that file had, by file.
    repeated_keys: dict[str, int] = field(default_factory=dict)
    joined_problems: list[str] = field(default_factory=list)
    # Files given that are no part of the mapping, with why.
    left_out: list[str] = field(default_factory=list)
    contact_times: bool = False
    date_formats: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "read": self.rows_read,
            "repeated": self.repeated,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "footer_rows": self.footer_rows,
            "seconds": round(self.seconds, 3),
            "unmapped": self.unmapped,
            "rejects_file": self.rejects_path,
            "reject_examples": self.reject_examples,
            "date_formats": self.date_formats,
            "contact_times_in_export": self.contact_times,
        }

    def warnings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.contradictions:
            out.append(
                {
                    "code": "event_before_created",
                    "count": self.contradictions,
                    "examples": self.contradiction_examples,
                    "message": (
                        f"{_leads(self.contradictions)} an event dated before the lead "
                        "came in; kept as recorded"
                    ),
                }
            )
        if self.undated:
            out.append(
                {
                    "code": "no_created_date",
                    "count": self.undated,
                    "message": (
                        f"{_leads(self.undated)} no date for when they came in; they "
                        "count in the compliance report but in no week"
                    ),
                }
            )
        for field_name, values in self.unmapped.items():
            total = sum(values.values())
            out.append(
                {
                    "code": "unmapped_values",
                    "field": field_name,
                    "count": total,
                    "values": values,
                    "message": (
                        f"{total} rows have a {field_name} value that maps to nothing in the "
                        f"contract: "
                        + ", ".join(f'"{v}" ({n})' for v, n in values.items())
                    ),
                }
            )
        for line in self.left_out:
            out.append({"code": "file_left_out", "count": 1, "message": line})
        if self.repeated:
            out.append(
                {
                    "code": "repeated_rows",
                    "count": self.repeated,
                    "examples": self.repeated_examples,
                    "message": (
                        f"{self.repeated} rows repeat the record id (or email) of an "
                        "earlier row; the later row's values were kept"
                    ),
                }
            )
        for name, count in self.repeated_keys.items():
            out.append(
                {
                    "code": "repeated_join_keys",
                    "file": name,
                    "count": count,
                    "message": (
                        f"{count} rows of {name} repeat the key of an earlier row; "
                        "the later row was used"
                    ),
                }
            )
        if self.joined_problems:
            out.append(
                {
                    "code": "joined_rows_refused",
                    "count": len(self.joined_problems),
                    "examples": self.joined_problems[:5],
                    "message": (
                        f"{len(self.joined_problems)} rows of a joined file could not "
                        f"be used, the first: {self.joined_problems[0]}"
                    ),
                }
            )
        for role, count in self.unjoined.items():
            out.append(
                {
                    "code": "unjoined_rows",
                    "file": role,
                    "count": count,
                    "message": f"{count} rows of the {role} file match no lead in the primary file",
                }
            )
        return out


def _leads(count: int) -> str:
    return "1 lead has" if count == 1 else f"{count} leads have"


@dataclass
class _Resolved:
    """One input file matched to its part of the mapping, with concrete columns."""

    source: csvfile.CsvSource
    part: FileMap
    columns: dict[str, str]
    entered: dict[str, str]
    keep: list[str]
    formats: dict[str, dates.DateFormat] = field(default_factory=dict)


def run(
    paths: list[Path], mapping: Mapping, contract: Contract, options: Options
) -> Summary:
    started = time.perf_counter()
    check_against(mapping, contract)
    summary = Summary(
        files=[str(p) for p in paths], contact_times=mapping.records_contact_times()
    )
    if options.rejects is not None:
        _check_rejects_path(options.rejects, [*paths, *options.protected])
    resolved, summary.left_out = _match_files(paths, mapping)
    tz = contract.tz
    for item in resolved:
        _infer_dates(item, options.date_formats)
        for column, fmt in item.formats.items():
            summary.date_formats[f"{item.source.path.name}:{column}"] = fmt.name

    primary = resolved[0]
    joined = [(item, _load_joined(item, tz, summary)) for item in resolved[1:]]
    version = bulk.contract_version(contract)
    origin = f"import:{mapping.name}"

    rejects = _Rejects(primary, options, summary)
    batch: list[LeadRecord] = []
    unmapped: dict[str, Counter[str]] = defaultdict(Counter)
    used_keys: list[set[str]] = [set() for _ in joined]
    # Hashes, not the ids themselves, so that a million rows stay small.
    seen: set[int] = set()

    def flush() -> None:
        if not batch:
            return
        if options.commit_batches:
            with transaction.atomic():
                outcome = _write(batch)
        else:
            outcome = _write(batch)
        summary.created += outcome.created
        summary.updated += outcome.updated
        summary.unchanged += outcome.unchanged
        summary.contradictions += outcome.contradictions
        room = 5 - len(summary.contradiction_examples)
        summary.contradiction_examples += outcome.contradiction_examples[:room]
        batch.clear()
        if options.progress:
            options.progress(summary.rows_read)

    def _write(records: list[LeadRecord]) -> bulk.BatchOutcome:
        return bulk.write_batch(
            records,
            contract,
            version,
            options.actor,
            origin,
            contact_time_known=summary.contact_times,
        )

    with bulk.import_lock():
        try:
            for row in _rows(primary.source):
                summary.rows_read += 1
                if _is_footer(primary.source, row):
                    summary.footer_rows += 1
                    continue

                if row.extra:
                    rejects.add(
                        row, f"the row has {len(row.extra)} more cells than the header"
                    )
                    continue

                try:
                    record = _record(
                        row, primary, joined, used_keys, mapping, contract, unmapped
                    )
                except _RowProblem as exc:
                    rejects.add(row, str(exc))
                    continue

                identity = hash(record.external_id or f"email:{record.email}")
                if identity in seen:
                    summary.repeated += 1
                    if len(summary.repeated_examples) < 5:
                        summary.repeated_examples.append(
                            record.external_id or record.email
                        )
                seen.add(identity)
                if record.created_at is None:
                    summary.undated += 1
                batch.append(record)
                if len(batch) >= options.batch_size:
                    flush()

            flush()
        except csvfile.CsvProblem as exc:
            if not options.commit_batches:
                raise ImportFailed(f"{exc}. Fix the file and run this again.") from None
            flush()
            kept = summary.created + summary.updated + summary.unchanged
            raise ImportFailed(
                f"{exc}. The {kept} rows before it are in the workspace; fix the file "
                "and import it again to add the rest (rows already there stay as they are)."
            ) from None
        finally:
            rejects.close()

    for (item, table), keys in zip(joined, used_keys, strict=True):
        missing = len(set(table) - keys)
        if missing:
            summary.unjoined[item.part.role] = missing
    summary.unmapped = {k: dict(v.most_common()) for k, v in unmapped.items()}
    summary.seconds = time.perf_counter() - started
    return summary


#: How a rejects file starts; only such a file may be written over.
REJECTS_HEADER = ("row", "line", "reason")


def _check_rejects_path(path: Path, protected: list[Path]) -> None:
    """Refuse a rejects path that would overwrite an input, the workspace or a folder."""
    where = f"--rejects {path}"
    if path.is_dir():
        raise ImportFailed(f"{where}: that is a folder; name a file in it")

    if not path.parent.is_dir():
        raise ImportFailed(
            f"{where}: the folder {path.parent} does not exist; create it or name "
            "another file"
        )

    target = path.resolve()
    for other in protected:
        if other.exists() and other.resolve() == target:
            raise ImportFailed(
                f"{where}: that would write over {other}; name a new file"
            )

    if path.exists():
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = next(csv.reader(handle), [])
        if tuple(first[:3]) != REJECTS_HEADER:
            raise ImportFailed(
                f"{where}: the file exists and is not a rejects file; name a new "
                "file or remove that one"
            )

    if not os.access(path.parent, os.W_OK):
        raise ImportFailed(f"{where}: cannot write in {path.parent}")


class _RowProblem(Exception):
    pass


#: The encoding name `jsonfile.sniff` gives a JSON export, which has no footers.
JSON = "json"


def _sniff(path: Path) -> csvfile.CsvSource:
    if path.suffix.lower() == ".json":
        return jsonfile.sniff(path)

    return csvfile.sniff(path)


def _rows(source: csvfile.CsvSource) -> Iterator[csvfile.Row]:
    if source.encoding == JSON:
        return jsonfile.rows(source)

    return csvfile.rows(source)


def _is_footer(source: csvfile.CsvSource, row: csvfile.Row) -> bool:
    return source.encoding != JSON and csvfile.looks_like_footer(source, row)


def _match_files(
    paths: list[Path], mapping: Mapping
) -> tuple[list[_Resolved], list[str]]:
    """Match each file to its part of the mapping; return them and the files left out.

    A file that is no part of the mapping (a data dictionary beside an
    export, say) is left out and named; two files for one part are refused.
    """
    by_part: dict[int, _Resolved] = {}
    left_out: list[str] = []
    for path in paths:
        try:
            source = _sniff(path)
        except (csvfile.CsvProblem, jsonfile.JsonProblem) as exc:
            raise ImportFailed(str(exc)) from None

        fits = [
            i for i, part in enumerate(mapping.files) if part.recognises(source.header)
        ]
        free = [i for i in fits if i not in by_part]
        if free:
            by_part[free[0]] = _resolve(source, mapping.files[free[0]])
            continue

        if fits:
            taken = by_part[fits[0]]
            raise ImportFailed(
                f"{path} and {taken.source.path} are both the "
                f"{mapping.files[fits[0]].role} file of the {mapping.name} mapping; "
                "import them one at a time"
            )

        left_out.append(
            f"{path}: its columns match no file of the {mapping.name} mapping "
            f"(header: {', '.join(source.header[:6])}"
            f"{'…' if len(source.header) > 6 else ''}); left out"
        )

    if 0 not in by_part:
        primary = mapping.primary
        expected = "; ".join(
            f"{part.role}: {', '.join(part.detect)}" for part in mapping.files
        )
        unmatched = "".join(f"\n  {line}" for line in left_out)
        raise ImportFailed(
            f"none of the files is the {primary.role} file of the {mapping.name} "
            f"mapping, which has the columns {', '.join(primary.detect)}. Expected "
            f"columns: {expected}. Add that file, or pick another --preset or a "
            f"--mapping file.{unmatched}"
        )

    return [by_part[i] for i in sorted(by_part)], left_out


def _resolve(source: csvfile.CsvSource, part: FileMap) -> _Resolved:
    columns = {}
    for name, candidates in part.fields.items():
        found = pick_column(candidates, source.header)
        if found is not None:
            columns[name] = found
    entered = {}
    for stage, candidates in part.entered.items():
        found = pick_column(candidates, source.header)
        if found is not None:
            entered[stage] = found
    keep = [c for c in (pick_column((k,), source.header) for k in part.keep) if c]
    return _Resolved(source, part, columns, entered, keep)


def _date_columns(item: _Resolved) -> list[str]:
    names = [item.columns[f] for f in DATE_FIELDS if f in item.columns]
    names += list(item.entered.values())
    return list(dict.fromkeys(names))


def _date_overrides(specs: list[str]) -> tuple[str | None, dict[str, str]]:
    """Split `--date-format` values into one for any undecided column and per-column ones.

    `day-first` applies to every column whose values cannot decide;
    `Created Time=day-first` (or `=%d.%m.%Y`) to that column whatever its values.
    """
    general: str | None = None
    by_column: dict[str, str] = {}
    for spec in specs:
        column, sep, pattern = spec.partition("=")
        if sep and "%" not in column:
            by_column[column.strip().casefold()] = pattern.strip()
        else:
            general = spec.strip()
    return general, by_column


def _infer_dates(item: _Resolved, specs: list[str]) -> None:
    """Decide each date column's format from its values, reading only as far as needed."""
    columns = _date_columns(item)
    if not columns:
        return

    general, by_column = _date_overrides(specs)
    inference = {
        c: dates.DateInference(c, by_column.get(c.casefold())) for c in columns
    }
    pending = {c for c in columns if not inference[c].decided}
    if pending:
        for row in _rows(item.source):
            for column in list(pending):
                value = row.values.get(column, "").strip()
                if value:
                    inference[column].feed(value)
                    if inference[column].decided:
                        pending.discard(column)
            if not pending:
                break

    for column in columns:
        try:
            item.formats[column] = inference[column].result()
        except dates.DateProblem as exc:
            if general is None:
                raise ImportFailed(f"{item.source.path}: {exc}") from None
            item.formats[column] = dates.override_format(general)


def _load_joined(item: _Resolved, tz: Any, summary: Summary) -> dict[str, csvfile.Row]:
    """Read a joined file into memory, keyed on its join column.

    Joined files (deals, accounts) are far smaller than the primary file.
    """
    key_column = pick_column(item.part.key, item.source.header)
    if key_column is None:
        raise ImportFailed(
            f"{item.source.path}: the join column {' or '.join(item.part.key)} is missing"
        )

    # A million-row export can join a hundred thousand rows: each keeps only
    # the cells the mapping reads, and a value many rows share (a sales rep,
    # a segment) is held once.
    read = [*item.columns.values(), *item.entered.values(), *item.keep]
    shared: dict[str, str] = {}
    table: dict[str, csvfile.Row] = {}
    for row in _rows(item.source):
        if _is_footer(item.source, row):
            continue
        if row.extra:
            summary.joined_problems.append(
                f"{item.source.path.name}, line {row.line}: {len(row.extra)} more "
                "cells than the header; the row was not used"
            )
            continue
        key = row.values.get(key_column, "").strip()
        if not key:
            continue
        if key in table:
            name = item.source.path.name
            summary.repeated_keys[name] = summary.repeated_keys.get(name, 0) + 1
        cells = {c: row.values.get(c, "") for c in read}
        kept = {c: shared.setdefault(v, v) for c, v in cells.items() if v}
        table[key] = csvfile.Row(row.number, row.line, kept)
    return table


def _record(
    row: csvfile.Row,
    primary: _Resolved,
    joined: list[tuple[_Resolved, dict[str, csvfile.Row]]],
    used_keys: list[set[str]],
    mapping: Mapping,
    contract: Contract,
    unmapped: dict[str, Counter[str]],
) -> LeadRecord:
    tz = contract.tz
    raw: dict[str, str] = {}
    when: dict[str, datetime | None] = {}
    entered: dict[str, datetime | None] = {}
    extra: dict[str, str] = {}
    stage_default = primary.part.stage

    parts: list[tuple[_Resolved, csvfile.Row]] = [(primary, row)]
    for index, (item, table) in enumerate(joined):
        match_column = pick_column(item.part.matches, primary.source.header)
        key = row.values.get(match_column, "").strip() if match_column else ""
        hit = table.get(key) if key else None
        if hit is not None:
            used_keys[index].add(key)
            parts.append((item, hit))

    for item, part_row in parts:
        if item is not primary and item.part.stage:
            stage_default = item.part.stage
        for name, column in item.columns.items():
            value = part_row.values.get(column, "").strip()
            if not value:
                continue
            if name in DATE_FIELDS:
                when[name] = _date(item, column, value, tz, part_row)
            else:
                raw[name] = value
        for stage, column in item.entered.items():
            value = part_row.values.get(column, "").strip()
            if value:
                entered[stage] = _date(item, column, value, tz, part_row)
        for column in item.keep:
            value = part_row.values.get(column, "").strip()
            if value:
                extra[column] = value

    # Empty when the export says nothing of the stage: a new lead then starts
    # at the first stage and a known one keeps the stage it has.
    stage = stage_default
    if "stage" in raw:
        mapped = mapping.translate("stage", raw["stage"])
        if mapped is None:
            unmapped["stage"][raw["stage"]] += 1
            extra["unmapped stage"] = raw["stage"]
        else:
            stage = mapped
    if "outcome" in raw:
        stage = _outcome_stage(mapping, contract, raw["outcome"], stage, unmapped)
    outcome = contract.stage(stage).outcome if stage else None

    source: str | None = raw.get("source")
    if source is not None:
        translated = mapping.translate("source", source)
        if translated is None:
            unmapped["source"][source] += 1
        else:
            source = translated

    loss_reason = ""
    if "loss_reason" in raw and outcome == "lost":
        mapped_reason = mapping.translate("loss_reason", raw["loss_reason"])
        if mapped_reason is None or mapped_reason not in contract.loss_reason_keys():
            unmapped["loss_reason"][raw["loss_reason"]] += 1
            extra["unmapped loss reason"] = raw["loss_reason"]
        else:
            loss_reason = mapped_reason

    closed_at = None
    if outcome is not None:
        closed_at = when.get(f"{outcome}_at") or when.get("closed_at")

    employees, company_size = _size(
        raw.get("employees", ""), raw.get("company_size", "")
    )
    if "amount" in raw:
        extra["amount"] = raw["amount"]
    name = raw.get("name") or " ".join(
        p for p in (raw.get("first_name", ""), raw.get("last_name", "")) if p
    )
    record = LeadRecord(
        external_id=raw.get("external_id", ""),
        email=raw.get("email", "").strip().lower(),
        phone=raw.get("phone", ""),
        name=name,
        company=raw.get("company", ""),
        source=source,
        campaign=raw.get("campaign", ""),
        industry=raw.get("industry", ""),
        company_size=company_size,
        employees=employees,
        location=raw.get("location", ""),
        intent=raw.get("intent", ""),
        owner=raw.get("owner", ""),
        next_action=raw.get("next_action", ""),
        next_action_owner=raw.get("next_action_owner", ""),
        next_action_due=when.get("next_action_due"),
        stage=stage,
        created_at=when.get("created_at"),
        first_outreach_at=when.get("first_outreach_at"),
        entered=entered,
        closed_at=closed_at,
        loss_reason=loss_reason,
        loss_note=raw.get("loss_note", "") if outcome == "lost" else "",
        extra=extra,
    )
    if not (record.external_id or record.email or record.phone):
        raise _RowProblem("no record id, email or phone: nothing identifies the lead")

    return record


def _outcome_stage(
    mapping: Mapping,
    contract: Contract,
    raw: str,
    stage: str,
    unmapped: dict[str, Counter[str]],
) -> str:
    """Return the stage an outcome column implies: won or lost wins over the stage.

    Some CRMs keep a deal's status (open, won, lost) apart from its pipeline
    stage, which then says only how far an open deal has come.
    """
    mapped = mapping.translate("outcome", raw)
    if mapped is None:
        unmapped["outcome"][raw] += 1
        return stage

    closing = {"won": contract.won_stage, "lost": contract.lost_stage}.get(mapped)
    return closing.key if closing is not None else stage


def _date(
    item: _Resolved, column: str, value: str, tz: Any, row: csvfile.Row
) -> datetime | None:
    try:
        return item.formats[column].parse(value, tz)
    except ValueError as exc:
        raise _RowProblem(
            f"{item.source.path.name}, row {row.number}, column {column}: {exc}"
        ) from None


#: The largest employee count taken as a number; the store's column is 32-bit.
MAX_EMPLOYEES = 1_000_000_000


def _size(employees: str, company_size: str) -> tuple[int | None, str]:
    text = employees.replace(",", "").strip()
    if not text:
        return None, company_size

    try:
        count = float(text)
    except ValueError:
        # A band such as "51-200" is a size, not a count.
        return None, company_size or employees

    if not 0 <= count <= MAX_EMPLOYEES:
        raise _RowProblem(
            f'the employee count "{employees}" is not a number from 0 to '
            f"{MAX_EMPLOYEES:,}"
        )

    return int(count), company_size or text


class _Rejects:
    """The rejects file: each unusable row with its number and the reason."""

    def __init__(self, primary: _Resolved, options: Options, summary: Summary) -> None:
        self.primary = primary
        self.options = options
        self.summary = summary
        self.handle: IO[str] | None = None
        self.writer: Any = None

    def path(self) -> Path:
        if self.options.rejects is not None:
            return self.options.rejects

        source = self.primary.source.path
        return source.with_name(source.stem + ".rejects.csv")

    def add(self, row: csvfile.Row, reason: str) -> None:
        self.summary.rejected += 1
        if len(self.summary.reject_examples) < 20:
            self.summary.reject_examples.append(
                {"row": row.number, "line": row.line, "reason": reason}
            )
        if not self.options.write_rejects:
            return

        if self.writer is None:
            path = self.path()
            self.handle = path.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.handle)
            self.writer.writerow([*REJECTS_HEADER, *self.primary.source.header])
            self.summary.rejects_path = str(path)
        self.writer.writerow(
            [
                row.number,
                row.line,
                reason,
                *(row.values.get(h, "") for h in self.primary.source.header),
                *row.extra,
            ]
        )

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
