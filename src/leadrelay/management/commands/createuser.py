from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadrelay.management.base import Command as BaseCommand
from leadrelay.workflow.ops import Refused
from leadrelay.workflow.people import create_person, role_problems
from leadrelay.workflow.roles import ROLES
from leadrelay.workspace import BAD_INPUT, ensure_database


class Command(BaseCommand):
    help = (
        "Make an account for the web app. Roles: marketing (captures and hands "
        "off leads), sales (owns, works and closes them), admin (manages people "
        "and teams); repeat --role for several."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            required=True,
            metavar="|".join(ROLES),
            help="the person's role; give it more than once for several",
        )
        parser.add_argument(
            "--password", help="the password (default: asked for in the terminal)"
        )
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        roles = options["role"]
        problems = role_problems(roles)
        if problems:
            bad = ", ".join(f'"{r}"' for r in roles if r not in ROLES)
            raise CommandError(
                f"unknown role {bad}: a role is one of {', '.join(ROLES)}",
                returncode=BAD_INPUT,
            )

        ensure_database()
        password = options["password"]
        if password is None:
            password = _ask_password()

        try:
            user = create_person(options["username"], password, roles, options["email"])
        except Refused as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

        self.stdout.write(
            f"made {user.username} ({', '.join(roles)}); they can sign in now"
        )


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise CommandError(
            "no terminal to ask for a password in; give it with --password",
            returncode=BAD_INPUT,
        )

    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise CommandError(
            "the two passwords differ; nothing was made", returncode=BAD_INPUT
        )

    return first
