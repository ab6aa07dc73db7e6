"""The base of leadrelay's commands: errors printed as one readable message."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.utils import DatabaseError


class Command(BaseCommand):
    _invoked_as: str | None = None

    def run_from_argv(self, argv: list[str]) -> None:
        self._invoked_as = argv[1] if len(argv) > 1 else None
        super().run_from_argv(argv)

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if self._invoked_as is None or options.get("traceback"):
                raise
            # Django would print the exception's class name first; a person
            # needs only the message, and scripts the exit code.
            sys.stderr.write(f"leadrelay {self._invoked_as}: {exc}\n")
            sys.exit(exc.returncode)
        except DatabaseError as exc:
            # OperationalError included: a missing folder, a server that
            # is down, a database that refuses the login.
            if self._invoked_as is None or options.get("traceback"):
                raise
            reason = str(exc).strip().partition("\n")[0] or type(exc).__name__
            sys.stderr.write(
                f"leadrelay {self._invoked_as}: cannot use the database "
                f"({reason}); check LEADRELAY_DATABASE_URL "
                "(or the workspace folder)\n"
            )
            sys.exit(1)
