from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from leadrelay.intake import importer
from leadrelay.management.base import Command as BaseCommand
from leadrelay.management.commands import _importing
from leadrelay.management.commands.pulse import parse_week
from leadrelay.pulse import render
from leadrelay.pulse.compliance import compliance
from leadrelay.pulse.compute import latest_week_with_leads, pulse
from leadrelay.workspace import ensure_database, load_contract_or_default


class _Discard(Exception):
    """Raised to roll the audit's throwaway import back."""


class Command(BaseCommand):
    help = (
        "Audit a CRM export with no setup: import it into a throwaway database and print "
        "the pulse, the contract-compliance report and the data-quality warnings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        _importing.add_arguments(parser)
        parser.add_argument(
            "--contract",
            help="judge the export against this contract (default: the built-in one)",
        )
        parser.add_argument(
            "--week",
            help="an ISO week such as 2018-W10 (default: the last complete week of arrivals in the export)",
        )
        parser.add_argument("--format", choices=render.FORMATS, default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        contract = load_contract_or_default(options.get("contract"))
        chosen = _importing.load_mapping(options)
        ensure_database()
        opts = importer.Options(
            rejects=options["rejects"],
            write_rejects=options["rejects"] is not None,
            date_formats=options["date_formats"],
            commit_batches=False,
            actor="audit",
        )
        report: dict[str, Any] = {}
        try:
            # Everything the audit writes is rolled back: it leaves nothing behind.
            with transaction.atomic():
                summary = _importing.run(options["files"], chosen, contract, opts)
                week = parse_week(options.get("week")) or latest_week_with_leads(
                    contract
                )
                report = {
                    "contract": {
                        "name": contract.name,
                        "version": contract.sha256[:12],
                    },
                    "import": summary.as_dict(),
                    "pulse": pulse(contract, week) if week else None,
                    "compliance": compliance(contract),
                    "warnings": summary.warnings(),
                }
                raise _Discard
        except _Discard:
            pass

        if report["pulse"] is None:
            report["warnings"].append(
                {
                    "code": "no_dates",
                    "message": "no lead has a date, so there is no week to report",
                }
            )
            if options["format"] != "json":
                self.stdout.write(
                    "\n".join(
                        render.compliance_lines(report["compliance"], False)
                        + render.import_lines(report["import"], False)
                        + render.warning_lines(report["warnings"], False)
                    )
                )
                return
        self.stdout.write(render.audit_text(report, options["format"]), ending="")
