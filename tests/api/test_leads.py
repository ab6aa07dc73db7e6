"""/api/v1/leads: listing, reading, creating, editing and every workflow operation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.crypto import get_random_string

from leadrelay.models import Event, Lead, Team, TeamMember
from leadrelay.workflow import ops
from leadrelay.workflow.ops import Refused
from leadrelay.workspace import load_contract

from .conftest import (
    ApiClient,
    client_with,
    counts,
    error_of,
    key_for,
    make_person,
    ready_lead,
    session_of,
)

pytestmark = pytest.mark.django_db


def due(days: int = 2) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def act(client: ApiClient, lead: Lead | int, action: str, body: Any = None) -> Any:
    pk = lead if isinstance(lead, int) else lead.pk
    return client.send("POST", f"/api/v1/leads/{pk}/{action}", body)


def refusal_of(run: Any) -> list[str]:
    """Return the reasons the workflow itself gives, for comparing with the API's."""
    with pytest.raises(Refused) as refused:
        run()
    return refused.value.reasons


# -- listing and reading -------------------------------------------------------------


def test_the_list_filters_pages_and_counts(admin: ApiClient) -> None:
    contract = load_contract()
    for i in range(5):
        ops.create("mia", contract, {"email": f"p{i}@example.com", "source": "event"})
    ops.create("mia", contract, {"email": "x@example.com", "source": "referral"})

    first = admin.get("/api/v1/leads", {"source": "event", "limit": 2})
    second = admin.get("/api/v1/leads", {"source": "event", "limit": 2, "offset": 2})

    assert first.status_code == 200
    page = first.json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 0)
    emails = [i["email"] for i in page["items"] + second.json()["items"]]
    assert emails == [
        "p4@example.com",
        "p3@example.com",
        "p2@example.com",
        "p1@example.com",
    ]


def test_the_list_filters_by_stage_owner_and_time_of_change(
    admin: ApiClient, people: dict[str, User]
) -> None:
    old = ready_lead(email="old@example.com")
    Lead.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=9))
    mine = ops.handoff(
        ready_lead(email="sam@example.com"), "mia", load_contract(), owner="sam"
    )

    by_owner = admin.get("/api/v1/leads", {"owner": "sam"}).json()
    by_stage = admin.get("/api/v1/leads", {"stage": "inquiry"}).json()
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = admin.get("/api/v1/leads", {"updated_since": since}).json()

    assert [i["id"] for i in by_owner["items"]] == [mine.pk]
    assert by_stage["total"] == 2
    assert [i["id"] for i in recent["items"]] == [mine.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2026-01-01T00:00:00"}, "updated_since"),
    ],
)
def test_a_bad_filter_is_named(
    admin: ApiClient, query: dict[str, Any], field: str
) -> None:
    response = admin.get("/api/v1/leads", query)

    assert response.status_code == 422
    assert [f["field"] for f in error_of(response)["fields"]] == [field]


def test_a_lead_reads_with_its_events_oldest_first(
    admin: ApiClient, people: dict[str, User]
) -> None:
    lead = ops.handoff(ready_lead(), "mia", load_contract(), owner="sam")

    response = admin.get(f"/api/v1/leads/{lead.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["owner"] == "sam"
    assert [e["kind"] for e in body["events"]] == ["created", "handoff"]
    assert body["events"][1]["data"]["changes"]["owner"] == {
        "before": "",
        "after": "sam",
    }
    assert body["events"][0]["contract_version"] == load_contract().sha256[:12]


def test_an_unknown_lead_is_404(admin: ApiClient) -> None:
    response = admin.get("/api/v1/leads/999999")

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": "No lead has the id 999999.",
    }


# -- creating and editing -----------------------------------------------------------


def test_marketing_creates_a_lead(
    marketing: ApiClient, people: dict[str, User]
) -> None:
    body = {
        "email": "ana@example.com",
        "source": "web_form",
        "next_action": "call",
        "next_action_owner": "mia",
        "next_action_due": due(),
    }

    response = marketing.send("POST", "/api/v1/leads", body)

    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.next_action_owner == "mia"
    assert Event.objects.get(lead=lead).actor == "key:marketing-key"


def test_create_is_refused_with_every_unmet_condition(marketing: ApiClient) -> None:
    response = marketing.send(
        "POST",
        "/api/v1/leads",
        {"name": "Ana", "source": "tv", "next_action_due": due(-1)},
    )

    assert response.status_code == 422
    unmet = error_of(response)["unmet"]
    assert len(unmet) == 3
    assert unmet[0].startswith("a source from the contract's list")
    assert unmet[1:] == [
        "a next action due time in the future",
        "an email, a phone or a record id",
    ]
    assert Lead.objects.count() == 0


def test_create_names_unknown_fields_and_stores_nothing(marketing: ApiClient) -> None:
    before = counts()

    response = marketing.send(
        "POST",
        "/api/v1/leads",
        {"email": "a@example.com", "stage": "won", "owner": "x"},
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == [
        {"field": "stage", "message": "unknown field"},
        {"field": "owner", "message": "unknown field"},
    ]
    assert counts() == before


def test_a_naive_due_time_is_refused_as_ambiguous(marketing: ApiClient) -> None:
    response = marketing.send(
        "POST",
        "/api/v1/leads",
        {"email": "a@example.com", "next_action_due": "2030-01-01T09:00:00"},
    )

    assert response.status_code == 422
    [problem] = error_of(response)["fields"]
    assert problem["field"] == "next_action_due"
    assert "offset" in problem["message"]


def test_an_edit_changes_the_fields_given_and_records_them(
    sales: ApiClient, people: dict[str, User]
) -> None:
    lead = ready_lead()

    response = sales.send("PATCH", f"/api/v1/leads/{lead.pk}", {"company": "Lima AG"})

    assert response.status_code == 200
    assert response.json()["company"] == "Lima AG"
    assert response.json()["name"] == "Ana Lima"
    edit = Event.objects.filter(lead=lead, kind="updated").get()
    assert edit.data["changes"] == {
        "company": {"before": "Lima Tools", "after": "Lima AG"}
    }


def test_an_edit_is_refused_like_the_web_apps(
    marketing: ApiClient, people: dict[str, User]
) -> None:
    lead = ready_lead()
    expected = refusal_of(
        lambda: ops.update(lead, "mia", load_contract(), {"source": "tv"})
    )

    response = marketing.send("PATCH", f"/api/v1/leads/{lead.pk}", {"source": "tv"})

    assert response.status_code == 422
    assert error_of(response)["unmet"] == expected
    assert Lead.objects.get(pk=lead.pk).source == "web_form"


# -- the workflow, step by step --------------------------------------------------------


def test_a_lead_goes_from_inquiry_to_won_through_the_api(
    people: dict[str, User],
) -> None:
    marketing = client_with(key_for("marketing"))
    seller = session_of(people["sam"])
    created = marketing.send(
        "POST", "/api/v1/leads", {**_ready_body(), "employees": 40}
    )
    lead_id = created.json()["id"]

    steps = [
        (marketing, "handoff", {"owner": "sam"}),
        (seller, "outreach", {"channel": "call", "note": "left a message"}),
        (seller, "move", {"stage": "contacted"}),
        (seller, "objection", {"label": "price", "note": "thinks it costs a lot"}),
        (seller, "next-action", {"text": "send the proposal", "due": due(3)}),
        (seller, "move", {"stage": "qualified"}),
        (seller, "move", {"stage": "opportunity"}),
        (seller, "won", None),
    ]
    for client, action, body in steps:
        response = act(client, lead_id, action, body)
        assert response.status_code == 200, (action, response.content)

    lead = Lead.objects.get(pk=lead_id)
    assert (lead.stage, lead.owner) == ("won", "sam")
    kinds = list(
        Event.objects.filter(lead=lead).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == [
        "created",
        "handoff",
        "outreach",
        "stage",
        "objection",
        "next_action",
        "stage",
        "stage",
        "won",
    ]
    assert Event.objects.filter(lead=lead, kind="outreach").get().actor == "sam"


def test_close_lost_then_reopen(sales: ApiClient, people: dict[str, User]) -> None:
    lead = ops.handoff(ready_lead(), "mia", load_contract(), owner="sam")

    lost = act(
        sales, lead, "lost", {"reason": "price", "note": "They found it too dear."}
    )
    reopened = act(sales, lead, "reopen")

    assert lost.status_code == 200
    assert lost.json()["loss_reason"] == "price"
    assert reopened.status_code == 200
    assert reopened.json()["stage"] == "inquiry"


def test_claim_and_assign(people: dict[str, User]) -> None:
    lead = ops.handoff(ready_lead(), "mia", load_contract())

    claimed = act(session_of(people["sue"]), lead, "claim")
    assigned = act(session_of(people["sue"]), lead, "assign", {"owner": "sam"})

    assert claimed.json()["owner"] == "sue"
    assert assigned.json()["owner"] == "sam"


def test_handoff_to_a_round_robin_team_by_name(
    marketing: ApiClient, people: dict[str, User]
) -> None:
    team = Team.objects.create(name="Inside", assignment="round_robin")
    TeamMember.objects.create(team=team, user=people["sue"])
    lead = ready_lead()

    response = act(marketing, lead, "handoff", {"team": "Inside"})
    unknown = act(
        marketing, ready_lead(email="b@example.com"), "handoff", {"team": "Nope"}
    )

    assert response.json()["owner"] == "sue"
    assert unknown.status_code == 422
    assert error_of(unknown)["unmet"] == [
        'a team that exists ("Nope" is not one of: Inside)'
    ]


def _ready_body() -> dict[str, Any]:
    return {
        "email": "ana@example.com",
        "name": "Ana Lima",
        "source": "web_form",
        "industry": "software",
        "company_size": "11-50",
        "location": "Berlin",
        "intent": "asked for a demo",
        "next_action": "call to book the demo",
        "next_action_owner": "mia",
        "next_action_due": due(),
    }


# Each operation refused on a fresh, unready lead: the API's unmet list is the
# workflow's own, word for word, and the lead is unchanged.
REFUSALS = [
    ("handoff", {}, lambda lead, c: ops.handoff(lead, "key:admin-key", c)),
    ("claim", None, lambda lead, c: ops.claim(lead, "key:admin-key", c)),
    (
        "assign",
        {"owner": "sam"},
        lambda lead, c: ops.assign(lead, "key:admin-key", c, "sam"),
    ),
    (
        "outreach",
        {"channel": "fax"},
        lambda lead, c: ops.log_outreach(lead, "a", c, "fax"),
    ),
    (
        "move",
        {"stage": "qualified"},
        lambda lead, c: ops.move(lead, "a", c, "qualified"),
    ),
    ("move", {"stage": "nowhere"}, lambda lead, c: ops.move(lead, "a", c, "nowhere")),
    (
        "objection",
        {"label": "x", "note": ""},
        lambda lead, c: ops.log_objection(lead, "a", c, "x", ""),
    ),
    (
        "next-action",
        {"text": "", "due": None},
        lambda lead, c: ops.set_next_action(lead, "a", c, "", None),
    ),
    ("won", None, lambda lead, c: ops.close_won(lead, "a", c)),
    (
        "lost",
        {"reason": "bored", "note": "no"},
        lambda lead, c: ops.close_lost(lead, "a", c, "bored", "no"),
    ),
    ("reopen", None, lambda lead, c: ops.reopen(lead, "a", c)),
]


@pytest.mark.parametrize(("action", "body", "direct"), REFUSALS)
def test_each_operation_is_refused_with_the_workflows_unmet_list(
    admin: ApiClient, people: dict[str, User], action: str, body: Any, direct: Any
) -> None:
    lead = ops.create("mia", load_contract(), {"email": "ana@example.com"})
    expected = refusal_of(lambda: direct(lead, load_contract()))
    before = counts()

    response = act(admin, lead, action, body)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "refused"
    assert error["unmet"] == expected
    assert counts() == before


# -- who may do what -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("won", None, "Only sales can close leads won."),
        (
            "lost",
            {"reason": "price", "note": "Too dear."},
            "Only sales can close leads lost.",
        ),
        ("claim", None, "Only sales can claim leads."),
        ("move", {"stage": "contacted"}, "Only sales can move leads between stages."),
    ],
)
def test_a_marketing_key_cannot_work_or_close_a_lead(
    marketing: ApiClient, people: dict[str, User], action: str, body: Any, message: str
) -> None:
    lead = ops.handoff(ready_lead(), "mia", load_contract(), owner="sam")

    response = act(marketing, lead, action, body)

    assert response.status_code == 403
    assert error_of(response) == {"code": "forbidden", "message": message}
    assert Lead.objects.get(pk=lead.pk).stage == "inquiry"


def test_a_sales_key_cannot_hand_off(sales: ApiClient, people: dict[str, User]) -> None:
    response = act(sales, ready_lead(), "handoff", {"owner": "sam"})

    assert response.status_code == 403
    assert (
        error_of(response)["message"] == "Only marketing can hand leads off to sales."
    )


def test_an_admin_key_may_do_everything(
    admin: ApiClient, people: dict[str, User]
) -> None:
    lead = ready_lead()

    handed = act(admin, lead, "handoff", {"owner": "sam"})
    outreach = act(admin, lead, "outreach", {"channel": "email"})
    won = act(admin, lead, "won")

    assert [r.status_code for r in (handed, outreach, won)] == [200, 200, 200]


def test_a_person_has_the_same_roles_as_in_the_web_app(people: dict[str, User]) -> None:
    admin_only = session_of(people["ada"])
    root = session_of(make_person("root", superuser=True))

    refused = admin_only.send("POST", "/api/v1/leads", {"email": "a@example.com"})
    allowed = root.send("POST", "/api/v1/leads", {"email": "b@example.com"})

    assert refused.status_code == 403
    assert allowed.status_code == 201


def test_an_account_without_a_role_may_not_read(db: None) -> None:
    nobody = session_of(make_person("nobody"))

    response = nobody.get("/api/v1/leads")

    assert response.status_code == 403
    assert "no role yet" in error_of(response)["message"]


def test_a_session_write_needs_the_csrf_token(people: dict[str, User]) -> None:
    client = session_of(people["mia"], enforce_csrf=True)

    read = client.get("/api/v1/leads")
    refused = client.send("POST", "/api/v1/leads", {"email": "a@example.com"})
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    allowed = client.send(
        "POST",
        "/api/v1/leads",
        {"email": "a@example.com"},
        headers={"X-CSRFToken": token},
    )

    assert read.status_code == 200
    assert refused.status_code == 403
    assert "CSRF" in error_of(refused)["message"]
    assert allowed.status_code == 201
    assert Lead.objects.count() == 1


def test_a_write_with_an_idempotency_key_replays(
    admin: ApiClient, people: dict[str, User]
) -> None:
    lead = ops.handoff(ready_lead(), "mia", load_contract(), owner="sam")
    headers = {"Idempotency-Key": "note-1"}
    body = {"channel": "call", "note": "left a message"}

    first = admin.send(
        "POST", f"/api/v1/leads/{lead.pk}/outreach", body, headers=headers
    )
    again = admin.send(
        "POST", f"/api/v1/leads/{lead.pk}/outreach", body, headers=headers
    )

    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert Event.objects.filter(lead=lead, kind="outreach").count() == 1


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("2019-04-26T18:48:12-21:50", 200),
        ("9999-12-31T23:00:00-05:00", 422),
    ],
)
def test_a_time_with_any_offset_is_read_as_its_moment(
    admin: ApiClient, since: str, status: int
) -> None:
    response = admin.get("/api/v1/leads", {"updated_since": since})

    assert response.status_code == status
