from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadrelay.management.base import Command as BaseCommand
from leadrelay.pulse import leaks
from leadrelay.workspace import BAD_INPUT, ensure_database, load_contract


class Command(BaseCommand):
    help = (
        "Show where leads leak: conversion between stages, time in stage and idle "
        "open leads, with sample sizes and 95% intervals, optionally by source, "
        "segment or owner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", help="only leads that came in on or after this day (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--until",
            help="only leads that came in on or before this day (YYYY-MM-DD); "
            "idle leads are judged as of its end",
        )
        parser.add_argument(
            "--by", choices=tuple(leaks.BREAKDOWNS), help="break every figure down"
        )
        parser.add_argument("--format", choices=leaks.FORMATS, default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        contract = load_contract()
        since = parse_day("--since", options.get("since"))
        until = parse_day("--until", options.get("until"))
        if since is not None and until is not None and since > until:
            raise CommandError(
                f"--since {since} is after --until {until}; swap them",
                returncode=BAD_INPUT,
            )

        ensure_database()
        result = leaks.report(contract, since=since, until=until, by=options.get("by"))
        self.stdout.write(leaks.render(result, options["format"]), ending="")


def parse_day(option: str, text: str | None) -> date | None:
    if not text:
        return None

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f'{option}: "{text}" is not a date; write it as 2018-03-05',
            returncode=BAD_INPUT,
        ) from None
