"""JSON record exports (a `records` list of flat objects), read like a CSV file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from leadrelay.intake.csvfile import CsvSource, Row


class JsonProblem(Exception):
    pass


def sniff(path: Path | str) -> CsvSource:
    raise JsonProblem(f"{path}: JSON exports are not supported yet")


def rows(source: CsvSource) -> Iterator[Row]:
    raise JsonProblem(f"{source.path}: JSON exports are not supported yet")
