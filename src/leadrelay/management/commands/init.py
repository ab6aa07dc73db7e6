from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from leadrelay import env
from leadrelay.contract.load import default_text
from leadrelay.management.base import Command as BaseCommand
from leadrelay.workflow.bulk import contract_version
from leadrelay.workspace import ensure_database, load_contract


class Command(BaseCommand):
    help = "Write a default funnel.toml and create the workspace database in DIR (default: .)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", nargs="?", default=".", help="the workspace folder")
        parser.add_argument(
            "--force", action="store_true", help="overwrite an existing funnel.toml"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = settings.CONTRACT_PATH
        if path.exists() and not options["force"]:
            self.stdout.write(
                f"{path} exists; keeping it (--force writes the default over it)"
            )
        else:
            path.write_text(default_text(), encoding="utf-8")
            self.stdout.write(f"wrote {path}")

        if env.write_secret_key(settings.WORKSPACE / "secret.key"):
            self.stdout.write(
                f"wrote {settings.WORKSPACE / 'secret.key'} (keep it private)"
            )

        contract = load_contract(path)
        ensure_database()
        version = contract_version(contract)
        db = settings.DATABASES["default"]
        where = (
            db["NAME"]
            if str(db["ENGINE"]).endswith("sqlite3")
            else f"PostgreSQL database {db['NAME']}"
        )
        self.stdout.write(f"database ready: {where}")
        self.stdout.write(
            f"contract {contract.name} in force, version {version.sha256[:12]}"
        )
        self.stdout.write(
            "next: leadrelay import FILE --preset NAME, then leadrelay pulse"
        )
