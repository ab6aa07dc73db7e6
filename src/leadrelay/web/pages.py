"""The overview pages: inbox, board, all leads, the funnel definition, the pulse."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from leadrelay.contract import Contract
from leadrelay.contract.render import markdown
from leadrelay.web import meeting, queries
from leadrelay.web.base import contract_context, page
from leadrelay.web.forms import MoveForm
from leadrelay.web.markdown import to_html
from leadrelay.workflow.roles import SALES, may, possible_owners, roles_of


@page()
def inbox(request: HttpRequest, contract: Contract) -> HttpResponse:
    now = timezone.now()
    waiting, waiting_total = queries.waiting_for_handoff(contract)
    context = {
        **contract_context(contract),
        "waiting": waiting,
        "waiting_total": waiting_total,
        "clocks": queries.contact_clocks(contract, now),
        "now": now,
    }
    if SALES in roles_of(request.user):
        mine, mine_total = queries.my_leads(contract, request.user.get_username())
        context.update(mine=mine, mine_total=mine_total)

    return render(request, "leadrelay/inbox.html", context)


@page()
def board(request: HttpRequest, contract: Contract) -> HttpResponse:
    return board_response(request, contract)


def board_response(
    request: HttpRequest,
    contract: Contract,
    refused_lead: int | None = None,
    refusal: object = None,
    status: int = 200,
) -> HttpResponse:
    """Render the board, with a refused move's reasons on its card when there is one."""
    owner = request.GET.get("owner", "")
    now = timezone.now()
    columns = queries.board(contract, now, owner=owner)
    if may(request.user, "move"):
        for column in columns:
            for card in column.cards:
                if column.stage.is_open:
                    # The lead page's move form, with ids of its own per card.
                    card.form = MoveForm(
                        contract=contract,
                        lead=card.lead,
                        prefix="move",
                        auto_id=f"id_card{card.lead.pk}_%s",
                        label_suffix="",
                    )
    context = {
        **contract_context(contract),
        "columns": columns,
        "owner": owner,
        "owners": possible_owners(),
        "refused_lead": refused_lead,
        "refusal": refusal,
        "now": now,
    }
    return render(request, "leadrelay/board.html", context, status=status)


@page()
def leads(request: HttpRequest, contract: Contract) -> HttpResponse:
    text = request.GET.get("q", "")
    stage = request.GET.get("stage", "")
    found, total = queries.search(text, stage)
    context = {
        **contract_context(contract),
        "leads": found,
        "total": total,
        "q": text,
        "stage": stage,
    }
    return render(request, "leadrelay/leads.html", context)


@page()
def funnel(request: HttpRequest, contract: Contract) -> HttpResponse:
    context = {**contract_context(contract), "body": to_html(markdown(contract))}
    return render(request, "leadrelay/funnel.html", context)


@page()
def pulse_page(request: HttpRequest, contract: Contract) -> HttpResponse:
    week, error = meeting.read_week(
        request.GET.get("week", ""), contract, timezone.now()
    )
    context = {**meeting.pulse_context(contract, week), "error": error}
    return render(
        request, "leadrelay/pulse.html", context, status=400 if error else 200
    )
