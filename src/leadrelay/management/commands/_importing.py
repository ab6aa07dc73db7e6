"""What `import` and `audit` share: their arguments and the run itself."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import CommandError, CommandParser

from leadrelay.contract.model import Contract
from leadrelay.intake import importer, mapping
from leadrelay.intake.dates import DateProblem
from leadrelay.workspace import BAD_INPUT


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="the export's CSV files")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--preset", help="a bundled mapping: " + ", ".join(mapping.preset_names())
    )
    how.add_argument(
        "--mapping", type=Path, help="a mapping TOML file for other exports"
    )
    parser.add_argument(
        "--date-format",
        dest="date_formats",
        action="append",
        default=[],
        help=(
            "how to read a date column its values cannot decide: day-first, "
            "month-first, iso or a strptime pattern; COLUMN=FORMAT for one column "
            "(may be given more than once)"
        ),
    )
    parser.add_argument(
        "--rejects",
        type=Path,
        help="where to write rejected rows (default: beside the input)",
    )


def load_mapping(options: dict[str, Any]) -> mapping.Mapping:
    try:
        if options.get("mapping"):
            return mapping.load_file(options["mapping"])
        return mapping.load_preset(options["preset"])
    except mapping.MappingError as exc:
        raise CommandError(str(exc), returncode=BAD_INPUT) from None


class Progress:
    """A one-line progress report on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.active = stream.isatty()

    def __call__(self, rows: int) -> None:
        if not self.active:
            return
        seconds = max(time.perf_counter() - self.started, 1e-6)
        self.stream.write(f"\r  {rows:,} rows · {rows / seconds:,.0f} rows/s")
        self.stream.flush()

    def done(self) -> None:
        if self.active:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def run(
    files: list[Path],
    chosen: mapping.Mapping,
    contract: Contract,
    opts: importer.Options,
) -> importer.Summary:
    for path in files:
        if not path.is_file():
            raise CommandError(f"{path}: {_not_a_file(path)}", returncode=BAD_INPUT)

    progress = Progress()
    opts.progress = progress
    try:
        return importer.run(files, chosen, contract, opts)
    except (importer.ImportFailed, mapping.MappingError, DateProblem) as exc:
        raise CommandError(str(exc), returncode=BAD_INPUT) from None
    finally:
        progress.done()


def _not_a_file(path: Path) -> str:
    """Say why `path`, which is not a regular file, cannot be imported."""
    if path.is_dir():
        return "is a folder; give the path of an export file"

    if path.exists():
        return "is not a regular file; give the path of an export file"

    return "no such file"
