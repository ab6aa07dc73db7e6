"""The one place where a person creates or changes a lead.

Every operation runs in one transaction. It loads the lead under a row lock,
judges the change with the contract's pure gates and then does one of two
things: it raises `Refused` naming every unmet condition, having changed
nothing, or it applies the change and writes one event saying who did what,
when, in which stage the lead ended up, under which contract version, and
what each changed field was before and after.

The web app and the command line call these functions; the import takes its
own batch path (`workflow.bulk`) for speed. Who may call which operation is
decided by `workflow.roles`, before the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leadrelay.contract.gates import (
    missing,
    missing_for_handoff,
    missing_for_stage,
    note_problem,
)
from leadrelay.contract.model import REQUIREMENTS, Contract, Stage
from leadrelay.models import Event, EventKind, KnownEmail, Lead, Milestone, Team
from leadrelay.sla import clocks
from leadrelay.workflow.bulk import contract_version
from leadrelay.workflow.roles import owner_problem
from leadrelay.workflow.status import is_handed_off, stage_of

#: How an outreach was made; the form offers these.
OUTREACH_CHANNELS: dict[str, str] = {
    "email": "Email",
    "call": "Call",
    "meeting": "Meeting",
    "message": "Chat or text message",
    "other": "Other",
}

#: The fields a person sets directly, on creation or later.
EDITABLE = (
    "email",
    "phone",
    "name",
    "company",
    "source",
    "campaign",
    "industry",
    "company_size",
    "employees",
    "location",
    "intent",
)
NEXT_ACTION = ("next_action", "next_action_owner", "next_action_due")

#: The fields whose value before and after a change its event records.
TRACKED = (
    EDITABLE
    + NEXT_ACTION
    + (
        "owner",
        "stage",
        "reached_rank",
        "first_outreach_at",
        "closed_at",
        "loss_reason",
        "loss_note",
    )
)


class Refused(Exception):
    """A change that the contract or the lead's state does not allow.

    Nothing was changed. `reasons` names every unmet condition as something
    still needed, so that the message reads as a to-do list:
    "handoff needs: ICP tag industry; next action due time".
    """

    def __init__(self, action: str, reasons: Sequence[str]) -> None:
        self.action = action
        self.reasons = list(reasons)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.action} needs: {'; '.join(self.reasons)}"

    def __str__(self) -> str:
        return self.message


def create(actor: str, contract: Contract, fields: Mapping[str, Any]) -> Lead:
    """Create a lead in the contract's first stage; the contact clock starts now."""
    now = timezone.now()
    values = _clean(fields, EDITABLE + NEXT_ACTION)
    lead = Lead(
        stage=contract.first_stage.key,
        reached_rank=0,
        created_at=now,
        **values,
    )
    problems = _field_problems(contract, values, now)
    problems += missing(contract, contract.lead_requires, lead.facts())
    _refuse_if("create", problems)

    with transaction.atomic():
        _record(
            lead,
            _snapshot(Lead()),
            EventKind.CREATED,
            actor,
            contract,
            now,
            data={"source": lead.source},
        )
        clocks.lead_created(lead, contract, now)

    return lead


def update(
    lead: Lead, actor: str, contract: Contract, fields: Mapping[str, Any]
) -> Lead:
    """Change a lead's own fields; an edit that changes nothing writes nothing."""
    now = timezone.now()
    values = _clean(fields, EDITABLE)

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if not changed:
            return current

        for name, value in changed.items():
            setattr(current, name, value)

        problems = _field_problems(contract, changed, now)
        problems += missing(contract, contract.lead_requires, current.facts())
        _refuse_if("edit", problems)

        _record(current, before, EventKind.UPDATED, actor, contract, now)
        return current


def set_next_action(
    lead: Lead,
    actor: str,
    contract: Contract,
    text: str,
    due: datetime | None,
    owner: str = "",
) -> Lead:
    """Say what happens next, who does it (default: the lead's owner) and by when."""
    now = timezone.now()
    values = _clean(
        {"next_action": text, "next_action_owner": owner, "next_action_due": due},
        NEXT_ACTION,
    )

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        if not values["next_action"]:
            problems.append("a description of the next action")
        if values["next_action_due"] is None:
            problems.append("a next action due time")
        problems += _field_problems(contract, values, now)
        _refuse_if("next action", problems)

        for name, value in values.items():
            setattr(current, name, value)

        _record(current, before, EventKind.NEXT_ACTION, actor, contract, now)
        return current


def handoff(
    lead: Lead,
    actor: str,
    contract: Contract,
    *,
    owner: str = "",
    team: Team | None = None,
) -> Lead:
    """Hand a lead from marketing to sales once the contract's checklist holds.

    The owner is `owner` when given; otherwise, for a team that assigns by
    round robin, the team's next available member; otherwise nobody yet, and
    the team claims it from the inbox.
    """
    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        if not problems and is_handed_off(contract, current):
            problems.append("a lead still with marketing (it was handed off already)")

        member = None
        if team is None and contract.handoff_team:
            team = Team.objects.filter(name=contract.handoff_team).first()
        rotates = team is not None and (
            contract.handoff_assign == "round_robin"
            or (contract.handoff_assign == "team" and team.rotates)
        )
        if owner:
            problem = owner_problem(owner)
            if problem:
                problems.append(problem)
            current.owner = owner
        elif team is not None and rotates:
            team = Team.objects.select_for_update().get(pk=team.pk)
            member = team.next_in_rotation()
            if member is None:
                problems.append(
                    f"someone in {team.name} to take it (everyone is away or "
                    "inactive; pick an owner instead)"
                )
            else:
                current.owner = member.user.username

        problems += missing_for_handoff(contract, current.facts())
        _refuse_if("handoff", problems)

        if member is not None and team is not None:
            team.turns += 1
            team.save(update_fields=["turns"])
            member.last_turn = team.turns
            member.assigned += 1
            member.save(update_fields=["last_turn", "assigned"])

        how = "chosen" if owner else "round_robin" if member else "unassigned"
        _record(
            current,
            before,
            EventKind.HANDOFF,
            actor,
            contract,
            now,
            data={"team": team.name if team else None, "assignment": how},
        )
        clocks.handed_off(current, contract, now)
        return current


def claim(lead: Lead, actor: str, contract: Contract) -> Lead:
    """Make `actor` the owner of an unowned lead; of two at once, one wins.

    The owner is taken with a conditional UPDATE: whichever transaction
    writes first gets the lead, and the other, blocked on the row until the
    first commits, finds the owner set and changes no row.
    """
    now = timezone.now()

    with transaction.atomic():
        seen = Lead.objects.get(pk=lead.pk)
        problems = _open_problems(contract, seen)
        if not problems and not is_handed_off(contract, seen):
            problems.append("a handoff from marketing first")
        if seen.owner:
            problems.append(f"an unowned lead ({seen.owner} owns it)")
        problem = owner_problem(actor)
        if problem:
            problems.append(problem)
        _refuse_if("claim", problems)

        taken = Lead.objects.filter(pk=seen.pk, owner="").update(owner=actor)
        if not taken:
            winner = Lead.objects.values_list("owner", flat=True).get(pk=seen.pk)
            raise Refused("claim", [f"an unowned lead ({winner} claimed it first)"])

        current = _locked(seen)
        before = _snapshot(current)
        before["owner"] = ""
        _record(
            current,
            before,
            EventKind.OWNER,
            actor,
            contract,
            now,
            data={"how": "claimed"},
        )
        clocks.owner_changed(current)
        return current


def assign(lead: Lead, actor: str, contract: Contract, owner: str) -> Lead:
    """Give a lead that sales has to another owner, or to its first one."""
    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        if not problems and not is_handed_off(contract, current):
            problems.append("a handoff from marketing first")
        if not owner:
            problems.append("an owner to assign it to")
        elif owner == current.owner:
            problems.append(f"a different owner ({owner} owns it already)")
        else:
            problem = owner_problem(owner)
            if problem:
                problems.append(problem)
        _refuse_if("assign", problems)

        current.owner = owner
        _record(
            current,
            before,
            EventKind.OWNER,
            actor,
            contract,
            now,
            data={"how": "assigned"},
        )
        clocks.owner_changed(current)
        return current


def log_outreach(
    lead: Lead, actor: str, contract: Contract, channel: str, note: str = ""
) -> Lead:
    """Record a contact attempt; the first one stops the contact clock."""
    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        if not current.owner:
            problems.append("an owner (claim the lead or have it assigned first)")
        if channel not in OUTREACH_CHANNELS:
            problems.append(f"a channel: one of {', '.join(OUTREACH_CHANNELS)}")
        _refuse_if("outreach", problems)

        first = current.first_outreach_at is None
        if first:
            current.first_outreach_at = now

        _record(
            current,
            before,
            EventKind.OUTREACH,
            actor,
            contract,
            now,
            milestone=Milestone.CONTACTED if first else "",
            data={"channel": channel, "note": note.strip(), "first": first},
        )
        clocks.outreach_logged(current, contract, now)
        return current


def move(lead: Lead, actor: str, contract: Contract, stage: str) -> Lead:
    """Move a lead to another open stage, or to Won, through the stage's gate."""
    if not contract.has_stage(stage):
        known = ", ".join(s.key for s in contract.stages)
        raise Refused(
            f"move to {stage}",
            [f'a stage the contract has ("{stage}" is not one of {known})'],
        )

    target = contract.stage(stage)
    if target.outcome == "won":
        return close_won(lead, actor, contract)

    action = f"move to {target.label}"
    if target.outcome == "lost":
        raise Refused(action, ["a loss reason and a note: use close lost"])

    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        _refuse_if(action, _entry_problems(contract, current, target))

        milestone = _enter(contract, current, target)
        _record(
            current,
            before,
            EventKind.STAGE,
            actor,
            contract,
            now,
            milestone=milestone,
            data={"from": before["stage"], "to": target.key},
        )
        return current


def close_won(lead: Lead, actor: str, contract: Contract) -> Lead:
    won = contract.won_stage
    assert won is not None, "the contract loader requires a won stage"
    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        _refuse_if("close won", _entry_problems(contract, current, won))

        qualified = _enter(contract, current, won)
        current.closed_at = now
        if qualified:
            # One event carries one milestone: a lead won without passing the
            # qualified stage gets a second event marking that it reached it,
            # so the pulse counts it as qualified in this week.
            _event(
                current,
                EventKind.STAGE,
                actor,
                contract,
                now,
                milestone=Milestone.QUALIFIED,
                data={"from": before["stage"], "to": won.key},
            )
        _record(
            current,
            before,
            EventKind.WON,
            actor,
            contract,
            now,
            milestone=Milestone.WON,
            data={"from": before["stage"]},
        )
        return current


def close_lost(
    lead: Lead, actor: str, contract: Contract, reason: str, note: str
) -> Lead:
    """Close a lead lost with a reason from the contract's list and a note."""
    lost = contract.lost_stage
    assert lost is not None, "the contract loader requires a lost stage"
    now = timezone.now()
    note = note.strip()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        if reason not in contract.loss_reason_keys():
            label = REQUIREMENTS["loss_reason"]
            problems.append(f'{label} ("{reason}" is not on it)' if reason else label)
        problem = note_problem(contract, note)
        if problem:
            problems.append(f"{REQUIREMENTS['loss_note']} ({problem})")

        current.loss_reason = reason
        current.loss_note = note
        covered = (REQUIREMENTS["loss_reason"], REQUIREMENTS["loss_note"])
        problems += [
            p
            for p in missing_for_stage(contract, lost.key, current.facts())
            if p not in covered
        ]
        _refuse_if("close lost", problems)

        current.stage = lost.key
        current.closed_at = now
        _record(
            current,
            before,
            EventKind.LOST,
            actor,
            contract,
            now,
            milestone=Milestone.LOST,
            data={"reason": reason, "note": note, "from": before["stage"]},
        )
        return current


def reopen(lead: Lead, actor: str, contract: Contract) -> Lead:
    """Bring a lost lead back to the open stage it was lost from."""
    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        stage = stage_of(contract, current)
        if stage is None or stage.outcome != "lost":
            if stage is not None and stage.outcome == "won":
                why = "it was won, and a won lead stays won"
            else:
                where = stage.label if stage else current.stage
                why = f"it is open, in {where}"
            raise Refused("reopen", [f"a lost lead ({why})"])

        target = _stage_before_loss(contract, current)
        current.stage = target.key
        current.closed_at = None
        current.loss_reason = ""
        current.loss_note = ""
        _record(
            current,
            before,
            EventKind.REOPENED,
            actor,
            contract,
            now,
            data={"to": target.key},
        )
        clocks.reopened(current, contract, now)
        return current


def log_objection(
    lead: Lead, actor: str, contract: Contract, label: str, note: str
) -> Lead:
    """Record an objection heard, with a label from the contract and a note."""
    now = timezone.now()
    note = note.strip()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        if label not in contract.objection_keys():
            wanted = "an objection from the contract's list"
            problems.append(f'{wanted} ("{label}" is not on it)' if label else wanted)
        if not note:
            problems.append("a note saying what was said")
        _refuse_if("objection", problems)

        _record(
            current,
            before,
            EventKind.OBJECTION,
            actor,
            contract,
            now,
            data={"label": label, "note": note},
        )
        return current


# -- judging -------------------------------------------------------------------


def _refuse_if(action: str, problems: list[str]) -> None:
    if problems:
        raise Refused(action, problems)


def _open_problems(contract: Contract, lead: Lead) -> list[str]:
    stage = stage_of(contract, lead)
    if stage is None or stage.is_open:
        return []

    if stage.outcome == "won":
        return ["an open lead (it was won, and a won lead stays won)"]

    return ["an open lead (it was lost; reopen it first)"]


def _entry_problems(contract: Contract, lead: Lead, target: Stage) -> list[str]:
    """Return what stands between the lead and `target`.

    That is its state, the stages it would skip that may not be skipped, and
    the target's entry criteria.
    """
    problems = _open_problems(contract, lead)
    if lead.stage == target.key:
        problems.append(f"a stage other than the one it is in ({target.label})")

    current = stage_of(contract, lead)
    start = current.position if current else 0
    for stage in contract.open_stages:
        skipped = start < stage.position < target.position
        if skipped and not stage.skippable and stage.position > lead.reached_rank:
            problems.append(f"{stage.label} first ({stage.label} cannot be skipped)")

    return problems + missing_for_stage(contract, target.key, lead.facts())


def _field_problems(
    contract: Contract, values: Mapping[str, Any], now: datetime
) -> list[str]:
    """Return what is wrong with values a person typed, field by field."""
    out = []
    source = values.get("source")
    if source is not None and contract.sources and source not in contract.sources:
        allowed = ", ".join(contract.sources)
        out.append(
            f'a source from the contract\'s list ("{source}" is not one of {allowed})'
        )

    email = values.get("email")
    if email and ("@" not in email or " " in email):
        out.append(f'an email address like name@example.com ("{email}" is not one)')

    employees = values.get("employees")
    if employees is not None and employees < 0:
        out.append("a number of employees of 0 or more")

    due = values.get("next_action_due")
    if due is not None and due < now:
        out.append("a next action due time in the future")

    owner = values.get("next_action_owner")
    if owner and not User.objects.filter(username=owner, is_active=True).exists():
        out.append(f'a next action owner with an active account ("{owner}" has none)')

    return out


def _clean(fields: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"not a field a person sets here: {', '.join(unknown)}")

    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("employees", "next_action_due"):
            out[name] = value
        elif name == "source":
            out[name] = (value or "").strip() or None
        else:
            out[name] = (value or "").strip()

    return out


# -- changing ------------------------------------------------------------------


def _locked(lead: Lead) -> Lead:
    # On PostgreSQL this holds the row until commit, so two changes to one
    # lead queue up; SQLite's BEGIN IMMEDIATE already serialises writers.
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _enter(contract: Contract, lead: Lead, target: Stage) -> str:
    """Put the lead in `target`; return "qualified" if it first gets that far."""
    rank = contract.rank(target.key)
    first_qualified = (
        rank >= contract.qualified_rank > lead.reached_rank
        and not Event.objects.filter(lead=lead, milestone=Milestone.QUALIFIED).exists()
    )
    lead.stage = target.key
    lead.reached_rank = max(lead.reached_rank, rank)
    return Milestone.QUALIFIED if first_qualified else ""


def _stage_before_loss(contract: Contract, lead: Lead) -> Stage:
    last_loss = (
        Event.objects.filter(lead=lead, kind=EventKind.LOST)
        .order_by("-at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    key = (last_loss or {}).get("from")
    if key and contract.has_stage(key) and contract.stage(key).is_open:
        return contract.stage(key)

    return contract.first_stage


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in TRACKED}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _record(
    lead: Lead,
    before: dict[str, Any],
    kind: str,
    actor: str,
    contract: Contract,
    now: datetime,
    *,
    milestone: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Save the lead and write this change's event, with what each field was."""
    changes = {
        name: {"before": _plain(old), "after": _plain(getattr(lead, name))}
        for name, old in before.items()
        if getattr(lead, name) != old
    }
    lead.last_event_at = now
    lead.save()

    payload = dict(data or {})
    if changes:
        payload["changes"] = changes

    return _event(lead, kind, actor, contract, now, milestone=milestone, data=payload)


def _event(
    lead: Lead,
    kind: str,
    actor: str,
    contract: Contract,
    now: datetime,
    *,
    milestone: str,
    data: dict[str, Any],
) -> Event:
    return Event.objects.create(
        lead=lead,
        kind=kind,
        at=now,
        actor=actor,
        stage=lead.stage,
        milestone=milestone,
        data=data,
        contract_version=contract_version(contract),
    )


# -- inquiries from the public forms and the JSON intake --------------------------


def normal_email(text: str) -> str:
    """Return an address as intake compares it: case and surrounding spaces ignored."""
    return text.strip().lower()


def take_inquiry(
    actor: str, contract: Contract, fields: Mapping[str, Any]
) -> tuple[Lead, bool]:
    """Create a lead from an inquiry, or add it to the lead its email already names.

    Returns the lead and whether it is new. A known person's inquiry is added
    to their lead's history by `add_inquiry`, and is not a new lead.

    Two inquiries from one new address at once: each creates its lead in a
    savepoint and then claims the address, which is unique (`KnownEmail`).
    On PostgreSQL the second claim waits for the first transaction, fails,
    and rolls its own lead back; SQLite's BEGIN IMMEDIATE has already queued
    the second behind the first, which it then finds. Either way the second
    inquiry lands on the first one's lead.
    """
    values = _clean(fields, EDITABLE)
    address = normal_email(values.get("email") or "")
    typed = values.get("email") or ""
    if address:
        values["email"] = address

    # No savepoint of its own: a failure here fails the caller's transaction.
    with transaction.atomic(savepoint=False):
        known = _known_lead(address, typed) if address else None
        if known is None:
            try:
                with transaction.atomic():
                    lead = create(actor, contract, values)
                    if address:
                        KnownEmail.objects.create(address=address, lead=lead)
                return lead, True
            except IntegrityError:
                known = (
                    KnownEmail.objects.select_related("lead").get(address=address).lead
                )

        return add_inquiry(known, actor, contract, values), False


def add_inquiry(
    lead: Lead, actor: str, contract: Contract, fields: Mapping[str, Any]
) -> Lead:
    """Record on a lead's history that its person got in touch again.

    The event is an "updated" one whose data holds the inquiry as sent; the
    lead's own fields are left as they are, and its idle time too, since
    stalling measures the team's work rather than the person's. The pulse
    counts leads in by "created" events, so a repeat is not a new lead.
    """
    now = timezone.now()
    values = _clean(fields, EDITABLE)
    _refuse_if("inquiry", _field_problems(contract, values, now))
    sent = {name: value for name, value in values.items() if value not in ("", None)}

    with transaction.atomic():
        current = _locked(lead)
        _event(
            current,
            EventKind.UPDATED,
            actor,
            contract,
            now,
            milestone="",
            data={"inquiry": sent},
        )
        return current


def _known_lead(address: str, typed: str) -> Lead | None:
    """Return the lead an address names, recording the address the first time.

    A lead from another entry point (the web app, an import) has no
    `KnownEmail` row yet; the email index finds it as stored in lower case or
    as typed. Intake asks this once per inquiry, and most are from new
    people, so it is one query, written out: building it with the ORM costs
    more than running it.
    """
    sql = (
        f"SELECT lead_id, 0 FROM {KnownEmail._meta.db_table} WHERE address = %s "
        f"UNION ALL SELECT id, 1 FROM {Lead._meta.db_table} WHERE email IN (%s, %s) "
        "ORDER BY 2, 1 LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [address, address, typed])
        found = cursor.fetchone()
    if found is None:
        return None

    lead_id, by_lead_email = found
    if not by_lead_email:
        return Lead.objects.get(pk=lead_id)

    row, _ = KnownEmail.objects.get_or_create(
        address=address, defaults={"lead_id": lead_id}
    )
    return Lead.objects.get(pk=row.lead_id)


# -- pausing an SLA clock ---------------------------------------------------------


def pause_clock(
    lead: Lead, actor: str, contract: Contract, note: str, sla: str = ""
) -> Lead:
    """Stop a lead's SLA clock while sales waits on the customer.

    Only an SLA with `pausable = true` may be paused, and only before its
    deadline; `sla` names it when several run. The clock time it stands
    still is added to its deadline when it is resumed.
    """
    now = timezone.now()
    note = note.strip()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        clock, clock_problems = clocks.clock_to_pause(current, contract, sla, now)
        problems += clock_problems
        if not note:
            problems.append("a note saying what you are waiting for")
        _refuse_if("pause the clock", problems)

        assert clock is not None
        clocks.pause(clock, now)
        _record(
            current,
            before,
            EventKind.UPDATED,
            actor,
            contract,
            now,
            data={"clock": "paused", "sla": clock.sla, "note": note},
        )
        return current


def resume_clock(lead: Lead, actor: str, contract: Contract, sla: str = "") -> Lead:
    """Start a paused SLA clock again; its deadline moves on by the pause."""
    now = timezone.now()

    with transaction.atomic():
        current = _locked(lead)
        before = _snapshot(current)
        problems = _open_problems(contract, current)
        clock, clock_problems = clocks.clock_to_resume(current, contract, sla)
        problems += clock_problems
        _refuse_if("resume the clock", problems)

        assert clock is not None
        clocks.resume(clock, contract, now)
        _record(
            current,
            before,
            EventKind.UPDATED,
            actor,
            contract,
            now,
            data={
                "clock": "resumed",
                "sla": clock.sla,
                "due": clock.due_at.isoformat(),
            },
        )
        return current
