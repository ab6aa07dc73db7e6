from __future__ import annotations

import signal
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from leadrelay.management.base import Command as BaseCommand
from leadrelay.sla.worker import Worker
from leadrelay.workspace import BAD_INPUT, ensure_database, load_contract


class Command(BaseCommand):
    help = (
        "Watch the SLA clocks: warn owners, escalate breaches (owner, then the "
        "team lead) by email and chat, and send the weekly pulse. Several may "
        "run at once against one PostgreSQL database; each alert goes out once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="work until nothing is due, then exit (for cron, or a test)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="how long an idle worker waits before it looks again (default: 5)",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=100,
            help="rows claimed at a time (default: 100)",
        )
        parser.add_argument(
            "--now",
            metavar="ISO",
            help="act as if it were this moment (2026-03-30T15:00+02:00), to replay "
            "a past day or to test",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0 or options["batch"] < 1:
            raise CommandError(
                "--interval must be above 0 and --batch at least 1",
                returncode=BAD_INPUT,
            )

        load_contract()
        ensure_database()
        worker = Worker(batch=options["batch"])
        if options["now"]:
            fixed = _moment(options["now"])
            worker.clock = lambda: fixed

        def stop(signum: int, frame: Any) -> None:
            # Finish the step under way, then leave the loop.
            worker.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        self.stdout.write(
            f"leadrelay worker {worker.name}: {_channels()}"
            + ("" if options["once"] else f"; looks every {options['interval']:g} s")
        )
        worker.run(
            interval=options["interval"],
            once=options["once"],
            report=lambda line: self.stdout.write(line),
        )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CommandError(
            f'--now "{text}" is not a moment with its UTC offset; write it as '
            "2026-03-30T15:00+02:00",
            returncode=BAD_INPUT,
        )

    return moment


def _channels() -> str:
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        email = f"email by {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    elif settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        email = "emails printed here (LEADRELAY_SMTP_HOST is not set)"
    else:
        email = f"email by {settings.EMAIL_BACKEND.rsplit('.', 1)[-1]}"

    chat = "chat on" if settings.NOTIFY_CHAT_WEBHOOK_URL else "no default chat webhook"
    return f"{email}, {chat}"
