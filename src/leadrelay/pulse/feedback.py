"""What sales hears, counted back to marketing: objections and loss reasons.

Sales logs an objection with a label from the contract and a note, and
closes a lead lost with a reason from the contract and a note. `counts()`
tallies both for a range of days by the lead's source, campaign or ICP
segment (its industry), so marketing sees which targeting brings which
objections and losses; `notes()` reads the notes of one label together,
newest first.

The group is the lead's value now, not when the event was written: a lead
whose source was corrected since counts under the corrected one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet

from leadrelay.contract.model import Contract
from leadrelay.models import Event

#: Each breakdown and the lead field it groups by.
BREAKDOWNS: dict[str, str] = {
    "source": "source",
    "campaign": "campaign",
    "segment": "industry",
}

#: How a lead with no value for the breakdown's field is shown.
MISSING: dict[str, str] = {
    "source": "(no source)",
    "campaign": "(no campaign)",
    "segment": "(no segment)",
}

#: The two kinds of feedback, and the key their events keep the label under.
OBJECTION = "objection"
LOSS = "loss"
LABEL_KEY = {OBJECTION: "label", LOSS: "reason"}

NO_LABEL = {OBJECTION: "no label recorded", LOSS: "no reason recorded"}

#: How many notes a notes page reads at most.
NOTES_LIMIT = 200


def bounds(
    contract: Contract, since: date | None, until: date | None
) -> tuple[datetime | None, datetime | None]:
    """Return [start, end) for the days `since` to `until`, both included."""
    if since is not None and until is not None and since > until:
        raise ValueError(f"since ({since}) is after until ({until})")

    tz = contract.tz
    start = datetime.combine(since, time(0), tzinfo=tz) if since else None
    end = (
        datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz)
        if until
        else None
    )
    return start, end


def events(
    contract: Contract, kind: str, since: date | None, until: date | None
) -> QuerySet[Event]:
    """Return the objection or loss events written in the range."""
    if kind == OBJECTION:
        found = Event.objects.filter(kind="objection")
    elif kind == LOSS:
        # The same events the pulse's loss reasons count.
        found = Event.objects.filter(milestone="lost")
    else:
        raise ValueError(
            f'unknown kind of feedback "{kind}": use {OBJECTION} or {LOSS}'
        )

    start, end = bounds(contract, since, until)
    if start is not None:
        found = found.filter(at__gte=start)
    if end is not None:
        found = found.filter(at__lt=end)
    return found


def counts(
    contract: Contract,
    *,
    since: date | None = None,
    until: date | None = None,
    by: str = "source",
) -> dict[str, Any]:
    """Count objections and losses in the range, by label and by group."""
    if by not in BREAKDOWNS:
        raise ValueError(f'unknown breakdown "{by}": use {", ".join(BREAKDOWNS)}')

    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "timezone": contract.timezone,
        "by": by,
        "objections": _table(contract, OBJECTION, since, until, by),
        "losses": _table(contract, LOSS, since, until, by),
    }


def label_text(contract: Contract, kind: str, key: str | None) -> str:
    """Name a label as the contract does; a key it does not know stays as it is."""
    if key is None:
        return NO_LABEL[kind]

    if kind == OBJECTION:
        return contract.objection_label(key)

    return contract.loss_reason_label(key)


def _plain(value: Any) -> str | None:
    # An empty string, a JSON null and a missing key all mean "none given".
    if value is None or value == "":
        return None

    return str(value)


def _table(
    contract: Contract, kind: str, since: date | None, until: date | None, by: str
) -> dict[str, Any]:
    field = f"lead__{BREAKDOWNS[by]}"
    label = f"data__{LABEL_KEY[kind]}"
    rows = events(contract, kind, since, until).values_list(label, field)
    cells: dict[str | None, Counter[str | None]] = defaultdict(Counter)
    for key, group in rows.iterator(chunk_size=10_000):
        cells[_plain(group)][_plain(key)] += 1

    columns: Counter[str | None] = Counter()
    for counted in cells.values():
        columns.update(counted)
    order = sorted(columns, key=lambda k: (-columns[k], k is None, k or ""))
    groups = sorted(cells, key=lambda g: (-sum(cells[g].values()), g is None, g or ""))
    return {
        "total": sum(columns.values()),
        "columns": [
            {"key": k, "label": label_text(contract, kind, k), "count": columns[k]}
            for k in order
        ],
        "rows": [
            {
                "value": g,
                "label": MISSING[by] if g is None else g,
                "total": sum(cells[g].values()),
                "cells": [cells[g][k] for k in order],
            }
            for g in groups
        ],
    }


def _matching(field: str, value: str | None) -> Q:
    if value is None:
        return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})

    return Q(**{field: value})


def notes(
    contract: Contract,
    kind: str,
    key: str | None,
    *,
    since: date | None = None,
    until: date | None = None,
    by: str | None = None,
    value: str | None = None,
    limit: int = NOTES_LIMIT,
) -> dict[str, Any]:
    """Return the notes of one objection label or loss reason, newest first.

    `key` None reads the events that recorded none. With `by`, only the
    leads whose source, campaign or segment is `value` (None: has none).
    """
    found = events(contract, kind, since, until)
    label = f"data__{LABEL_KEY[kind]}"
    if key is None:
        found = found.filter(
            Q(**{f"{label}__isnull": True}) | Q(**{label: None}) | Q(**{label: ""})
        )
    else:
        found = found.filter(**{label: key})

    if by is not None:
        if by not in BREAKDOWNS:
            raise ValueError(f'unknown breakdown "{by}": use {", ".join(BREAKDOWNS)}')
        found = found.filter(_matching(f"lead__{BREAKDOWNS[by]}", value))

    ordered = found.select_related("lead").order_by(
        F("at").desc(nulls_last=True), "-id"
    )
    return {
        "kind": kind,
        "key": key,
        "label": label_text(contract, kind, key),
        "total": found.count(),
        "notes": [_note(event) for event in ordered[:limit]],
    }


def _note(event: Event) -> dict[str, Any]:
    lead = event.lead
    return {
        "at": event.at,
        "actor": event.actor,
        "note": str(event.data.get("note") or ""),
        "lead": lead,
        "source": lead.source,
        "campaign": lead.campaign,
        "segment": lead.industry,
    }
