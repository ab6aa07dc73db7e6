"""Objections and loss reasons counted back to marketing, checked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from leadrelay.contract import default_text, parse
from leadrelay.models import ContractVersion, Event, Lead
from leadrelay.pulse import feedback
from leadrelay.workflow.bulk import contract_version

pytestmark = pytest.mark.django_db

CONTRACT = parse(default_text())
MARCH_5 = datetime(2018, 3, 5, 10, tzinfo=UTC)
SINCE, UNTIL = date(2018, 3, 5), date(2018, 3, 11)


@pytest.fixture
def version() -> ContractVersion:
    return contract_version(CONTRACT)


def lead(version: ContractVersion, **fields: Any) -> Lead:
    fields.setdefault("source", "web_form")
    row = Lead.objects.create(stage="contacted", created_at=MARCH_5, **fields)
    Event.objects.create(
        lead=row,
        kind="created",
        stage="inquiry",
        at=MARCH_5 - timedelta(days=30),
        actor="mia",
        contract_version=version,
    )
    return row


def objection(
    version: ContractVersion, row: Lead, label: str, at: datetime, note: str = ""
) -> Event:
    return Event.objects.create(
        lead=row,
        kind="objection",
        stage=row.stage,
        at=at,
        actor="sam",
        data={"label": label, "note": note or f"{label} came up"},
        contract_version=version,
    )


def loss(
    version: ContractVersion,
    row: Lead,
    reason: str | None,
    at: datetime,
    note: str = "",
) -> Event:
    data = (
        {"note": note or "gone"}
        if reason is None
        else {"reason": reason, "note": note or "gone"}
    )
    return Event.objects.create(
        lead=row,
        kind="lost",
        stage="lost",
        milestone="lost",
        at=at,
        actor="sam",
        data=data,
        contract_version=version,
    )


@pytest.fixture
def heard(version: ContractVersion) -> dict[str, Lead]:
    """A week of feedback, from 2018-03-05 to 2018-03-11, and some outside it."""
    ana = lead(version, campaign="spring", industry="software")
    bo = lead(version, source="paid_search", industry="retail")
    cy = lead(version, source=None, campaign="spring", industry="software")
    day = timedelta(days=1)
    objection(version, ana, "price", MARCH_5)
    objection(version, ana, "price", MARCH_5 + 2 * day, "still too dear")
    objection(version, bo, "price", MARCH_5 + day)
    objection(version, bo, "integration", MARCH_5 + day)
    # The last minute of the range counts; the first of the day after does not.
    objection(version, cy, "timing", datetime(2018, 3, 11, 23, 59, tzinfo=UTC))
    objection(version, cy, "timing", datetime(2018, 3, 12, 0, 0, tzinfo=UTC))
    objection(version, cy, "price", MARCH_5 - day)

    dee = lead(version, campaign="spring", industry="software")
    eve = lead(version, source="paid_search", industry="retail")
    fay = lead(version, source="paid_search")
    loss(version, dee, "price", MARCH_5 + 3 * day)
    loss(version, eve, "no_budget", MARCH_5 + 4 * day)
    loss(version, fay, None, MARCH_5 + 4 * day)
    return {"ana": ana, "bo": bo, "cy": cy, "dee": dee, "eve": eve, "fay": fay}


def table(result: dict[str, Any], name: str) -> tuple[list[Any], list[Any]]:
    part = result[name]
    return (
        [(c["key"], c["count"]) for c in part["columns"]],
        [(r["label"], r["total"], r["cells"]) for r in part["rows"]],
    )


def test_objections_are_counted_by_label_and_source(heard: dict[str, Lead]) -> None:
    result = feedback.counts(CONTRACT, since=SINCE, until=UNTIL, by="source")

    columns, rows = table(result, "objections")
    assert result["objections"]["total"] == 5
    # Most heard first; a tie goes by key.
    assert columns == [("price", 3), ("integration", 1), ("timing", 1)]
    # Most objections first; a tie goes by name, and no source comes last.
    assert rows == [
        ("paid_search", 2, [1, 1, 0]),
        ("web_form", 2, [2, 0, 0]),
        ("(no source)", 1, [0, 0, 1]),
    ]
    assert [c["label"] for c in result["objections"]["columns"]] == [
        "Too expensive",
        "Does not fit our tools",
        "Not a priority this quarter",
    ]


def test_losses_are_counted_by_reason_with_a_missing_one_named(
    heard: dict[str, Lead],
) -> None:
    result = feedback.counts(CONTRACT, since=SINCE, until=UNTIL, by="source")

    columns, rows = table(result, "losses")
    assert columns == [("no_budget", 1), ("price", 1), (None, 1)]
    assert rows == [("paid_search", 2, [1, 0, 1]), ("web_form", 1, [0, 1, 0])]
    assert result["losses"]["columns"][2]["label"] == "no reason recorded"


def test_a_campaign_left_empty_counts_as_no_campaign(heard: dict[str, Lead]) -> None:
    result = feedback.counts(CONTRACT, since=SINCE, until=UNTIL, by="campaign")

    _, rows = table(result, "objections")
    assert rows == [("spring", 3, [2, 0, 1]), ("(no campaign)", 2, [1, 1, 0])]


def test_the_segment_is_the_lead_s_industry(heard: dict[str, Lead]) -> None:
    result = feedback.counts(CONTRACT, since=SINCE, until=UNTIL, by="segment")

    _, objections = table(result, "objections")
    _, losses = table(result, "losses")
    assert objections == [("software", 3, [2, 0, 1]), ("retail", 2, [1, 1, 0])]
    assert losses == [
        ("retail", 1, [1, 0, 0]),
        ("software", 1, [0, 1, 0]),
        ("(no segment)", 1, [0, 0, 1]),
    ]


def test_without_a_range_every_event_counts(heard: dict[str, Lead]) -> None:
    result = feedback.counts(CONTRACT, by="source")

    assert result["objections"]["total"] == 7
    assert result["since"] is None and result["until"] is None


def test_a_period_with_no_feedback_has_empty_tables(heard: dict[str, Lead]) -> None:
    result = feedback.counts(CONTRACT, since=date(2019, 1, 1), until=date(2019, 1, 31))

    for name in ("objections", "losses"):
        assert result[name] == {"total": 0, "columns": [], "rows": []}


def test_a_label_the_contract_does_not_know_keeps_its_key(
    version: ContractVersion,
) -> None:
    objection(version, lead(version), "legal_review", MARCH_5)

    result = feedback.counts(CONTRACT, since=SINCE, until=UNTIL)

    assert result["objections"]["columns"][0]["label"] == "legal_review"


def test_the_notes_of_a_label_are_read_newest_first(heard: dict[str, Lead]) -> None:
    found = feedback.notes(
        CONTRACT, feedback.OBJECTION, "price", since=SINCE, until=UNTIL
    )

    assert found["label"] == "Too expensive"
    assert found["total"] == 3
    assert [(n["lead"].pk, n["note"]) for n in found["notes"]] == [
        (heard["ana"].pk, "still too dear"),
        (heard["bo"].pk, "price came up"),
        (heard["ana"].pk, "price came up"),
    ]


def test_the_notes_can_be_narrowed_to_one_group(heard: dict[str, Lead]) -> None:
    paid = feedback.notes(
        CONTRACT,
        feedback.OBJECTION,
        "price",
        since=SINCE,
        until=UNTIL,
        by="source",
        value="paid_search",
    )
    nowhere = feedback.notes(
        CONTRACT, feedback.OBJECTION, "timing", by="source", value=None
    )

    assert [n["lead"].pk for n in paid["notes"]] == [heard["bo"].pk]
    assert nowhere["total"] == 2


def test_the_notes_of_losses_with_no_reason_are_found(heard: dict[str, Lead]) -> None:
    found = feedback.notes(CONTRACT, feedback.LOSS, None, since=SINCE, until=UNTIL)

    assert found["label"] == "no reason recorded"
    assert [n["lead"].pk for n in found["notes"]] == [heard["fay"].pk]


def test_the_range_and_breakdown_are_checked() -> None:
    with pytest.raises(ValueError, match="is after until"):
        feedback.counts(CONTRACT, since=UNTIL, until=SINCE)

    with pytest.raises(ValueError, match='unknown breakdown "owner"'):
        feedback.counts(CONTRACT, by="owner")
