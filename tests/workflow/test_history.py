from __future__ import annotations

from datetime import UTC, datetime

from leadrelay.contract import default_text, parse
from leadrelay.workflow.history import LeadRecord, derive

CONTRACT = parse(default_text())
T0 = datetime(2018, 3, 5, 10, tzinfo=UTC)
T1 = datetime(2018, 3, 20, 10, tzinfo=UTC)
T2 = datetime(2018, 4, 2, 10, tzinfo=UTC)


def kinds(record: LeadRecord) -> list[tuple[str, str, datetime | None, str]]:
    return [
        (e.kind, e.stage, e.at, e.milestone) for e in derive(record, CONTRACT).events
    ]


def test_a_new_inquiry_has_one_event_at_its_own_time() -> None:
    record = LeadRecord(external_id="a", created_at=T0)

    assert kinds(record) == [("created", "inquiry", T0, "")]
    assert derive(record, CONTRACT).reached_rank == 0


def test_a_won_lead_without_dates_in_between_was_qualified_at_an_unknown_time() -> None:
    record = LeadRecord(external_id="a", created_at=T0, stage="won", closed_at=T2)

    events = kinds(record)

    assert events[0] == ("created", "inquiry", T0, "")
    assert ("outreach", "inquiry", None, "contacted") in events
    assert ("stage", "qualified", None, "qualified") in events
    assert events[-1] == ("won", "won", T2, "won")
    derived = derive(record, CONTRACT)
    assert derived.reached_rank == 4
    assert derived.closed_at == T2
    assert derived.last_event_at == T2


def test_a_dated_stage_entry_carries_the_qualified_milestone() -> None:
    record = LeadRecord(
        external_id="a",
        created_at=T0,
        stage="lost",
        entered={"opportunity": T1},
        closed_at=T2,
    )

    events = kinds(record)

    assert ("stage", "opportunity", T1, "qualified") in events
    assert events[-1] == ("lost", "lost", T2, "lost")
    assert derive(record, CONTRACT).reached_rank == 3


def test_a_lost_lead_that_never_progressed_reached_nothing() -> None:
    record = LeadRecord(external_id="a", created_at=T0, stage="lost", closed_at=T1)

    derived = derive(record, CONTRACT)

    assert derived.reached_rank == 0
    assert [e.milestone for e in derived.events] == ["", "lost"]


def test_an_event_before_the_lead_came_in_is_kept_and_reported() -> None:
    record = LeadRecord(external_id="a", created_at=T2, stage="won", closed_at=T0)

    derived = derive(record, CONTRACT)

    assert derived.contradictions == ("won",)
    assert derived.events[-1].at == T0


def test_the_same_record_has_the_same_fingerprint() -> None:
    a = LeadRecord(external_id="a", created_at=T0, extra={"x": "1"})
    b = LeadRecord(external_id="a", created_at=T0, extra={"x": "1"})
    c = LeadRecord(external_id="a", created_at=T1, extra={"x": "1"})

    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
