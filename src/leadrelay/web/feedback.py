"""Objections and losses back to marketing: the counts, and the notes of one label."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from leadrelay.contract import Contract
from leadrelay.pulse import feedback
from leadrelay.web.base import contract_context, page

#: The period a page shows when none is asked for: the last four weeks.
DEFAULT_DAYS = 28


class PeriodError(ValueError):
    pass


def read_day(query: QueryDict, name: str, default: date | None) -> date | None:
    """Read a day from the query: absent gives `default`, empty gives no bound."""
    if name not in query:
        return default

    text = (query.get(name) or "").strip()
    if not text:
        return None

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(
            f'{name} "{text}" is not a day; write it as 2018-03-05'
        ) from None


def read_period(
    query: QueryDict, contract: Contract, days: int = DEFAULT_DAYS
) -> tuple[date | None, date | None]:
    """Return the since and until the query asks for, the last `days` days by default."""
    today = timezone.localdate(timezone=contract.tz)
    since = read_day(query, "since", today - timedelta(days=days - 1))
    until = read_day(query, "until", today)
    if since is not None and until is not None and since > until:
        raise PeriodError(f"since ({since}) is after until ({until})")

    return since, until


def _period_query(since: date | None, until: date | None) -> dict[str, str]:
    return {
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }


def _notes_href(
    kind: str,
    key: str | None,
    period: dict[str, str],
    by: str | None = None,
    value: str | None = None,
    grouped: bool = False,
) -> str:
    query = {"label" if kind == feedback.OBJECTION else "reason": key or "", **period}
    if grouped and by is not None:
        query.update(by=by, value=value or "")
    return f"{reverse('feedback_notes')}?{urlencode(query)}"


def _linked(
    table: dict[str, Any], kind: str, by: str, period: dict[str, str]
) -> dict[str, Any]:
    """Add to each label and each cell the link to the notes behind it."""
    columns = [
        {**col, "href": _notes_href(kind, col["key"], period)}
        for col in table["columns"]
    ]
    rows = [
        {
            **row,
            "cells": [
                {
                    "count": count,
                    "href": _notes_href(
                        kind, col["key"], period, by, row["value"], grouped=True
                    ),
                }
                for count, col in zip(row["cells"], table["columns"], strict=True)
            ],
        }
        for row in table["rows"]
    ]
    return {**table, "columns": columns, "rows": rows}


@page()
def feedback_page(request: HttpRequest, contract: Contract) -> HttpResponse:
    by = request.GET.get("by") or "source"
    error = ""
    since: date | None = None
    until: date | None = None
    try:
        if by not in feedback.BREAKDOWNS:
            raise PeriodError(
                f'"{by}" is not a breakdown; use {", ".join(feedback.BREAKDOWNS)}'
            )
        since, until = read_period(request.GET, contract)
    except PeriodError as exc:
        error = str(exc)
        by = by if by in feedback.BREAKDOWNS else "source"
        since, until = read_period(QueryDict(), contract)

    period = _period_query(since, until)
    result = feedback.counts(contract, since=since, until=until, by=by)
    context = {
        **contract_context(contract),
        "result": result,
        "objections": _linked(result["objections"], feedback.OBJECTION, by, period),
        "losses": _linked(result["losses"], feedback.LOSS, by, period),
        "by": by,
        "breakdowns": list(feedback.BREAKDOWNS),
        "since": since,
        "until": until,
        "error": error,
    }
    status = 400 if error else 200
    return render(request, "leadrelay/feedback.html", context, status=status)


@page()
def notes_page(request: HttpRequest, contract: Contract) -> HttpResponse:
    kind = feedback.LOSS if "reason" in request.GET else feedback.OBJECTION
    key = request.GET.get("reason" if kind == feedback.LOSS else "label", "").strip()
    by = request.GET.get("by") or None
    value = request.GET.get("value") or None
    error = ""
    since: date | None = None
    until: date | None = None
    try:
        if by is not None and by not in feedback.BREAKDOWNS:
            raise PeriodError(
                f'"{by}" is not a breakdown; use {", ".join(feedback.BREAKDOWNS)}'
            )
        # With no period asked for, every note of the label is read.
        since, until = (
            read_day(request.GET, "since", None),
            read_day(request.GET, "until", None),
        )
        if since is not None and until is not None and since > until:
            raise PeriodError(f"since ({since}) is after until ({until})")
    except PeriodError as exc:
        error = str(exc)
        by = None

    found = feedback.notes(
        contract, kind, key or None, since=since, until=until, by=by, value=value
    )
    period = _period_query(since, until)
    context = {
        **contract_context(contract),
        "found": found,
        "kind": kind,
        "by": by,
        "group": (value or feedback.MISSING[by]) if by else "",
        "since": since,
        "until": until,
        "error": error,
        "back": f"{reverse('feedback')}?{urlencode({**period, 'by': by or 'source'})}",
    }
    status = 400 if error else 200
    return render(request, "leadrelay/notes.html", context, status=status)
