from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from leadrelay.intake import importer
from leadrelay.management.base import Command as BaseCommand
from leadrelay.management.commands import _importing
from leadrelay.models import ImportRun
from leadrelay.pulse import render
from leadrelay.workspace import ensure_database, load_contract


class Command(BaseCommand):
    help = "Load a CRM export into the workspace. Importing the same file again changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        _importing.add_arguments(parser)
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        contract = load_contract()
        chosen = _importing.load_mapping(options)
        ensure_database()
        db = Path(str(settings.DATABASES["default"]["NAME"]))
        opts = importer.Options(
            rejects=options["rejects"],
            date_formats=options["date_formats"],
            protected=[settings.CONTRACT_PATH, db, Path(f"{db}-wal")],
        )
        summary = _importing.run(options["files"], chosen, contract, opts)
        ImportRun.objects.create(
            preset=chosen.name, files=summary.files, summary=summary.as_dict()
        )

        if options["format"] == "json":
            report = {"import": summary.as_dict(), "warnings": summary.warnings()}
            self.stdout.write(render.as_json(report), ending="")
            return

        lines = render.import_lines(summary.as_dict(), markdown=False)
        lines += render.warning_lines(summary.warnings(), markdown=False)
        self.stdout.write("\n".join(lines))
