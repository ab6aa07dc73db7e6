from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadrelay.management.base import Command as BaseCommand
from leadrelay.pulse import render
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week, WeekError
from leadrelay.workspace import BAD_INPUT, ensure_database, load_contract


class Command(BaseCommand):
    help = "Print the pipeline pulse for an ISO week (default: the last complete week)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--week", help="an ISO week such as 2018-W10")
        parser.add_argument("--format", choices=render.FORMATS, default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        contract = load_contract()
        ensure_database()
        week = parse_week(options.get("week")) or Week.last_complete(
            timezone.now(), contract.tz
        )
        self.stdout.write(
            render.pulse_text(pulse(contract, week), options["format"]), ending=""
        )


def parse_week(text: str | None) -> Week | None:
    if not text:
        return None

    try:
        return Week.parse(text)
    except WeekError as exc:
        raise CommandError(f"--week: {exc}", returncode=BAD_INPUT) from None
