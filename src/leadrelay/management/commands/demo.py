from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser

from leadrelay import env
from leadrelay.management.base import Command as BaseCommand
from leadrelay.sample import write_olist_like

OLIST = "olist_marketing_funnel"
OLIST_FILES = (
    "olist_marketing_qualified_leads_dataset.csv",
    "olist_closed_deals_dataset.csv",
)


def shared_data_folders() -> list[Path]:
    """Where the public data sets may be: beside the current folder or the checkout."""
    named = env.text("LEADRELAY_SHARED_DATA")
    if named:
        return [Path(named)]

    checkout = Path(__file__).resolve().parents[4]
    return [Path.cwd().parent / "shared" / "data", checkout.parent / "shared" / "data"]


class Command(BaseCommand):
    help = (
        "Audit the public Olist marketing-funnel export (or, where it is absent, a "
        "realistic sample made on the spot) and print the pulse and compliance report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week", help="an ISO week (default: the last complete week of the data)"
        )
        parser.add_argument(
            "--format", choices=("text", "markdown", "json"), default="text"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for folder in shared_data_folders():
            files = [folder / OLIST / name for name in OLIST_FILES]
            if all(f.is_file() for f in files):
                self.stderr.write(f"auditing the Olist export in {folder / OLIST}")
                self._audit(files, options)
                return

        with tempfile.TemporaryDirectory(prefix="leadrelay-sample-") as tmp:
            self.stderr.write(
                "the public Olist export was not found beside this checkout; "
                "auditing a generated sample of the same shape instead"
            )
            self._audit(list(write_olist_like(Path(tmp))), options)

    def _audit(self, files: list[Path], options: dict[str, Any]) -> None:
        extra = ["--week", options["week"]] if options.get("week") else []
        call_command(
            "audit",
            *[str(f) for f in files],
            "--preset",
            "olist",
            "--format",
            options["format"],
            *extra,
            stdout=self.stdout,
            stderr=self.stderr,
        )
