"""Who hears of a clock: its owner, the team lead, the admins; and which chat.

A lead's team is the owner's (the one the lead was handed to, when the owner
is in several), else the team it was handed to, else the contract's handoff
team. The team lead is the person set on the team's route. Where a step
names someone who is not there (no owner yet, no team lead set), it goes to
the next one up and says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q

from leadrelay.contract.model import Contract
from leadrelay.models import Event, EventKind, Lead, Team, TeamMember, TeamRoute
from leadrelay.workflow.roles import ADMIN

#: How a webhook is named in a notification's address, so that the URL, a
#: secret, is looked up when sending and never stored.
DEFAULT_WEBHOOK = "default"


@dataclass(frozen=True)
class Person:
    username: str
    email: str


@dataclass
class Route:
    """Where one step's messages go."""

    people: list[Person]
    #: Why they go there, when it is not whom the step names; else "".
    because: str = ""
    #: The webhook's name: "default", "team 3", or "" for no chat.
    webhook: str = ""

    @property
    def names(self) -> list[str]:
        return [p.username for p in self.people]


class Directory:
    """What one batch of clocks needs to know about people and teams, loaded at once."""

    def __init__(self, contract: Contract, leads: Iterable[Lead]) -> None:
        leads = list(leads)
        owners = {lead.owner for lead in leads if lead.owner}
        self.contract = contract
        self.users = {
            u.username: u
            for u in User.objects.filter(username__in=owners, is_active=True)
        }
        self.teams = {t.pk: t for t in Team.objects.all()}
        self.team_names = {t.name: t for t in self.teams.values()}
        self.routes = {
            r.team_id: r for r in TeamRoute.objects.select_related("lead").all()
        }
        self.memberships: dict[str, list[int]] = {}
        rows = TeamMember.objects.filter(user__username__in=owners).values_list(
            "user__username", "team_id", "team__name"
        )
        for username, team_id, _ in sorted(rows, key=lambda r: r[2]):
            self.memberships.setdefault(username, []).append(team_id)
        self.handed_to: dict[int, str] = {}
        handoffs = (
            Event.objects.filter(
                lead_id__in=[lead.pk for lead in leads], kind=EventKind.HANDOFF
            )
            .order_by("at", "id")
            .values_list("lead_id", "data")
        )
        for lead_id, data in handoffs:
            if (data or {}).get("team"):
                self.handed_to[lead_id] = data["team"]
        self._admins: list[Person] | None = None

    def team_of(self, lead: Lead, owner: str) -> Team | None:
        handed = self.team_names.get(self.handed_to.get(lead.pk, ""))
        mine = self.memberships.get(owner, [])
        if handed is not None and (handed.pk in mine or not mine):
            return handed

        if mine:
            return self.teams[mine[0]]

        return self.team_names.get(self.contract.handoff_team)

    def admins(self) -> list[Person]:
        if self._admins is None:
            found = (
                User.objects.filter(is_active=True)
                .filter(Q(is_superuser=True) | Q(groups__name=ADMIN))
                .distinct()
                .order_by("username")
            )
            self._admins = [Person(u.username, u.email) for u in found]

        return self._admins

    def route(self, lead: Lead, owner: str, to: str) -> Route:
        """Return where a step for `to` ("owner", "team_lead", "admins") goes."""
        team = self.team_of(lead, owner)
        webhook = self.webhook(team)
        if to == "owner":
            user = self.users.get(owner) if owner else None
            if user is not None:
                return Route([Person(user.username, user.email)], webhook=webhook)

            why = f"{owner}'s account is not active" if owner else "nobody owns it"
            route = self._team_lead(team, webhook)
            route.because = f"{why}: {route.because or 'sent to the team lead'}"
            return route

        if to == "team_lead":
            return self._team_lead(team, webhook)

        return Route(self.admins(), webhook=webhook)

    def webhook(self, team: Team | None) -> str:
        route = self.routes.get(team.pk) if team is not None else None
        if route is not None and route.chat_webhook_url:
            return f"team {team.pk}" if team is not None else ""

        return DEFAULT_WEBHOOK if settings.NOTIFY_CHAT_WEBHOOK_URL else ""

    def _team_lead(self, team: Team | None, webhook: str) -> Route:
        if team is None:
            return Route(
                self.admins(), "the lead is in no team: sent to the admins", webhook
            )

        route = self.routes.get(team.pk)
        lead = route.lead if route is not None else None
        if lead is None or not lead.is_active:
            return Route(
                self.admins(),
                f"{team.name} has no team lead set: sent to the admins",
                webhook,
            )

        return Route([Person(lead.username, lead.email)], webhook=webhook)


def webhook_url(address: str) -> str:
    """Return the URL a notification's webhook name stands for, or ""."""
    if address == DEFAULT_WEBHOOK:
        return settings.NOTIFY_CHAT_WEBHOOK_URL

    if address.startswith("team "):
        route = TeamRoute.objects.filter(team_id=int(address[5:])).first()
        if route is not None and route.chat_webhook_url:
            return route.chat_webhook_url

        return settings.NOTIFY_CHAT_WEBHOOK_URL

    return ""


def set_team_lead(team: Team, user: User | None) -> TeamRoute:
    """Make `user` the person a team's escalations go to (None: the admins)."""
    route, _ = TeamRoute.objects.get_or_create(team=team)
    route.lead = user
    route.save(update_fields=["lead"])
    return route


def set_team_webhook(team: Team, url: str) -> TeamRoute:
    """Give a team a chat webhook of its own ("" for the default one).

    The URL is checked like the default one: http(s), with a host; whether
    it may point at a private address is checked when a message is sent.
    """
    from leadrelay.notify.chat import url_problem

    problem = url_problem(url) if url else None
    if problem:
        raise ValueError(problem)

    route, _ = TeamRoute.objects.get_or_create(team=team)
    route.chat_webhook_url = url.strip()
    route.save(update_fields=["chat_webhook_url"])
    return route
