from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from leadrelay.contract import render
from leadrelay.contract.model import REQUIREMENTS
from leadrelay.management.base import Command as BaseCommand
from leadrelay.workspace import load_contract


class Command(BaseCommand):
    help = "Check the funnel contract, or show it as the one page both teams sign."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "check",
            help="validate a contract; exit 2 with every problem listed",
            epilog="requirements a stage or the handoff may list: "
            + ", ".join(REQUIREMENTS),
        )
        check.add_argument(
            "file",
            nargs="?",
            help="the contract (default: the workspace's funnel.toml)",
        )
        show = sub.add_parser("show", help="print the funnel definition")
        show.add_argument(
            "file",
            nargs="?",
            help="the contract (default: the workspace's funnel.toml)",
        )
        show.add_argument("--format", choices=("text", "markdown"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        contract = load_contract(options.get("file"))
        if options["action"] == "check":
            stages = " → ".join(s.label for s in contract.stages)
            self.stdout.write(
                f"ok: {contract.name}, version {contract.sha256[:12]}: {stages}"
            )
            return

        if options["format"] == "markdown":
            self.stdout.write(render.markdown(contract))
        else:
            self.stdout.write(render.text(contract))
