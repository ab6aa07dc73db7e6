from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadrelay.contract import Contract
from leadrelay.management.base import Command as BaseCommand
from leadrelay.models import DecisionKind, DecisionMetric
from leadrelay.pulse import decisions, render
from leadrelay.pulse.week import Week
from leadrelay.workspace import BAD_INPUT, ensure_database, load_contract

#: The option that carries each of `decisions.record`'s fields.
OPTIONS = {"made_by": "--by"}


class Command(BaseCommand):
    help = "List the weekly decisions, newest first, or record this week's one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("text", "json"), default="text")
        sub = parser.add_subparsers(dest="action")
        add = sub.add_parser(
            "add",
            help="record the decision taken on reading a week's pulse",
            epilog="kinds: "
            + decisions.allowed(DecisionKind)
            + "; metrics: "
            + decisions.allowed(DecisionMetric),
        )
        add.add_argument(
            "--week",
            help="the ISO week whose pulse the meeting read, such as 2018-W10 "
            "(default: the last complete week, as `leadrelay pulse` shows)",
        )
        add.add_argument(
            "--kind", required=True, help="targeting, messaging or follow_up"
        )
        add.add_argument(
            "--text", required=True, help="what was decided, in a sentence"
        )
        add.add_argument("--metric", help="the pulse figure the decision should move")
        add.add_argument(
            "--source", help="measure the figure on leads from this source only"
        )
        add.add_argument("--by", help="who decided (default: the current user)")
        add.add_argument(
            "--replace",
            action="store_true",
            help="replace the week's decision, keeping the old one in the log",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The contract comes first: outside a workspace it refuses before
        # the database file would be created in the current folder.
        contract = load_contract()
        ensure_database()
        if options.get("action") == "add":
            self._add(options, contract)
            return

        entries = decisions.log()
        if options["format"] == "json":
            self.stdout.write(render.as_json({"decisions": entries}), ending="")
            return

        if not entries:
            self.stdout.write(
                "no decisions recorded yet; leadrelay decisions add --help"
            )
            return

        for entry in entries:
            self.stdout.write(_line(entry))

    def _add(self, options: dict[str, Any], contract: Contract) -> None:
        week = options.get("week") or str(
            Week.last_complete(timezone.now(), contract.tz)
        )
        try:
            decision = decisions.record(
                week,
                options["kind"],
                options["text"],
                options.get("by") or _current_user(),
                metric=options.get("metric"),
                source=options.get("source"),
                replace=options["replace"],
                contract=contract,
            )
        except decisions.DecisionExists as exc:
            raise CommandError(
                f"--week: {exc}; add --replace to record this one instead "
                "(the old one stays in the log)",
                returncode=BAD_INPUT,
            ) from None
        except decisions.DecisionError as exc:
            option = OPTIONS.get(exc.field, f"--{exc.field}")
            raise CommandError(f"{option}: {exc}", returncode=BAD_INPUT) from None

        done = (
            "replaced the decision"
            if decision.replaced and options["replace"]
            else "recorded the decision"
        )
        self.stdout.write(
            f"{done} for {decision.week}: {_line(decisions.as_dict(decision))}"
        )


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _line(entry: dict[str, Any]) -> str:
    line = (
        f"{entry['week']}  {entry['kind']:<9}  {entry['text']}  (by {entry['made_by']})"
    )
    snapshot = entry["at_decision"]
    if snapshot is not None:
        where = f" from {entry['source']}" if entry["source"] else ""
        value = snapshot["value"]
        if value is None:
            shown = "n/a"
        elif entry["metric"] in ("qualified_cohort_rate", "sla_met_rate"):
            shown = f"{100 * value:.1f}% of {snapshot['n']}"
        else:
            shown = f"{value:g}"
        line += f"; to move {entry['metric_label']}{where}, {shown} in {entry['week']}"
    return line
