"""Imported history: the events a lead's recorded past implies, and nothing more.

Pure: from one `LeadRecord` and the contract it derives the lead's current
state and the events to write, each at the export's own timestamp. A step the
export says happened without saying when gets an event with no time, so that
it counts as reached but never lands in a week.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from leadrelay.contract.model import Contract, Stage


@dataclass
class LeadRecord:
    """One lead as an export describes it, already mapped to the contract."""

    external_id: str = ""
    email: str = ""
    phone: str = ""
    name: str = ""
    company: str = ""
    source: str | None = None
    campaign: str = ""
    industry: str = ""
    company_size: str = ""
    employees: int | None = None
    location: str = ""
    intent: str = ""
    owner: str = ""
    next_action: str = ""
    next_action_owner: str = ""
    next_action_due: datetime | None = None
    stage: str = ""
    created_at: datetime | None = None
    first_outreach_at: datetime | None = None
    # When the lead entered a stage, for the stages the export dates.
    entered: dict[str, datetime | None] = field(default_factory=dict)
    closed_at: datetime | None = None
    loss_reason: str = ""
    loss_note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Return a digest of everything the record says, to spot an unchanged re-import."""
        values = list(_record_values(self))
        payload = repr((values, sorted(self.entered.items()), sorted(self.extra.items())))
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()


_RECORD_FIELDS = tuple(
    f.name for f in fields(LeadRecord) if f.name not in ("entered", "extra")
)
_record_values = attrgetter(*_RECORD_FIELDS)


@dataclass(frozen=True)
class PastEvent:
    kind: str
    at: datetime | None
    stage: str
    milestone: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Derived:
    """The state and events one record implies."""

    stage: str
    reached_rank: int
    closed_at: datetime | None
    first_outreach_at: datetime | None
    last_event_at: datetime | None
    events: tuple[PastEvent, ...]
    # Events dated before the lead came in: kept as recorded, reported.
    contradictions: tuple[str, ...]


@dataclass(frozen=True)
class _Funnel:
    """What `derive` asks of a contract, looked up once rather than per record."""

    first: str
    stages: dict[str, Stage]
    ranks: dict[str, int]
    contacted_rank: int
    # None when the qualified stage is not a stage: `derive` raises then.
    qualified_rank: int | None


# A contract is frozen, so what it implies can be kept beside it, keyed by
# identity; the contract is held too, so that its id is not reused.
_funnels: dict[int, tuple[Contract, _Funnel]] = {}


def _funnel(contract: Contract) -> _Funnel:
    kept = _funnels.get(id(contract))
    if kept is not None and kept[0] is contract:
        return kept[1]

    stages: dict[str, Stage] = {}
    for stage in contract.stages:
        stages.setdefault(stage.key, stage)
    ranks = {
        key: -1 if stage.outcome == "lost" else stage.position
        for key, stage in stages.items()
    }
    contacted = stages.get("contacted")
    funnel = _Funnel(
        first=contract.first_stage.key,
        stages=stages,
        ranks=ranks,
        contacted_rank=contacted.position if contacted is not None else 1,
        qualified_rank=ranks.get(contract.qualified_stage),
    )
    if len(_funnels) >= 16:
        _funnels.clear()
    _funnels[id(contract)] = (contract, funnel)
    return funnel


def derive(record: LeadRecord, contract: Contract) -> Derived:
    funnel = _funnel(contract)
    first = funnel.first
    ranks = funnel.ranks
    stage_key = record.stage or first
    stage = funnel.stages[stage_key]
    created = record.created_at
    events: list[PastEvent] = [PastEvent("created", created, first, data={"source": record.source})]

    final_rank = stage.position if stage.outcome != "lost" else -1
    reached = max(
        [0, final_rank] + [ranks[k] for k in record.entered if k in ranks]
    )

    # Reaching a stage at or past "contacted" means someone made contact,
    # even where the export does not say when.
    outreach_at = record.first_outreach_at
    if outreach_at is not None or reached >= funnel.contacted_rank:
        events.append(PastEvent("outreach", outreach_at, stage_key if stage.is_open else first, "contacted"))

    # Stage entries: each open stage past the first that the lead reached and
    # the export dates, plus the current open stage even if undated.
    steps: list[tuple[int, str, datetime | None]] = []
    for key, at in record.entered.items():
        rank = ranks[key]
        if rank > 0 and funnel.stages[key].is_open and rank <= reached:
            steps.append((rank, key, at))
    if stage.is_open and stage.position > 0 and stage_key not in record.entered:
        steps.append((stage.position, stage_key, None))
    steps.sort(key=lambda s: s[0])

    qualified_rank = funnel.qualified_rank
    if qualified_rank is None:
        raise KeyError(contract.qualified_stage)
    qualified_marked = False
    for rank, key, at in steps:
        milestone = ""
        if rank >= qualified_rank and not qualified_marked:
            milestone = "qualified"
            qualified_marked = True
        events.append(PastEvent("stage", at, key, milestone, {"to": key}))

    closed_at = None
    if stage.outcome is not None:
        closed_at = record.closed_at
        if stage.outcome == "won" and not qualified_marked and reached >= qualified_rank:
            # The export says the lead was won, so it passed Qualified, but not when.
            events.append(PastEvent("stage", None, contract.qualified_stage, "qualified", {"to": contract.qualified_stage}))
        data: dict[str, Any] = {}
        if stage.outcome == "lost":
            data = {"reason": record.loss_reason, "note": record.loss_note}
        events.append(PastEvent(stage.outcome, closed_at, stage_key, stage.outcome, data))

    known = [e.at for e in events if e.at is not None]
    contradictions: tuple[str, ...] = ()
    if created is not None:
        early = [e.kind for e in events[1:] if e.at is not None and e.at < created]
        contradictions = tuple(early)

    return Derived(
        stage=stage_key,
        reached_rank=reached,
        closed_at=closed_at,
        first_outreach_at=outreach_at,
        last_event_at=max(known) if known else None,
        events=tuple(events),
        contradictions=contradictions,
    )
