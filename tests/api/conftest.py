"""What the API tests share: the workspace, personas, keys, a client that checks errors.

Every response of the API that a test's client receives with a status of
400 or more is checked against the one error shape, so each test also tests
that its errors have it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.test import Client
from django.utils import timezone

from leadrelay.api.keys import create_key
from leadrelay.contract import default_text
from leadrelay.models import Lead
from leadrelay.workflow import ops
from leadrelay.workspace import load_contract

PASSWORD = "a long test password 7"

#: A lead whose handoff checklist holds, apart from the due time.
READY = {
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
}

ERROR_KEYS = {"code", "message", "fields", "unmet"}


def assert_error_shape(body: Any) -> dict[str, Any]:
    """Check one error body against the API's one shape; return its inner object."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    inner = body["error"]
    assert isinstance(inner, dict) and set(inner) <= ERROR_KEYS, inner
    assert isinstance(inner["code"], str) and inner["code"], inner
    assert isinstance(inner["message"], str) and inner["message"], inner
    if "fields" in inner:
        assert isinstance(inner["fields"], list) and inner["fields"], inner
        for item in inner["fields"]:
            assert set(item) == {"field", "message"}, item
            assert all(isinstance(v, str) and v for v in item.values()), item
    if "unmet" in inner:
        assert inner["code"] == "refused", inner
        assert isinstance(inner["unmet"], list) and inner["unmet"], inner
        assert all(isinstance(v, str) and v for v in inner["unmet"]), inner
    return inner


class ApiClient(Client):
    """Django's test client, sending JSON, checking the shape of every API error."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        if (
            request.get("PATH_INFO", "").startswith("/api/")
            and response.status_code >= 400
        ):
            assert response["Content-Type"].startswith("application/json")
            assert_error_shape(json.loads(response.content))
        return response

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.generic(
            method, path, data, content_type="application/json", headers=headers
        )


def error_of(response: Any) -> dict[str, Any]:
    return assert_error_shape(json.loads(response.content))


@pytest.fixture(autouse=True)
def workspace(settings: Any, tmp_path: Path) -> Path:
    """Give each test its own default funnel.toml, and fast password hashing."""
    path = tmp_path / "funnel.toml"
    path.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return path


def make_person(username: str, *roles: str, superuser: bool = False) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_superuser=superuser)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def people(db: None) -> dict[str, User]:
    """mia in marketing, sam and sue in sales, ada an admin (and nothing else)."""
    return {
        "mia": make_person("mia", "marketing"),
        "sam": make_person("sam", "sales"),
        "sue": make_person("sue", "sales"),
        "ada": make_person("ada", "admin"),
    }


def key_for(role: str, name: str = "", mapping: dict[str, Any] | None = None) -> str:
    _, raw = create_key(name or f"{role}-key", role, mapping)
    return raw


def client_with(key: str, header: str = "X-Api-Key") -> ApiClient:
    value = f"Bearer {key}" if header == "Authorization" else key
    return ApiClient(headers={header: value})


@pytest.fixture
def marketing(people: dict[str, User]) -> ApiClient:
    return client_with(key_for("marketing"))


@pytest.fixture
def sales(people: dict[str, User]) -> ApiClient:
    return client_with(key_for("sales"))


@pytest.fixture
def admin(people: dict[str, User]) -> ApiClient:
    return client_with(key_for("admin"), "Authorization")


def session_of(user: User, enforce_csrf: bool = False) -> ApiClient:
    client = ApiClient(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


def ready_lead(**overrides: Any) -> Lead:
    fields = {**READY, "next_action_due": timezone.now() + timedelta(days=2)}
    fields.update(overrides)
    return ops.create("mia", load_contract(), fields)


def counts() -> dict[str, int]:
    """Rows that any intake or API write would add, by table."""
    from leadrelay.models import Event, FormSubmission, IdempotentRequest, KnownEmail

    return {
        "leads": Lead.objects.count(),
        "events": Event.objects.count(),
        "known emails": KnownEmail.objects.count(),
        "replays": IdempotentRequest.objects.count(),
        "submissions": FormSubmission.objects.count(),
    }


# -- a live server on loopback, on a database its threads share ----------------------


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """Make the default database one that several connections can open at once.

    As in tests/workflow/test_concurrency.py: an in-memory SQLite database
    lives in one connection, so on SQLite the test moves to a file of its
    own; PostgreSQL's test database is shared already.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return

    in_memory = connections["default"]
    settings = in_memory.settings_dict
    name = settings["NAME"]
    settings["NAME"] = str(tmp_path / "api.sqlite3")
    connections["default"] = SQLiteWrapper(settings, "default")
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        connections["default"].close()
        settings["NAME"] = name
        connections["default"] = in_memory


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def live_api(shared_database: None) -> Iterator[str]:
    """Serve the app on a free loopback port, a thread per request; yield its URL.

    Each request thread opens its own database connection, and Django's
    threaded server closes it when the request ends.
    """
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
