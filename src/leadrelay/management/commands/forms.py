from __future__ import annotations

import re
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadrelay.intake.webform import DEFAULT_FIELDS, FIELDS
from leadrelay.management.base import Command as BaseCommand
from leadrelay.models import IntakeForm
from leadrelay.workspace import BAD_INPUT, ensure_database, load_contract

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


class Command(BaseCommand):
    help = (
        "Make and list the public intake forms: /f/SLUG files each inquiry "
        "under the form's source and campaign; /f/SLUG/embed is for an iframe."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a form")
        create.add_argument("--slug", required=True, help="its address: /f/SLUG")
        create.add_argument(
            "--source", required=True, help="one of the contract's allowed sources"
        )
        create.add_argument("--campaign", default="", help="the campaign it is for")
        create.add_argument(
            "--fields",
            default=",".join(DEFAULT_FIELDS),
            help=f"what it asks, in order, from: {', '.join(FIELDS)} "
            f"(default: {','.join(DEFAULT_FIELDS)})",
        )
        create.add_argument("--title", default="", help="its heading")
        sub.add_parser("list", help="list the forms")
        for name, text in (("disable", "stop a form"), ("enable", "restart one")):
            sub.add_parser(name, help=text).add_argument("slug")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_database()
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list()
        else:
            self._switch(options["slug"], action == "enable")

    def _create(self, options: dict[str, Any]) -> None:
        contract = load_contract()
        slug = options["slug"].strip().lower()
        source = options["source"].strip()
        fields = [f.strip() for f in options["fields"].split(",") if f.strip()]
        problems = []
        if not _SLUG_RE.match(slug):
            problems.append(
                f'--slug "{slug}": use lower-case letters, digits and dashes, '
                "e.g. spring-webinar"
            )
        elif IntakeForm.objects.filter(slug=slug).exists():
            problems.append(f'--slug "{slug}": a form has it already')
        if contract.sources and source not in contract.sources:
            problems.append(
                f'--source "{source}" is not one of the contract\'s allowed '
                f"sources: {', '.join(contract.sources)}"
            )
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            problems.append(
                f"--fields: {', '.join(unknown)} not known; choose from "
                f"{', '.join(FIELDS)}"
            )
        if not {"email", "phone"} & set(fields):
            problems.append("--fields: ask for email or phone, to reply to")
        if len(set(fields)) != len(fields):
            problems.append("--fields: name each field once")
        if problems:
            raise CommandError("; ".join(problems), returncode=BAD_INPUT)

        form = IntakeForm.objects.create(
            slug=slug,
            source=source,
            campaign=options["campaign"].strip(),
            fields=fields,
            title=options["title"].strip(),
        )
        self.stdout.write(
            f"made form {form.slug} (source {form.source}"
            + (f", campaign {form.campaign}" if form.campaign else "")
            + f"): /f/{form.slug} to link, /f/{form.slug}/embed for an iframe"
        )

    def _list(self) -> None:
        forms = list(IntakeForm.objects.order_by("slug"))
        if not forms:
            self.stdout.write(
                "no forms yet; make one: leadrelay forms create --slug SLUG "
                "--source SOURCE"
            )
            return

        rows = [("address", "source", "campaign", "fields", "state")]
        for form in forms:
            state = "live" if form.active else "disabled"
            fields = ",".join(form.fields)
            rows.append((f"/f/{form.slug}", form.source, form.campaign, fields, state))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())

    def _switch(self, slug: str, active: bool) -> None:
        changed = IntakeForm.objects.filter(slug=slug).update(active=active)
        if not changed:
            raise CommandError(f'no form has the slug "{slug}"', returncode=BAD_INPUT)

        word = "enabled" if active else "disabled"
        self.stdout.write(f"{word} /f/{slug}")
