from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from leadrelay.contract import Contract, default_text, parse
from leadrelay.models import (
    Assignment,
    ContractVersion,
    Event,
    Lead,
    Team,
    TeamMember,
)
from leadrelay.workflow import ops
from leadrelay.workflow.ops import Refused

pytestmark = pytest.mark.django_db

CONTRACT = parse(default_text())
# The same funnel, except that Contacted may not be skipped.
STRICT = parse(
    default_text().replace(
        'key = "contacted"\n', 'key = "contacted"\nskippable = false\n', 1
    )
)


def person(username: str, *roles: str, active: bool = True) -> User:
    user = User.objects.create_user(username, is_active=active)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture(autouse=True)
def people() -> None:
    person("mia", "marketing")
    person("sam", "sales")
    person("sue", "sales")


def ready(**overrides: Any) -> dict[str, Any]:
    """Return the fields of a lead whose handoff checklist holds."""
    fields: dict[str, Any] = {
        "email": "ana@example.com",
        "name": "Ana Lima",
        "company": "Lima Tools",
        "source": "web_form",
        "industry": "software",
        "company_size": "11-50",
        "employees": 40,
        "location": "Berlin",
        "intent": "asked for a demo",
        "next_action": "call to book the demo",
        "next_action_owner": "mia",
        "next_action_due": timezone.now() + timedelta(days=2),
    }
    fields.update(overrides)
    return fields


def new_lead(contract: Contract = CONTRACT, **overrides: Any) -> Lead:
    return ops.create("mia", contract, ready(**overrides))


def handed(contract: Contract = CONTRACT, owner: str = "", **overrides: Any) -> Lead:
    return ops.handoff(new_lead(contract, **overrides), "mia", contract, owner=owner)


def contacted(contract: Contract = CONTRACT) -> Lead:
    lead = handed(contract, owner="sam")
    lead = ops.log_outreach(lead, "sam", contract, "call", "left a message")
    return ops.move(lead, "sam", contract, "contacted")


def events(lead: Lead) -> list[Event]:
    return list(Event.objects.filter(lead=lead).order_by("id"))


def last_event(lead: Lead) -> Event:
    return Event.objects.filter(lead=lead).latest("id")


def everything() -> dict[str, list[dict[str, Any]]]:
    """Return every row a workflow operation could touch."""
    return {
        "leads": list(Lead.objects.order_by("pk").values()),
        "events": list(Event.objects.order_by("pk").values()),
        "teams": list(Team.objects.order_by("pk").values()),
        "members": list(TeamMember.objects.order_by("pk").values()),
        "versions": list(ContractVersion.objects.order_by("pk").values()),
    }


# -- creating and editing -------------------------------------------------------


def test_create_stores_the_lead_in_the_first_stage_and_writes_a_created_event() -> None:
    lead = new_lead()

    lead.refresh_from_db()
    assert lead.stage == "inquiry"
    assert lead.created_at is not None
    assert lead.last_event_at == lead.created_at
    [event] = events(lead)
    assert event.kind == "created"
    assert event.actor == "mia"
    assert event.at == lead.created_at
    assert event.stage == "inquiry"
    assert event.contract_version.sha256 == CONTRACT.sha256
    assert event.data["source"] == "web_form"
    assert event.data["changes"]["industry"] == {"before": "", "after": "software"}


def test_create_is_refused_without_an_email_a_phone_or_a_record_id() -> None:
    with pytest.raises(Refused) as refused:
        ops.create("mia", CONTRACT, {"name": "Nobody"})

    assert refused.value.reasons == ["an email, a phone or a record id"]
    assert Lead.objects.count() == 0


def test_create_lists_every_problem_at_once() -> None:
    past = timezone.now() - timedelta(hours=1)

    with pytest.raises(Refused) as refused:
        ops.create(
            "mia",
            CONTRACT,
            {"source": "billboard", "email": "not an address", "next_action_due": past},
        )

    assert refused.value.action == "create"
    reasons = refused.value.reasons
    assert len(reasons) == 3
    assert reasons[0].startswith('a source from the contract\'s list ("billboard"')
    assert reasons[1].startswith("an email address like name@example.com")
    assert reasons[2] == "a next action due time in the future"


def test_create_refuses_a_next_action_owner_without_an_account() -> None:
    with pytest.raises(Refused) as refused:
        new_lead(next_action_owner="zed")

    assert refused.value.reasons == [
        'a next action owner with an active account ("zed" has none)'
    ]


def test_update_records_each_changed_field_before_and_after() -> None:
    lead = new_lead()

    lead = ops.update(lead, "sam", CONTRACT, {"industry": "retail", "company": "Lima"})

    event = last_event(lead)
    assert event.kind == "updated"
    assert event.actor == "sam"
    assert event.data["changes"] == {
        "company": {"before": "Lima Tools", "after": "Lima"},
        "industry": {"before": "software", "after": "retail"},
    }
    lead.refresh_from_db()
    assert lead.industry == "retail"


def test_an_update_that_changes_nothing_writes_no_event() -> None:
    lead = new_lead()

    ops.update(lead, "mia", CONTRACT, {"industry": "software"})

    assert len(events(lead)) == 1


def test_update_is_refused_when_it_removes_the_last_way_to_reach_the_lead() -> None:
    lead = new_lead()

    with pytest.raises(Refused) as refused:
        ops.update(lead, "mia", CONTRACT, {"email": ""})

    assert str(refused.value) == "edit needs: an email, a phone or a record id"


def test_update_keeps_an_imported_source_that_is_off_the_list_when_untouched() -> None:
    lead = new_lead()
    Lead.objects.filter(pk=lead.pk).update(source="HubSpot form")

    lead = ops.update(
        lead, "mia", CONTRACT, {"intent": "pricing page", "source": "HubSpot form"}
    )

    assert lead.intent == "pricing page"


def test_update_names_fields_it_does_not_set() -> None:
    with pytest.raises(TypeError, match="stage"):
        ops.update(new_lead(), "mia", CONTRACT, {"stage": "won"})


def test_set_next_action_records_what_who_and_when() -> None:
    lead = handed(owner="sam")
    due = timezone.now() + timedelta(days=1)

    lead = ops.set_next_action(lead, "sam", CONTRACT, "send the proposal", due, "sam")

    event = last_event(lead)
    assert event.kind == "next_action"
    assert event.data["changes"]["next_action"] == {
        "before": "call to book the demo",
        "after": "send the proposal",
    }
    assert event.data["changes"]["next_action_due"]["after"] == due.isoformat()
    assert lead.next_action_owner == "sam"


def test_set_next_action_is_refused_without_text_or_due_time() -> None:
    lead = new_lead()

    with pytest.raises(Refused) as refused:
        ops.set_next_action(lead, "mia", CONTRACT, " ", None)

    assert refused.value.reasons == [
        "a description of the next action",
        "a next action due time",
    ]


# -- handoff, owners -------------------------------------------------------------


def test_handoff_is_refused_until_the_checklist_holds() -> None:
    lead = new_lead(industry="", next_action_due=None)

    with pytest.raises(Refused) as refused:
        ops.handoff(lead, "mia", CONTRACT)

    assert str(refused.value) == "handoff needs: ICP tag industry; next action due time"


def test_handoff_without_an_owner_leaves_the_lead_for_sales_to_claim() -> None:
    lead = new_lead()

    lead = ops.handoff(lead, "mia", CONTRACT)

    event = last_event(lead)
    assert event.kind == "handoff"
    assert event.actor == "mia"
    assert event.data == {"team": None, "assignment": "unassigned"}
    assert lead.owner == ""


def test_handoff_to_a_chosen_owner_records_the_owner_change() -> None:
    lead = handed(owner="sam")

    event = last_event(lead)
    assert lead.owner == "sam"
    assert event.data["assignment"] == "chosen"
    assert event.data["changes"]["owner"] == {"before": "", "after": "sam"}


def test_handoff_to_someone_outside_sales_is_refused() -> None:
    lead = new_lead()

    with pytest.raises(Refused) as refused:
        ops.handoff(lead, "mia", CONTRACT, owner="mia")

    assert refused.value.reasons == ['an owner in sales ("mia" is not)']


def test_a_lead_is_handed_off_only_once() -> None:
    lead = handed()

    with pytest.raises(Refused) as refused:
        ops.handoff(lead, "mia", CONTRACT)

    assert refused.value.reasons == [
        "a lead still with marketing (it was handed off already)"
    ]


def test_claim_makes_the_claimer_the_one_owner() -> None:
    lead = handed()

    lead = ops.claim(lead, "sam", CONTRACT)

    event = last_event(lead)
    assert lead.owner == "sam"
    assert event.kind == "owner"
    assert event.data == {
        "how": "claimed",
        "changes": {"owner": {"before": "", "after": "sam"}},
    }


def test_claiming_an_owned_lead_is_refused_with_the_owners_name() -> None:
    lead = ops.claim(handed(), "sam", CONTRACT)

    with pytest.raises(Refused) as refused:
        ops.claim(lead, "sue", CONTRACT)

    assert str(refused.value) == "claim needs: an unowned lead (sam owns it)"


def test_a_lead_cannot_be_claimed_before_its_handoff() -> None:
    with pytest.raises(Refused) as refused:
        ops.claim(new_lead(), "sam", CONTRACT)

    assert refused.value.reasons == ["a handoff from marketing first"]


def test_only_sales_people_can_own_a_lead() -> None:
    with pytest.raises(Refused) as refused:
        ops.claim(handed(), "mia", CONTRACT)

    assert refused.value.reasons == ['an owner in sales ("mia" is not)']


def test_assign_moves_the_lead_to_another_owner() -> None:
    lead = handed(owner="sam")

    lead = ops.assign(lead, "sam", CONTRACT, "sue")

    assert lead.owner == "sue"
    assert last_event(lead).data["how"] == "assigned"


@pytest.mark.parametrize(
    ("owner", "reason"),
    [
        ("sam", "a different owner (sam owns it already)"),
        ("", "an owner to assign it to"),
        ("zed", 'an owner with an account ("zed" has none)'),
        ("old", 'an owner whose account is active ("old" is deactivated)'),
    ],
)
def test_assign_is_refused_for_an_owner_who_cannot_take_the_lead(
    owner: str, reason: str
) -> None:
    person("old", "sales", active=False)
    lead = handed(owner="sam")

    with pytest.raises(Refused) as refused:
        ops.assign(lead, "sam", CONTRACT, owner)

    assert refused.value.reasons == [reason]


# -- outreach, stages ------------------------------------------------------------


def test_the_first_outreach_stops_the_contact_clock() -> None:
    lead = handed(owner="sam")

    lead = ops.log_outreach(lead, "sam", CONTRACT, "call", "left a voicemail")

    event = last_event(lead)
    assert lead.first_outreach_at == event.at
    assert event.kind == "outreach"
    assert event.milestone == "contacted"
    assert event.data["channel"] == "call"
    assert event.data["note"] == "left a voicemail"
    assert event.data["first"] is True


def test_a_later_outreach_keeps_the_first_time_and_marks_no_milestone() -> None:
    lead = ops.log_outreach(handed(owner="sam"), "sam", CONTRACT, "call")
    first = lead.first_outreach_at

    lead = ops.log_outreach(lead, "sam", CONTRACT, "email")

    assert lead.first_outreach_at == first
    assert last_event(lead).milestone == ""
    assert Event.objects.filter(lead=lead, milestone="contacted").count() == 1


def test_outreach_needs_an_owner_and_a_known_channel() -> None:
    with pytest.raises(Refused) as refused:
        ops.log_outreach(handed(), "sam", CONTRACT, "pigeon")

    assert refused.value.reasons == [
        "an owner (claim the lead or have it assigned first)",
        "a channel: one of email, call, meeting, message, other",
    ]


def test_moving_to_a_stage_needs_its_entry_criteria() -> None:
    lead = handed(owner="sam")

    with pytest.raises(Refused) as refused:
        ops.move(lead, "sam", CONTRACT, "contacted")

    assert str(refused.value) == "move to Contacted needs: a logged first outreach"


def test_a_move_records_from_and_to_and_the_stage_after() -> None:
    lead = contacted()

    event = last_event(lead)
    assert lead.stage == "contacted"
    assert lead.reached_rank == 1
    assert event.kind == "stage"
    assert event.stage == "contacted"
    assert event.data["from"] == "inquiry"
    assert event.data["to"] == "contacted"
    assert event.data["changes"]["stage"] == {"before": "inquiry", "after": "contacted"}
    assert event.milestone == ""


def test_reaching_the_qualified_stage_is_a_milestone_only_the_first_time() -> None:
    lead = ops.move(contacted(), "sam", CONTRACT, "qualified")
    assert last_event(lead).milestone == "qualified"
    assert lead.reached_rank == 2

    lead = ops.move(lead, "sam", CONTRACT, "contacted")
    lead = ops.move(lead, "sam", CONTRACT, "opportunity")

    assert last_event(lead).milestone == ""
    assert Event.objects.filter(lead=lead, milestone="qualified").count() == 1
    assert lead.reached_rank == 3


def test_skipping_a_stage_that_cannot_be_skipped_is_refused() -> None:
    lead = ops.log_outreach(handed(STRICT, owner="sam"), "sam", STRICT, "call")

    with pytest.raises(Refused) as refused:
        ops.move(lead, "sam", STRICT, "qualified")

    assert refused.value.reasons == ["Contacted first (Contacted cannot be skipped)"]


def test_a_stage_reached_before_need_not_be_passed_again() -> None:
    lead = contacted(STRICT)
    lead = ops.move(lead, "sam", STRICT, "inquiry")

    lead = ops.move(lead, "sam", STRICT, "qualified")

    assert lead.stage == "qualified"


def test_skippable_stages_may_be_skipped() -> None:
    lead = ops.log_outreach(handed(owner="sam"), "sam", CONTRACT, "call")

    lead = ops.move(lead, "sam", CONTRACT, "opportunity")

    assert lead.stage == "opportunity"
    assert last_event(lead).milestone == "qualified"


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        (
            "contacted",
            "move to Contacted needs: a stage other than the one it is in (Contacted)",
        ),
        ("lost", "move to Lost needs: a loss reason and a note: use close lost"),
        (
            "nowhere",
            'move to nowhere needs: a stage the contract has ("nowhere" is not one of',
        ),
    ],
)
def test_moves_the_contract_does_not_allow_are_refused(
    stage: str, message: str
) -> None:
    with pytest.raises(Refused) as refused:
        ops.move(contacted(), "sam", CONTRACT, stage)

    assert str(refused.value).startswith(message)


def test_a_won_lead_stays_won() -> None:
    lead = ops.close_won(contacted(), "sam", CONTRACT)

    for attempt in (
        lambda: ops.move(lead, "sam", CONTRACT, "opportunity"),
        lambda: ops.close_lost(
            lead, "sam", CONTRACT, "price", "They found it too dear."
        ),
        lambda: ops.reopen(lead, "sam", CONTRACT),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert "won lead stays won" in str(refused.value)


# -- objections, closing, reopening -------------------------------------------------


def test_an_objection_is_recorded_with_its_label_and_note() -> None:
    lead = contacted()

    lead = ops.log_objection(lead, "sam", CONTRACT, "price", "  Budget is frozen.  ")

    event = last_event(lead)
    assert event.kind == "objection"
    assert event.data == {"label": "price", "note": "Budget is frozen."}
    assert event.stage == "contacted"


def test_an_objection_needs_a_label_from_the_list_and_a_note() -> None:
    with pytest.raises(Refused) as refused:
        ops.log_objection(contacted(), "sam", CONTRACT, "weather", "")

    assert refused.value.reasons == [
        'an objection from the contract\'s list ("weather" is not on it)',
        "a note saying what was said",
    ]


def test_close_won_marks_won_and_qualified_when_never_qualified_before() -> None:
    lead = contacted()

    lead = ops.close_won(lead, "sam", CONTRACT)

    *_, passed, won = events(lead)
    assert (passed.kind, passed.milestone, passed.stage) == (
        "stage",
        "qualified",
        "won",
    )
    assert (won.kind, won.milestone, won.stage) == ("won", "won", "won")
    assert lead.closed_at == won.at
    assert lead.reached_rank == CONTRACT.rank("won")


def test_close_won_after_qualified_marks_only_won() -> None:
    lead = ops.move(contacted(), "sam", CONTRACT, "qualified")
    count = len(events(lead))

    lead = ops.close_won(lead, "sam", CONTRACT)

    assert len(events(lead)) == count + 1
    assert last_event(lead).milestone == "won"


def test_moving_to_won_goes_through_close_won() -> None:
    lead = ops.move(contacted(), "sam", CONTRACT, "won")

    assert lead.stage == "won"
    assert last_event(lead).kind == "won"


def test_close_won_needs_an_owner() -> None:
    with pytest.raises(Refused) as refused:
        ops.close_won(handed(), "sam", CONTRACT)

    assert str(refused.value) == "close won needs: an owner"


def test_close_lost_needs_a_reason_and_a_note_both_named_at_once() -> None:
    with pytest.raises(Refused) as refused:
        ops.close_lost(contacted(), "sam", CONTRACT, "", "")

    assert str(refused.value) == (
        "close lost needs: a loss reason from the contract's list; "
        "a one-sentence note (a note is required)"
    )


@pytest.mark.parametrize(
    ("reason", "note", "problem"),
    [
        (
            "weather",
            "They went quiet.",
            'a loss reason from the contract\'s list ("weather" is not on it)',
        ),
        (
            "price",
            "Too dear. Will retry.",
            "a one-sentence note (the note must be one sentence",
        ),
        ("price", "expensive", "a one-sentence note (the note must be one sentence"),
    ],
)
def test_close_lost_refuses_a_reason_off_the_list_or_a_note_that_breaks_the_rule(
    reason: str, note: str, problem: str
) -> None:
    with pytest.raises(Refused) as refused:
        ops.close_lost(contacted(), "sam", CONTRACT, reason, note)

    [only] = refused.value.reasons
    assert only.startswith(problem)


def test_close_lost_records_the_reason_and_note() -> None:
    lead = contacted()

    lead = ops.close_lost(
        lead, "sam", CONTRACT, "competitor", "They signed with a rival."
    )

    event = last_event(lead)
    assert (event.kind, event.milestone, event.stage) == ("lost", "lost", "lost")
    assert event.data["reason"] == "competitor"
    assert event.data["note"] == "They signed with a rival."
    assert event.data["from"] == "contacted"
    assert lead.loss_reason == "competitor"
    assert lead.loss_note == "They signed with a rival."
    assert lead.closed_at == event.at


def test_reopen_returns_a_lost_lead_to_the_stage_it_was_lost_from() -> None:
    lead = ops.close_lost(
        contacted(), "sam", CONTRACT, "timing", "They asked us to wait."
    )

    lead = ops.reopen(lead, "sam", CONTRACT)

    event = last_event(lead)
    assert event.kind == "reopened"
    assert event.stage == "contacted"
    assert event.data["changes"]["closed_at"]["after"] is None
    assert lead.stage == "contacted"
    assert lead.closed_at is None
    assert lead.loss_reason == ""
    assert lead.loss_note == ""


def test_reopen_is_refused_for_an_open_lead() -> None:
    with pytest.raises(Refused) as refused:
        ops.reopen(contacted(), "sam", CONTRACT)

    assert str(refused.value) == "reopen needs: a lost lead (it is open, in Contacted)"


def test_a_lost_lead_takes_no_outreach_until_it_is_reopened() -> None:
    lead = ops.close_lost(
        contacted(), "sam", CONTRACT, "timing", "They asked us to wait."
    )

    with pytest.raises(Refused) as refused:
        ops.log_outreach(lead, "sam", CONTRACT, "call")

    assert refused.value.reasons == ["an open lead (it was lost; reopen it first)"]


# -- what every change and every refusal leaves behind ---------------------------


def test_every_change_writes_one_event_with_actor_time_stage_and_version() -> None:
    steps = [
        lambda lead: ops.update(lead, "mia", CONTRACT, {"intent": "wants pricing"}),
        lambda lead: ops.handoff(lead, "mia", CONTRACT),
        lambda lead: ops.claim(lead, "sam", CONTRACT),
        lambda lead: ops.assign(lead, "sam", CONTRACT, "sue"),
        lambda lead: ops.log_outreach(lead, "sue", CONTRACT, "email"),
        lambda lead: ops.move(lead, "sue", CONTRACT, "contacted"),
        lambda lead: ops.log_objection(lead, "sue", CONTRACT, "price", "Too dear."),
        lambda lead: ops.set_next_action(
            lead, "sue", CONTRACT, "send a quote", timezone.now() + timedelta(days=1)
        ),
        lambda lead: ops.move(lead, "sue", CONTRACT, "qualified"),
        lambda lead: ops.close_lost(
            lead, "sue", CONTRACT, "price", "Budget went elsewhere."
        ),
        lambda lead: ops.reopen(lead, "sue", CONTRACT),
        lambda lead: ops.close_won(lead, "sue", CONTRACT),
    ]
    lead = new_lead()

    for step in steps:
        count = Event.objects.count()
        lead = step(lead)

        assert Event.objects.count() == count + 1
        event = last_event(lead)
        stored = Lead.objects.get(pk=lead.pk)
        assert event.actor in ("mia", "sam", "sue")
        assert event.at == stored.last_event_at
        assert event.stage == stored.stage
        assert event.contract_version.sha256 == CONTRACT.sha256


#: Refused calls, each on a lead "with marketing" (its checklist incomplete)
#: or "with sales" (handed off by round robin to sam, in the first stage).
REFUSALS = {
    "create": (
        "with sales",
        lambda lead: ops.create("mia", CONTRACT, {"source": "tv"}),
    ),
    "edit": (
        "with sales",
        lambda lead: ops.update(lead, "mia", CONTRACT, {"email": ""}),
    ),
    "handoff": ("with marketing", lambda lead: ops.handoff(lead, "mia", CONTRACT)),
    "claim": ("with sales", lambda lead: ops.claim(lead, "sue", CONTRACT)),
    "assign": ("with sales", lambda lead: ops.assign(lead, "sam", CONTRACT, "mia")),
    "outreach": (
        "with sales",
        lambda lead: ops.log_outreach(lead, "sam", CONTRACT, "?"),
    ),
    "move": ("with sales", lambda lead: ops.move(lead, "sam", CONTRACT, "contacted")),
    "skip": ("with sales", lambda lead: ops.move(lead, "sam", STRICT, "opportunity")),
    "objection": (
        "with sales",
        lambda lead: ops.log_objection(lead, "sam", CONTRACT, "price", ""),
    ),
    "next action": (
        "with sales",
        lambda lead: ops.set_next_action(lead, "sam", CONTRACT, "call", None),
    ),
    "close won": ("with sales", lambda lead: ops.close_won(lead, "sam", STRICT)),
    "close lost": (
        "with sales",
        lambda lead: ops.close_lost(lead, "sam", CONTRACT, "price", "no"),
    ),
    "reopen": ("with sales", lambda lead: ops.reopen(lead, "sam", CONTRACT)),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_refused_change_leaves_every_row_as_it_was(name: str) -> None:
    where, call = REFUSALS[name]
    team = Team.objects.create(name="Inside", assignment=Assignment.ROUND_ROBIN)
    TeamMember.objects.create(team=team, user=User.objects.get(username="sam"))
    lead = new_lead(industry="")
    if where == "with sales":
        lead = ops.update(lead, "mia", CONTRACT, {"industry": "software"})
        lead = ops.handoff(lead, "mia", CONTRACT, team=team)
    before = everything()

    with pytest.raises(Refused):
        call(lead)

    assert everything() == before


def test_a_refused_round_robin_handoff_does_not_use_up_a_turn() -> None:
    team = Team.objects.create(name="Inside", assignment=Assignment.ROUND_ROBIN)
    TeamMember.objects.create(team=team, user=User.objects.get(username="sam"))
    lead = new_lead(industry="")
    before = everything()

    with pytest.raises(Refused):
        ops.handoff(lead, "mia", CONTRACT, team=team)

    assert everything() == before


# -- round robin -------------------------------------------------------------------


def rotation(*names: str) -> Team:
    team = Team.objects.create(name="Inside sales", assignment=Assignment.ROUND_ROBIN)
    for name in names:
        user = User.objects.filter(username=name).first() or person(name, "sales")
        TeamMember.objects.create(team=team, user=user)
    return team


def hand_to(team: Team, count: int) -> Counter[str]:
    owners: Counter[str] = Counter()
    for i in range(count):
        lead = ops.handoff(
            new_lead(email=f"l{i}@example.com"), "mia", CONTRACT, team=team
        )
        owners[lead.owner] += 1
    return owners


def test_round_robin_gives_each_member_a_turn_in_order() -> None:
    team = rotation("sam", "sue", "tom")

    owners = [
        ops.handoff(new_lead(), "mia", CONTRACT, team=team).owner for _ in range(6)
    ]

    assert owners == ["sam", "sue", "tom", "sam", "sue", "tom"]
    assert last_event(Lead.objects.latest("id")).data == {
        "team": "Inside sales",
        "assignment": "round_robin",
        "changes": {"owner": {"before": "", "after": "tom"}},
    }


def test_round_robin_passes_over_people_away_or_deactivated() -> None:
    team = rotation("sam", "sue", "tom")
    TeamMember.objects.filter(user__username="sue").update(away=True)
    User.objects.filter(username="tom").update(is_active=False)

    owners = hand_to(team, 4)

    assert owners == {"sam": 4}


def test_round_robin_counts_even_out_as_people_come_and_go() -> None:
    team = rotation("sam", "sue", "tom")
    counts = hand_to(team, 9)
    assert counts == {"sam": 3, "sue": 3, "tom": 3}

    TeamMember.objects.filter(user__username="sue").update(away=True)
    counts += hand_to(team, 6)
    assert counts == {"sam": 6, "sue": 3, "tom": 6}

    # Back from leave, sue takes the next turn and then the rotation is even
    # again; she does not take every lead until she has caught up.
    TeamMember.objects.filter(user__username="sue").update(away=False)
    later = hand_to(team, 30)
    assert later == {"sam": 10, "sue": 10, "tom": 10}
    assert TeamMember.objects.get(user__username="sue").assigned == 13


def test_round_robin_with_everyone_away_refuses_and_suggests_picking_an_owner() -> None:
    team = rotation("sam")
    TeamMember.objects.update(away=True)

    with pytest.raises(Refused) as refused:
        ops.handoff(new_lead(), "mia", CONTRACT, team=team)

    assert refused.value.reasons == [
        "someone in Inside sales to take it (everyone is away or inactive; "
        "pick an owner instead)"
    ]


def test_a_manual_team_leaves_the_lead_unowned_for_its_members_to_claim() -> None:
    team = Team.objects.create(name="Field", assignment=Assignment.MANUAL)

    lead = ops.handoff(new_lead(), "mia", CONTRACT, team=team)

    assert lead.owner == ""
    assert last_event(lead).data == {"team": "Field", "assignment": "unassigned"}


def contract_assigning(assign: str) -> Contract:
    text = default_text().replace(
        'assign = "team"', f'assign = "{assign}"\nteam = "Inside sales"'
    )
    return parse(text)


def test_the_contract_can_ask_for_round_robin_in_its_team() -> None:
    contract = contract_assigning("round_robin")
    team = Team.objects.create(name="Inside sales")
    TeamMember.objects.create(team=team, user=User.objects.get(username="sam"))

    lead = ops.handoff(new_lead(contract), "mia", contract)

    assert not team.rotates
    assert lead.owner == "sam"
    assert last_event(lead).data["assignment"] == "round_robin"


def test_a_manual_contract_leaves_a_rotating_team_to_claim() -> None:
    contract = contract_assigning("manual")
    team = Team.objects.create(name="Inside sales", assignment="round_robin")
    TeamMember.objects.create(team=team, user=User.objects.get(username="sam"))

    lead = ops.handoff(new_lead(contract), "mia", contract)

    assert lead.owner == ""
    assert last_event(lead).data == {
        **last_event(lead).data,
        "assignment": "unassigned",
        "team": "Inside sales",
    }
