"""POST /api/v1/intake: new and known people, mappings, idempotency, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from leadrelay.models import Event, IdempotentRequest, KnownEmail, Lead
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week
from leadrelay.workflow import ops
from leadrelay.workspace import load_contract

from .conftest import ApiClient, client_with, counts, error_of, key_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/intake"


def post(client: ApiClient, body: Any, **headers: str) -> Any:
    return client.send("POST", URL, body, headers=headers)


def test_a_new_inquiry_creates_a_lead_and_its_created_event(
    marketing: ApiClient,
) -> None:
    response = post(marketing, {"email": "ana@example.com", "source": "event"})

    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True
    assert body["merged_into"] is None
    lead = Lead.objects.get()
    assert body["lead"]["id"] == lead.pk
    assert (lead.email, lead.source, lead.stage) == (
        "ana@example.com",
        "event",
        "inquiry",
    )
    [event] = Event.objects.filter(lead=lead)
    assert (event.kind, event.actor) == ("created", "key:marketing-key")


def test_a_known_email_adds_the_inquiry_to_its_lead_whatever_the_case_and_spaces(
    marketing: ApiClient,
) -> None:
    first = post(marketing, {"email": "Ana@Example.com", "source": "event"})

    again = post(
        marketing,
        {"email": "  ANA@example.COM ", "intent": "pricing", "source": "email"},
    )

    assert again.status_code == 200
    body = again.json()
    lead_id = first.json()["lead"]["id"]
    assert body["created"] is False
    assert body["merged_into"] == lead_id
    assert body["lead"]["id"] == lead_id
    assert Lead.objects.count() == 1
    inquiry = Event.objects.filter(lead_id=lead_id).order_by("id").last()
    assert inquiry is not None
    assert inquiry.kind == "updated"
    assert inquiry.data == {
        "inquiry": {"email": "ana@example.com", "intent": "pricing", "source": "email"}
    }
    # The lead's own fields are left as the first inquiry set them.
    assert Lead.objects.get().source == "event"


def test_a_repeat_inquiry_is_not_counted_as_a_new_lead_in_the_pulse(
    marketing: ApiClient,
) -> None:
    for _ in range(3):
        post(marketing, {"email": "ana@example.com", "source": "event"})

    contract = load_contract()
    report = pulse(contract, Week.containing(timezone.now().date()))

    assert report["leads_in"]["total"] == 1


def test_a_lead_from_the_web_app_with_a_mixed_case_email_is_found(
    marketing: ApiClient,
) -> None:
    contract = load_contract()
    older = ops.create("mia", contract, {"email": "Bo@Example.com"})

    response = post(marketing, {"email": "Bo@Example.com"})

    assert response.status_code == 200
    assert response.json()["merged_into"] == older.pk
    assert KnownEmail.objects.get(address="bo@example.com").lead == older


def test_both_key_headers_authenticate(people: dict[str, User]) -> None:
    key = key_for("marketing")

    by_bearer = post(client_with(key, "Authorization"), {"email": "a@example.com"})
    by_header = post(client_with(key, "X-Api-Key"), {"email": "b@example.com"})

    assert (by_bearer.status_code, by_header.status_code) == (201, 201)


def test_a_sales_key_may_not_add_leads(sales: ApiClient) -> None:
    before = counts()

    response = post(sales, {"email": "ana@example.com"})

    assert response.status_code == 403
    assert error_of(response) == {
        "code": "forbidden",
        "message": "Only marketing can add leads.",
    }
    assert counts() == before


def test_an_admin_key_may(admin: ApiClient) -> None:
    assert post(admin, {"email": "ana@example.com"}).status_code == 201


# -- mappings --------------------------------------------------------------------

TOOL_MAPPING = {
    "fields": {
        "email": "data.fields.email",
        "name": "data.fields.0",
        "intent": "data.answers.1.text",
        "source": "meta.utm_source",
    },
    "defaults": {"source": "web_form", "campaign": "Spring webinar"},
    "values": {"source": {"google": "paid_search"}},
}


def tool_payload(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": "evt_123",
        "data": {
            "fields": {"email": "ana@example.com", "0": "Ana Lima", **fields},
            "answers": [{"text": "first"}, {"text": "wants a demo"}],
        },
        "meta": {"utm_source": "google"},
    }


def test_a_mapped_key_takes_the_form_tools_own_payload(
    people: dict[str, User],
) -> None:
    client = client_with(key_for("marketing", "tool", TOOL_MAPPING))

    response = post(client, tool_payload())

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.email == "ana@example.com"
    assert lead.name == "Ana Lima"
    assert lead.intent == "wants a demo"
    assert lead.source == "paid_search"
    assert lead.campaign == "Spring webinar"


def test_a_mapped_default_fills_what_the_payload_lacks(
    people: dict[str, User],
) -> None:
    client = client_with(key_for("marketing", "tool", TOOL_MAPPING))
    payload = tool_payload()
    del payload["meta"]

    post(client, payload)

    assert Lead.objects.get().source == "web_form"


def test_a_strict_mapping_refuses_fields_it_does_not_read(
    people: dict[str, User],
) -> None:
    client = client_with(key_for("marketing", "tool", {**TOOL_MAPPING, "strict": True}))

    response = post(client, tool_payload())

    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert [f["field"] for f in fields] == ["event_id"]


def test_a_mapped_path_of_the_wrong_type_is_named_by_its_path(
    people: dict[str, User],
) -> None:
    client = client_with(key_for("marketing", "tool", TOOL_MAPPING))

    response = post(client, tool_payload(email={"nested": True}))

    assert response.status_code == 422
    assert error_of(response)["fields"] == [
        {"field": "data.fields.email", "message": "must be text"}
    ]


# -- idempotency -----------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    marketing: ApiClient,
) -> None:
    body = {"email": "ana@example.com", "source": "event"}
    first = post(marketing, body, **{"Idempotency-Key": "retry-1"})

    again = post(marketing, body, **{"Idempotency-Key": "retry-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert first["Idempotent-Replayed"] == "false"
    assert again["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert Event.objects.count() == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(
    marketing: ApiClient,
) -> None:
    post(marketing, {"email": "ana@example.com"}, **{"Idempotency-Key": "k"})
    before = counts()

    response = post(marketing, {"email": "bo@example.com"}, **{"Idempotency-Key": "k"})

    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_mismatch"
    assert counts() == before


def test_idempotency_keys_are_per_api_key(people: dict[str, User]) -> None:
    one = client_with(key_for("marketing", "one"))
    two = client_with(key_for("marketing", "two"))

    post(one, {"email": "ana@example.com"}, **{"Idempotency-Key": "same"})
    response = post(two, {"email": "bo@example.com"}, **{"Idempotency-Key": "same"})

    assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_a_refused_request_is_not_remembered_and_runs_again(
    marketing: ApiClient,
) -> None:
    refused = post(marketing, {"source": "event"}, **{"Idempotency-Key": "r"})

    assert refused.status_code == 422
    assert IdempotentRequest.objects.count() == 0


@pytest.mark.parametrize("key", ["k" * 256, "", "   "])
def test_an_overlong_or_empty_idempotency_key_is_refused(
    marketing: ApiClient, key: str
) -> None:
    response = post(marketing, {"email": "ana@example.com"}, **{"Idempotency-Key": key})

    assert response.status_code == 422
    assert error_of(response)["fields"][0]["field"] == "Idempotency-Key"
    assert Lead.objects.count() == 0


# -- bad input: each refused with its status and message, nothing stored ---------


@pytest.mark.parametrize(
    ("raw", "status", "code", "fields"),
    [
        ('{"email": "ana@', 400, "malformed", None),
        (b"\xff\xfe not utf-8", 400, "malformed", None),
        ('["ana@example.com"]', 422, "invalid", [("body", "must be a JSON object")]),
        (
            '{"email": "ana@example.com", "colour": "red", "size": 3}',
            422,
            "invalid",
            [("colour", "unknown field"), ("size", "unknown field")],
        ),
        ('{"email": ["ana@example.com"]}', 422, "invalid", [("email", "must be text")]),
        (
            '{"email": "ana@example.com", "employees": "many"}',
            422,
            "invalid",
            [("employees", "must be a whole number of 0 or more")],
        ),
        (
            '{"email": "ana@example.com", "employees": true}',
            422,
            "invalid",
            [("employees", "must be a whole number")],
        ),
        (
            json.dumps({"email": "ana@example.com", "name": "x" * 201}),
            422,
            "invalid",
            [("name", "must be at most 200 characters (it has 201)")],
        ),
        (
            '{"email": "ana@example.com", "name": "a\\u0000b"}',
            422,
            "invalid",
            [("name", "must not contain the NUL character")],
        ),
    ],
)
def test_bad_input_is_refused_by_field_and_stores_nothing(
    marketing: ApiClient,
    raw: str | bytes,
    status: int,
    code: str,
    fields: list[tuple[str, str]] | None,
) -> None:
    before = counts()

    response = marketing.send("POST", URL, raw=raw)

    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code
    if fields is None:
        assert "fields" not in error
        assert error["message"].startswith("The body is not valid JSON")
    else:
        got = [(f["field"], f["message"].split(";")[0]) for f in error["fields"]]
        assert got == fields
    assert counts() == before


def test_a_source_off_the_contracts_list_is_a_refusal_naming_the_list(
    marketing: ApiClient,
) -> None:
    before = counts()

    response = post(marketing, {"email": "ana@example.com", "source": "tv"})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "refused"
    [unmet] = error["unmet"]
    assert unmet.startswith('a source from the contract\'s list ("tv" is not one of')
    assert "web_form" in unmet
    assert counts() == before


def test_an_inquiry_with_no_way_to_reply_is_refused(marketing: ApiClient) -> None:
    response = post(marketing, {"name": "Ana"})

    assert response.status_code == 422
    assert error_of(response)["unmet"] == ["an email, a phone or a record id"]
    assert Lead.objects.count() == 0


def test_an_oversized_body_is_413_and_stores_nothing(marketing: ApiClient) -> None:
    before = counts()
    raw = json.dumps({"email": "ana@example.com", "intent": "x" * 70_000})

    response = marketing.send("POST", URL, raw=raw)

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large"
    assert "at most 65536" in error["message"]
    assert counts() == before


def test_a_missing_key_is_401(people: dict[str, User]) -> None:
    response = ApiClient().send("POST", URL, {"email": "ana@example.com"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Send an API key" in error_of(response)["message"]
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("header", ["X-Api-Key", "Authorization"])
def test_a_revoked_key_is_401(people: dict[str, User], header: str) -> None:
    from leadrelay.api.keys import revoke_key

    key = key_for("marketing", "old")
    revoke_key("old")

    response = post(client_with(key, header), {"email": "ana@example.com"})

    assert response.status_code == 401
    assert "not valid, or was revoked" in error_of(response)["message"]
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "key", ["nonsense", "lr_0123456789_" + "x" * 43, "lr_zz_short"]
)
def test_an_unknown_or_malformed_key_is_401(people: dict[str, User], key: str) -> None:
    response = post(client_with(key), {"email": "ana@example.com"})

    assert response.status_code == 401
    assert Lead.objects.count() == 0
