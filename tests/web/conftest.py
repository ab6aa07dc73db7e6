from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from leadrelay.contract import default_text

# Playwright's sync API runs an event loop in this thread, which makes Django
# refuse ORM calls from it unless told that this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "a long test password 7"

#: Debian's Chromium, with everything that would reach beyond this machine off.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(autouse=True)
def workspace(settings: Any, tmp_path: Path) -> Path:
    """Give each test its own default funnel.toml, and fast password hashing."""
    path = tmp_path / "funnel.toml"
    path.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return path


def make_person(username: str, *roles: str, active: bool = True) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_active=active)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def personas(db: None) -> dict[str, User]:
    """One person per role: mia in marketing, sam and sue in sales, ada the admin."""
    return {
        "marketing": make_person("mia", "marketing"),
        "sales": make_person("sam", "sales"),
        "sales2": make_person("sue", "sales"),
        "admin": make_person("ada", "admin"),
    }


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"the browser tests drive Debian's Chromium at {CHROMIUM}")

    from playwright.sync_api import sync_playwright

    # launch() starts Chromium on a fresh user-data folder of its own in the
    # temporary directory and deletes it on close: no profile is reused.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
