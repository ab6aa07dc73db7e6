"""/api/v1/pulse, /api/v1/contract and /api/v1/me."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from leadrelay.contract import default_text
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week
from leadrelay.workspace import load_contract

from .conftest import ApiClient, error_of, ready_lead, session_of

pytestmark = pytest.mark.django_db


def test_the_pulse_of_a_week_is_the_commands_json(
    admin: ApiClient, people: dict[str, User]
) -> None:
    ready_lead()
    week = Week.containing(timezone.now().date())

    response = admin.get("/api/v1/pulse", {"week": str(week)})

    assert response.status_code == 200
    body = response.json()
    assert body["week"] == str(week)
    assert body["leads_in"]["total"] == 1
    expected = pulse(load_contract(), week)
    assert set(body) == set(expected)


def test_the_pulse_defaults_to_the_last_complete_week(admin: ApiClient) -> None:
    response = admin.get("/api/v1/pulse")

    expected = Week.last_complete(timezone.now(), load_contract().tz)
    assert response.json()["week"] == str(expected)


@pytest.mark.parametrize("week", ["2018-W99", "last week", "2018-W1O"])
def test_a_bad_week_is_named(admin: ApiClient, week: str) -> None:
    response = admin.get("/api/v1/pulse", {"week": week})

    assert response.status_code == 422
    [problem] = error_of(response)["fields"]
    assert problem["field"] == "week"


def test_the_contract_in_force_with_its_version(admin: ApiClient) -> None:
    response = admin.get("/api/v1/contract")

    assert response.status_code == 200
    body = response.json()
    contract = load_contract()
    assert body["version"] == contract.sha256[:12]
    assert body["sha256"] == contract.sha256
    assert body["text"] == default_text()
    assert [s["key"] for s in body["content"]["stages"]][0] == "inquiry"
    assert "event" in body["content"]["sources"]


def test_me_says_who_the_key_or_person_is(
    admin: ApiClient, people: dict[str, User]
) -> None:
    by_key = admin.get("/api/v1/me").json()
    by_session = session_of(people["sam"]).get("/api/v1/me").json()

    assert by_key["via"] == "key"
    assert by_key["roles"] == ["admin", "marketing", "sales"]
    assert by_key["key"]["role"] == "admin"
    assert by_session == {
        "name": "sam",
        "roles": ["sales"],
        "via": "session",
        "key": None,
    }
