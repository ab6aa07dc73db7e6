"""The leak finder: where leads stall, with sample sizes and intervals."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from leadrelay.contract import Contract
from leadrelay.pulse import leaks
from leadrelay.web.base import contract_context, page
from leadrelay.web.feedback import PeriodError, read_period

#: The period the page reads when none is asked for: about a quarter, so that
#: most transitions have enough leads to say something.
DEFAULT_DAYS = 91


def breakdown_tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Return one table per transition: its groups, ranked, then the too-few ones.

    Ranked rows come first, the most excess losses first; rows with too few
    leads follow, most leads first, and are given no rank.
    """
    leak = result["biggest_leak"]
    tables = []
    for index, whole in enumerate(result["overall"]["conversion"]):
        rows = [
            {
                "label": group["label"],
                "value": group["value"],
                **group["conversion"][index],
                "is_leak": (
                    leak["from"] == whole["from"]
                    and leak["value"] == group["value"]
                    and leak["by"] is not None
                ),
            }
            for group in result["breakdown"]
        ]
        ranked = sorted(
            (r for r in rows if not r["too_few"] and r["excess_lost"] is not None),
            key=lambda r: -r["excess_lost"],
        )
        for rank, row in enumerate(ranked, start=1):
            row["rank"] = rank
        placed = {id(r) for r in ranked}
        unranked = [r for r in rows if id(r) not in placed]
        tables.append({"overall": whole, "rows": ranked + unranked})
    return tables


@page()
def leaks_page(request: HttpRequest, contract: Contract) -> HttpResponse:
    by = request.GET.get("by") or None
    error = ""
    try:
        if by is not None and by not in leaks.BREAKDOWNS:
            raise PeriodError(
                f'"{by}" is not a breakdown; use {", ".join(leaks.BREAKDOWNS)} or none'
            )
        since, until = read_period(request.GET, contract, DEFAULT_DAYS)
    except PeriodError as exc:
        error = str(exc)
        by = None
        since, until = read_period(QueryDict(), contract, DEFAULT_DAYS)

    result = leaks.report(contract, since=since, until=until, by=by)
    overall = result["overall"]
    context = {
        **contract_context(contract),
        "result": result,
        "conversion": [
            *overall["conversion"],
            *([overall["end_to_end"]] if overall["end_to_end"] else []),
        ],
        "tables": breakdown_tables(result) if by else [],
        "as_of": result["as_of"][:16].replace("T", " "),
        "by": by,
        "breakdowns": list(leaks.BREAKDOWNS),
        "since": since,
        "until": until,
        "min_leads": leaks.MIN_LEADS,
        "error": error,
    }
    status = 400 if error else 200
    return render(request, "leadrelay/leaks.html", context, status=status)
