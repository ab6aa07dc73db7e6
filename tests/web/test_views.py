"""The pages, through Django's test client: what they show and how they refuse."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from leadrelay.contract import default_text
from leadrelay.models import Assignment, Event, Lead, Team, TeamMember
from leadrelay.web import contract as contracts
from leadrelay.workflow import ops
from leadrelay.workspace import load_contract

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def add(**fields: Any) -> Lead:
    return ops.create("mia", load_contract(), {"email": "ana@example.com", **fields})


def ready(**fields: Any) -> Lead:
    due = timezone.now() + timedelta(days=2)
    values = {
        "name": "Ana Lima",
        "source": "web_form",
        "industry": "software",
        "company_size": "11-50",
        "location": "Berlin",
        "intent": "wants a demo",
        "next_action": "call",
        "next_action_owner": "mia",
        "next_action_due": due,
    }
    return add(**{**values, **fields})


def text(response: Any) -> str:
    return response.content.decode()


# -- the lead page ------------------------------------------------------------------


def test_the_lead_page_ticks_what_the_checklist_has_and_names_what_it_lacks(
    personas: dict[str, User],
) -> None:
    lead = add(name="Ana Lima", source="web_form", intent="wants a demo")

    page = text(signed_in(personas["marketing"]).get(f"/leads/{lead.pk}/"))

    assert '<li class="ok">' in page
    assert "ICP tag industry <small>— missing</small>" in page
    assert "missing: next action, next action owner, next action due time" in page
    assert "To enter Contacted it needs: an owner; a logged first outreach." in page


def test_a_refused_action_shows_its_reasons_and_keeps_what_was_typed(
    personas: dict[str, User],
) -> None:
    lead = ops.handoff(ready(), "mia", load_contract(), owner="sam")
    client = signed_in(personas["sales"])

    response = client.post(
        f"/leads/{lead.pk}/lost/", {"lost-reason": "", "lost-note": "Too dear for now"}
    )

    assert response.status_code == 422
    page = text(response)
    assert "Close lost needs:" in page
    assert "<li>a loss reason from the contract&#x27;s list</li>" in page
    assert "Too dear for now</textarea>" in page
    assert '<details class="card action action-lost" id="action-lost" open>' in page
    assert Lead.objects.get(pk=lead.pk).stage == "inquiry"


def test_an_unreadable_value_is_named_next_to_its_field(
    personas: dict[str, User],
) -> None:
    lead = ready()

    response = signed_in(personas["marketing"]).post(
        f"/leads/{lead.pk}/edit/",
        {"edit-email": "ana@example.com", "edit-employees": "ten"},
    )

    assert response.status_code == 422
    assert "Enter a whole number." in text(response)
    assert 'value="ten"' in text(response)


def test_the_timeline_says_who_did_what_newest_first(personas: dict[str, User]) -> None:
    contract = load_contract()
    lead = ops.handoff(ready(), "mia", contract)
    lead = ops.claim(lead, "sam", contract)
    lead = ops.log_objection(lead, "sam", contract, "price", "Budget is frozen")

    page = text(signed_in(personas["sales"]).get(f"/leads/{lead.pk}/"))

    objection = page.index("heard an objection: Too expensive")
    claimed = page.index("claimed it")
    handed = page.index("handed it off to sales, for the team to claim")
    added = page.index("added the lead (source: web_form)")
    assert objection < claimed < handed < added
    assert "“Budget is frozen”" in page


def test_the_new_lead_form_refuses_without_a_way_to_reach_the_lead(
    personas: dict[str, User],
) -> None:
    response = signed_in(personas["marketing"]).post("/leads/new/", {"name": "Nobody"})

    assert response.status_code == 422
    assert "Create needs:" in text(response)
    assert "an email, a phone or a record id" in text(response)
    assert 'value="Nobody"' in text(response)
    assert Lead.objects.count() == 0


def test_a_round_robin_team_gives_the_handed_off_lead_its_owner(
    personas: dict[str, User],
) -> None:
    team = Team.objects.create(name="Inside", assignment=Assignment.ROUND_ROBIN)
    TeamMember.objects.create(team=team, user=personas["sales2"])
    lead = ready()

    response = signed_in(personas["marketing"]).post(
        f"/leads/{lead.pk}/handoff/", {"handoff-team": str(team.pk)}
    )

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == "sue"


# -- inbox and board -------------------------------------------------------------------


def test_the_inbox_lists_unhanded_leads_and_running_clocks(
    personas: dict[str, User],
) -> None:
    waiting = add(name="Waiting Co")
    running = ops.handoff(ready(name="Running Co"), "mia", load_contract())
    late = ready(name="Late Co")
    Lead.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - timedelta(hours=30)
    )

    page = text(signed_in(personas["sales"]).get("/"))

    waiting_part = page[page.index('id="waiting"') : page.index('id="clock"')]
    assert "Waiting Co" in waiting_part
    assert "needs source; ICP tag industry" in waiting_part
    assert "Running Co" not in waiting_part
    clock_part = page[page.index('id="clock"') :]
    assert "23 h 59 min left" in clock_part
    assert "overdue by 6 h" in clock_part
    assert f'action="/leads/{running.pk}/claim/"' in clock_part
    assert waiting.pk != running.pk


def test_the_inbox_offers_no_claim_to_marketing(personas: dict[str, User]) -> None:
    lead = ops.handoff(ready(), "mia", load_contract())

    page = text(signed_in(personas["marketing"]).get("/"))

    assert f'action="/leads/{lead.pk}/claim/"' not in page
    assert "unclaimed" in page


def test_a_handoff_clock_starts_at_the_handoff(
    personas: dict[str, User], workspace: Path
) -> None:
    workspace.write_text(
        default_text().replace('starts = "inquiry"', 'starts = "handoff"'), "utf-8"
    )
    before = ready(name="Not yet handed")
    after = ops.handoff(ready(name="Handed Co"), "mia", load_contract())

    page = text(signed_in(personas["sales"]).get("/"))

    clock_part = page[page.index('id="clock"') :]
    assert "of the handoff" in clock_part
    assert "Handed Co" in clock_part
    assert "Not yet handed" not in clock_part
    assert before.pk != after.pk


def test_the_board_counts_leads_per_stage_and_marks_stalled_ones(
    personas: dict[str, User],
) -> None:
    contract = load_contract()
    fresh = ops.handoff(ready(name="Fresh Co"), "mia", contract, owner="sam")
    idle = ops.handoff(ready(name="Idle Co"), "mia", contract, owner="sam")
    Lead.objects.filter(pk=idle.pk).update(
        last_event_at=timezone.now() - timedelta(days=5)
    )

    page = text(signed_in(personas["sales"]).get("/board/"))

    assert '<span class="count">2</span>' in page
    assert "1 stalled" in page
    assert f'class="lead-card stalled" id="card-{idle.pk}"' in page
    assert f'class="lead-card" id="card-{fresh.pk}"' in page


def test_a_move_refused_on_the_board_shows_its_reasons_on_the_board(
    personas: dict[str, User],
) -> None:
    lead = ops.handoff(ready(), "mia", load_contract(), owner="sam")

    response = signed_in(personas["sales"]).post(
        f"/leads/{lead.pk}/move/", {"move-stage": "contacted", "from": "board"}
    )

    assert response.status_code == 422
    page = text(response)
    assert "<h1>Board</h1>" in page
    assert "Move to Contacted needs:" in page
    assert f'class="lead-card refused" id="card-{lead.pk}"' in page


def test_a_move_from_the_board_goes_back_to_the_board(
    personas: dict[str, User],
) -> None:
    contract = load_contract()
    lead = ops.handoff(ready(), "mia", contract, owner="sam")
    lead = ops.log_outreach(lead, "sam", contract, "call")

    response = signed_in(personas["sales"]).post(
        f"/leads/{lead.pk}/move/",
        {"move-stage": "contacted", "from": "board", "next": "/board/?owner=sam"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/board/?owner=sam"
    assert Lead.objects.get(pk=lead.pk).stage == "contacted"


def test_next_must_stay_on_this_site(personas: dict[str, User]) -> None:
    lead = ready()

    response = signed_in(personas["marketing"]).post(
        f"/leads/{lead.pk}/handoff/", {"next": "https://elsewhere.example/"}
    )

    assert response["Location"] == f"/leads/{lead.pk}/"


def test_the_leads_list_searches_by_name_email_or_company(
    personas: dict[str, User],
) -> None:
    add(name="Ana Lima", company="Lima Tools")
    ops.create("mia", load_contract(), {"email": "bo@example.com", "name": "Bo Berg"})

    page = text(signed_in(personas["sales"]).get("/leads/?q=lima"))

    assert "Ana Lima" in page
    assert "Bo Berg" not in page


# -- the funnel and the pulse ----------------------------------------------------------


def test_the_funnel_page_renders_the_contract_with_its_version(
    personas: dict[str, User],
) -> None:
    contract = load_contract()

    page = text(signed_in(personas["sales"]).get("/funnel/"))

    assert "<h1>Our funnel: the funnel contract</h1>" in page
    assert f"<code>{contract.sha256[:12]}</code>" in page
    assert "<td>Qualified</td>" in page


def test_the_funnel_page_escapes_what_the_contract_says(
    personas: dict[str, User], workspace: Path
) -> None:
    workspace.write_text(
        default_text().replace('label = "Won"', 'label = "Won <b>big</b>"'), "utf-8"
    )

    page = text(signed_in(personas["sales"]).get("/funnel/"))

    assert "Won &lt;b&gt;big&lt;/b&gt;" in page
    assert "<b>big</b>" not in page


def test_the_pulse_page_shows_the_chosen_week(personas: dict[str, User]) -> None:
    ready()
    iso = timezone.localdate().isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"

    page = text(signed_in(personas["marketing"]).get(f"/pulse/?week={week}"))

    assert f"Pipeline pulse {week}" in page
    assert "1. Leads in: 1" in page
    assert "Cohort: of the leads that came in this week" in page


def test_the_pulse_page_names_a_week_it_cannot_read(personas: dict[str, User]) -> None:
    response = signed_in(personas["marketing"]).get("/pulse/?week=soon")

    assert response.status_code == 400
    assert "is not an ISO week; write it as 2018-W10" in text(response)


# -- the contract in force -------------------------------------------------------------


def test_a_broken_contract_is_shown_with_every_problem(
    personas: dict[str, User], workspace: Path
) -> None:
    workspace.write_text(
        default_text().replace('timezone = "UTC"', 'timezone = "Mars"')
    )

    response = signed_in(personas["sales"]).get("/")

    assert response.status_code == 503
    assert "funnel.timezone" in text(response)
    assert "is not a time zone" in text(response)


def test_the_contract_is_read_again_when_its_file_changes(workspace: Path) -> None:
    first = contracts.current()
    assert contracts.current() is first

    workspace.write_text(default_text().replace("Our funnel", "Their funnel"))
    later = time.time() + 5
    os.utime(workspace, (later, later))

    assert contracts.current().name == "Their funnel"


# -- people and teams ------------------------------------------------------------------


def test_an_admin_adds_a_person_with_roles(personas: dict[str, User]) -> None:
    client = signed_in(personas["admin"])

    response = client.post(
        "/people/",
        {
            "username": "Lee",
            "password": "a long new password 9",
            "roles": ["sales", "marketing"],
        },
    )

    assert response.status_code == 302
    lee = User.objects.get(username="lee")
    assert sorted(lee.groups.values_list("name", flat=True)) == ["marketing", "sales"]


def test_adding_a_taken_username_is_refused_with_the_reason(
    personas: dict[str, User],
) -> None:
    response = signed_in(personas["admin"]).post(
        "/people/", {"username": "sam", "password": "x", "roles": []}
    )

    assert response.status_code == 422
    page = text(response)
    assert "Add person needs:" in page
    assert "at least one role: marketing, sales, admin" in page
    assert "a username nobody has (&quot;sam&quot; is taken)" in page


def test_an_admin_cannot_take_away_their_own_admin_role(
    personas: dict[str, User],
) -> None:
    ada = personas["admin"]

    response = signed_in(ada).post(
        f"/people/{ada.pk}/", {"what": "roles", "roles-roles": ["sales"]}
    )

    assert response.status_code == 422
    assert "another admin to take away your own admin role" in text(response)
    assert ada.groups.filter(name="admin").exists()


def test_an_admin_deactivates_someone_who_then_cannot_sign_in(
    personas: dict[str, User],
) -> None:
    sam = personas["sales"]

    response = signed_in(personas["admin"]).post(
        f"/people/{sam.pk}/", {"what": "deactivate"}
    )

    assert response.status_code == 302
    sam.refresh_from_db()
    assert not sam.is_active


def test_an_admin_builds_a_team_and_marks_a_member_away(
    personas: dict[str, User],
) -> None:
    client = signed_in(personas["admin"])
    client.post("/teams/", {"name": "Inside", "assignment": "round_robin"})
    team = Team.objects.get()

    client.post(f"/teams/{team.pk}/change/", {"what": "add", "username": "sam"})
    client.post(f"/teams/{team.pk}/change/", {"what": "add", "username": "sue"})
    member = TeamMember.objects.get(user__username="sam")
    client.post(f"/teams/{team.pk}/change/", {"what": "away", "member": member.pk})
    page = text(client.get(f"/teams/{team.pk}/"))

    assert team.rotates
    assert TeamMember.objects.get(pk=member.pk).away
    assert '<span class="flag">away</span>' in page


def test_only_sales_people_can_join_a_team(personas: dict[str, User]) -> None:
    client = signed_in(personas["admin"])
    team = Team.objects.create(name="Inside")

    response = client.post(
        f"/teams/{team.pk}/change/", {"what": "add", "username": "mia"}
    )

    assert response.status_code == 422
    assert "a member in sales (&quot;mia&quot; is not)" in text(response)
    assert not TeamMember.objects.exists()


def test_the_stylesheet_is_served_without_a_collect_step(db: None) -> None:
    from django.test import Client

    response = Client().get("/static/leadrelay/app.css")

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"/* leadrelay")
    assert Event.objects.count() == 0


def test_the_header_names_the_signed_in_persons_own_roles(
    personas: dict[str, User],
) -> None:
    page = text(signed_in(personas["admin"]).get("/people/"))

    assert '<span class="me">ada<small>admin</small></span>' in page
