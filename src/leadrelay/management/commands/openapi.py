from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadrelay.api.openapi import REGENERATE, schema_text
from leadrelay.management.base import Command as BaseCommand


class Command(BaseCommand):
    help = (
        "Print the REST API's OpenAPI schema, write it to a file, or check that "
        f"a file holds it. The repository keeps it: {REGENERATE}"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="FILE", help="write it to FILE")
        parser.add_argument(
            "--check",
            metavar="FILE",
            help="exit 1 unless FILE holds exactly the schema the code generates",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = schema_text()
        if options["check"]:
            path = Path(options["check"])
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                raise CommandError(
                    f"{path} differs from the API's schema; regenerate it: {REGENERATE}",
                    returncode=1,
                )
            self.stdout.write(f"{path} is up to date")
            return

        if options["output"]:
            path = Path(options["output"])
            path.write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {path}")
            return

        self.stdout.write(text, ending="")
