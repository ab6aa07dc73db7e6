from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadrelay.api.keys import create_key, revoke_key
from leadrelay.api.mapping import MappingError, parse
from leadrelay.management.base import Command as BaseCommand
from leadrelay.models import ApiKey
from leadrelay.workflow.ops import Refused
from leadrelay.workflow.roles import ROLES
from leadrelay.workspace import BAD_INPUT, ensure_database


class Command(BaseCommand):
    help = (
        "Make, revoke and list API keys. A key is shown once, when it is made, "
        "and stored only as a digest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create",
            help="make a key and print it (once) on standard output",
        )
        create.add_argument("--name", required=True, help="what the key is for")
        create.add_argument(
            "--role",
            required=True,
            choices=ROLES,
            help="what the key may do; an admin key may do everything",
        )
        create.add_argument(
            "--mapping",
            metavar="FILE",
            help="a TOML (or .json) file saying which payload field fills which "
            "lead field, for POST /api/v1/intake (see docs/api.md)",
        )
        revoke = sub.add_parser("revoke", help="stop a key from working")
        revoke.add_argument("key", metavar="NAME_OR_PREFIX")
        sub.add_parser("list", help="list the keys, live and revoked")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_database()
        action = options["action"]
        if action == "create":
            self._create(options["name"], options["role"], options["mapping"])
        elif action == "revoke":
            self._revoke(options["key"])
        else:
            self._list()

    def _create(self, name: str, role: str, mapping_path: str | None) -> None:
        mapping = {}
        if mapping_path:
            path = Path(mapping_path)
            try:
                mapping = parse(path.read_text(encoding="utf-8"), str(path))
            except OSError as exc:
                raise CommandError(
                    f"--mapping {path}: {exc.strerror}", returncode=BAD_INPUT
                ) from None
            except MappingError as exc:
                raise CommandError(str(exc), returncode=BAD_INPUT) from None

        try:
            key, raw = create_key(name, role, mapping)
        except Refused as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

        mapped = ", with a mapping" if mapping else ""
        sys.stderr.write(
            f"made key {key.name} ({key.role}{mapped}), prefix {key.prefix}. "
            "It is shown only this once; store it now:\n"
        )
        self.stdout.write(raw)

    def _revoke(self, wanted: str) -> None:
        try:
            key = revoke_key(wanted)
        except Refused as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

        self.stdout.write(
            f"revoked {key.name} ({key.prefix}); requests with it now get 401"
        )

    def _list(self) -> None:
        keys = list(ApiKey.objects.order_by("name"))
        if not keys:
            self.stdout.write(
                "no keys yet; make one: leadrelay apikey create --name NAME --role ROLE"
            )
            return

        rows = [("name", "prefix", "role", "made", "last used", "state")]
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
            if key.mapping and not key.revoked_at:
                state += ", mapped"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            made = f"{key.created_at:%Y-%m-%d}"
            rows.append((key.name, key.prefix, key.role, made, used, state))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())
