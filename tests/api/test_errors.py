"""Every error the API gives, requested once each, in the one documented shape.

The shape itself is checked by the test client (`ApiClient`) on every error
response of every API test; here each path to an error is walked once, with
the status and code docs/api.md gives for it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from leadrelay.api import info
from leadrelay.api.keys import revoke_key
from leadrelay.workflow import ops
from leadrelay.workspace import load_contract

from .conftest import ApiClient, client_with, error_of, key_for, session_of

pytestmark = pytest.mark.django_db

#: (what, method, path, body or raw text, status, code)
CATALOGUE: list[tuple[str, str, str, Any, int, str]] = [
    ("malformed JSON", "POST", "/api/v1/leads", "{nope", 400, "malformed"),
    ("wrong type", "POST", "/api/v1/leads", {"employees": "x"}, 422, "invalid"),
    ("unknown field", "POST", "/api/v1/leads", {"colour": "red"}, 422, "invalid"),
    ("missing field", "POST", "/api/v1/leads/{lead}/move", {}, 422, "invalid"),
    ("bad query", "GET", "/api/v1/leads?limit=nine", None, 422, "invalid"),
    ("bad id", "GET", "/api/v1/leads/0x10", None, 422, "invalid"),
    ("huge id", "GET", f"/api/v1/leads/{2**64}", None, 422, "invalid"),
    ("gate refusal", "POST", "/api/v1/leads/{lead}/won", None, 422, "refused"),
    ("unknown lead", "POST", "/api/v1/leads/987654/claim", None, 404, "not_found"),
    ("unknown path", "GET", "/api/v1/nothing/here", None, 404, "not_found"),
    ("wrong method", "DELETE", "/api/v1/leads/{lead}", None, 405, "method_not_allowed"),
    ("oversized body", "POST", "/api/v1/intake", "x" * 70_000, 413, "too_large"),
]


@pytest.mark.parametrize(
    ("what", "method", "path", "body", "status", "code"),
    CATALOGUE,
    ids=[c[0] for c in CATALOGUE],
)
def test_each_error_has_its_status_code_and_the_shape(
    admin: ApiClient,
    people: dict[str, User],
    what: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    lead = ops.create("mia", load_contract(), {"email": "ana@example.com"})
    path = path.format(lead=lead.pk)

    if isinstance(body, str):
        response = admin.send(method, path, raw=body)
    else:
        response = admin.send(method, path, body)

    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_no_credentials_is_401(db: None) -> None:
    response = ApiClient().get("/api/v1/leads")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_revoked_key_is_401(people: dict[str, User]) -> None:
    client = client_with(key_for("admin", "gone"))
    revoke_key("gone")

    response = client.get("/api/v1/leads")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_role_that_does_not_allow_it_is_403(sales: ApiClient) -> None:
    response = sales.send("POST", "/api/v1/leads", {"email": "a@example.com"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_a_session_write_without_csrf_is_403(people: dict[str, User]) -> None:
    client = session_of(people["mia"], enforce_csrf=True)

    response = client.send("POST", "/api/v1/leads", {"email": "a@example.com"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_a_validation_error_names_each_field(admin: ApiClient) -> None:
    response = admin.send(
        "POST", "/api/v1/leads", {"email": 3, "employees": -1, "colour": "red"}
    )

    error = error_of(response)
    assert error["fields"] == [
        {"field": "email", "message": "must be text"},
        {"field": "employees", "message": "must be 0 or more"},
        {"field": "colour", "message": "unknown field"},
    ]
    assert error["message"].startswith("Not valid: email: must be text;")
    assert "unmet" not in error


def test_a_refusal_lists_every_unmet_condition_and_no_fields(
    admin: ApiClient, people: dict[str, User]
) -> None:
    lead = ops.create("mia", load_contract(), {"email": "ana@example.com"})

    response = admin.send("POST", f"/api/v1/leads/{lead.pk}/handoff", {})

    error = error_of(response)
    assert response.status_code == 422
    assert error["message"].startswith("handoff needs: ")
    assert error["unmet"][:2] == ["source", "ICP tag industry"]
    assert "fields" not in error


def test_a_broken_contract_is_503(admin: ApiClient, workspace: Any) -> None:
    workspace.write_text("[funnel]\nname = 3\n", encoding="utf-8")

    response = admin.get("/api/v1/contract")

    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "contract_broken"
    assert "leadrelay contract check" in error["message"]


def test_an_unexpected_failure_is_500_in_the_shape(
    admin: ApiClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(info, "pulse", broken)

    response = admin.get("/api/v1/pulse", {"week": "2018-W10"})

    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "fire" not in error["message"]
    assert "the disk is on fire" in caplog.text


def test_a_query_parameter_given_twice_is_refused(admin: ApiClient) -> None:
    response = admin.get("/api/v1/leads?source=event&source=email")

    assert response.status_code == 422
    assert error_of(response)["fields"] == [
        {"field": "source", "message": "give it once"}
    ]


@pytest.mark.parametrize("value", [False, "40", 40.5])
def test_a_number_of_employees_must_be_a_json_integer(
    admin: ApiClient, value: Any
) -> None:
    response = admin.send(
        "POST", "/api/v1/leads", {"email": "a@example.com", "employees": value}
    )

    assert response.status_code == 422
    assert error_of(response)["fields"][0]["field"] == "employees"


@pytest.mark.parametrize(
    "path", ["/api/v1/leads?owner=a%00b", "/api/v1/pulse?week=2018-W1%00"]
)
def test_a_nul_character_in_a_query_is_refused(admin: ApiClient, path: str) -> None:
    response = admin.get(path)

    assert response.status_code == 422
    assert "NUL" in error_of(response)["fields"][0]["message"]
