"""The admins' page for notifications that could not be delivered, and where alerts go."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from leadrelay.contract import Contract
from leadrelay.models import Delivery, Notification, Team, TeamRoute
from leadrelay.notify import deliver
from leadrelay.notify.recipients import set_team_lead, set_team_webhook
from leadrelay.web.base import contract_context, page

#: How many failed notifications the page lists, newest first.
SHOWN = 200


@page("manage")
def failed(request: HttpRequest, contract: Contract) -> HttpResponse:
    if request.method == "POST":
        return _change(request)

    rows = Notification.objects.filter(status=Delivery.FAILED).select_related("lead")
    routes = {r.team_id: r for r in TeamRoute.objects.select_related("lead")}
    teams = [(team, routes.get(team.pk)) for team in Team.objects.order_by("name")]
    context = {
        **contract_context(contract),
        "failed": rows.order_by("-created_at", "-id")[:SHOWN],
        "failed_total": rows.count(),
        "shown": SHOWN,
        "teams": teams,
        "people": User.objects.filter(is_active=True).order_by("username"),
    }
    return render(request, "leadrelay/notifications.html", context)


def _change(request: HttpRequest) -> HttpResponse:
    if "retry" in request.POST:
        notification = get_object_or_404(
            Notification, pk=request.POST["retry"], status=Delivery.FAILED
        )
        deliver.retry(notification)
        messages.success(request, "It will be sent again on the worker's next tick.")
        return redirect("failed_notifications")

    team = get_object_or_404(Team, pk=request.POST.get("team"))
    username = request.POST.get("lead", "")
    lead = User.objects.filter(username=username, is_active=True).first()
    set_team_lead(team, lead)
    try:
        set_team_webhook(team, request.POST.get("webhook", "").strip())
    except ValueError as exc:
        messages.error(request, f"{team.name}: {exc}.")
    else:
        whom = lead.username if lead else "the admins"
        messages.success(request, f"{team.name}'s escalations go to {whom}.")

    return redirect("failed_notifications")
