"""Run the audit and the importer on an export the way the tests need them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

from leadrelay.contract import default_text, parse
from leadrelay.intake import importer
from leadrelay.intake.mapping import load_preset
from leadrelay.models import Lead

CONTRACT = parse(default_text())


def audit(*files: Path, preset: str) -> dict[str, Any]:
    """Return the audit's JSON report on `files` read with `preset`."""
    out = io.StringIO()
    call_command(
        "audit",
        *(str(f) for f in files),
        "--preset",
        preset,
        "--format",
        "json",
        stdout=out,
    )
    return json.loads(out.getvalue())


def warning(report: dict[str, Any], code: str) -> dict[str, Any]:
    """Return the report's one warning with `code`; fail if there is none."""
    found = [w for w in report["warnings"] if w["code"] == code]
    assert len(found) == 1, f"expected one {code} warning in {report['warnings']}"
    return found[0]


def codes(report: dict[str, Any]) -> set[str]:
    return {w["code"] for w in report["warnings"]}


def imported(*files: Path, preset: str) -> dict[str, Lead]:
    """Import `files` into the test database; return the leads by id or email."""
    importer.run(
        list(files),
        load_preset(preset),
        CONTRACT,
        importer.Options(write_rejects=False),
    )
    return {lead.external_id or lead.email: lead for lead in Lead.objects.all()}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
