"""Who is calling: an API key (two headers) or a signed-in person (the session).

Each resolves to an `Actor` holding roles from `workflow.roles`: a person's
are the web app's, so the same person gets the same answer in both; a key
has the one role it was made with, and an admin key holds all three, since
the operator who makes keys can do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader, HttpBearer
from ninja.security.session import SessionAuth

from leadrelay.api.errors import ApiError
from leadrelay.api.keys import find_key
from leadrelay.models import ApiKey
from leadrelay.workflow.roles import ACTIONS, ADMIN, ROLES, not_allowed, roles_of

_BAD_KEY = (
    "The API key is not valid, or was revoked; "
    "`leadrelay apikey list` shows the live ones."
)


@dataclass(frozen=True)
class Actor:
    #: What events record as having done it: a username, or "key:<name>".
    name: str
    roles: frozenset[str]
    #: Whose idempotency keys these are: "key:<id>" or "user:<id>".
    scope: str
    key: ApiKey | None = None

    def may(self, action: str) -> bool:
        return bool(self.roles & ACTIONS[action])

    def require(self, action: str) -> None:
        if not self.may(action):
            raise ApiError(403, "forbidden", not_allowed(action))

    def require_any_role(self) -> None:
        if not self.roles:
            raise ApiError(
                403,
                "forbidden",
                "Your account has no role yet. An admin can give you one: "
                "marketing, sales or admin.",
            )


def _key_actor(raw: str) -> Actor:
    key = find_key(raw)
    if key is None:
        raise AuthenticationError(401, _BAD_KEY)

    roles = frozenset(ROLES) if key.role == ADMIN else frozenset({key.role})
    return Actor(key.actor, roles, f"key:{key.pk}", key)


class BearerKey(HttpBearer):
    """`Authorization: Bearer lr_...`"""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return _key_actor(token) if token.strip() else None


class HeaderKey(APIKeyHeader):
    """`X-Api-Key: lr_...`"""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return _key_actor(key) if key and key.strip() else None


class Session(SessionAuth):
    """A person signed in to the web app; writes need the CSRF token."""

    def __call__(self, request: HttpRequest) -> Any:
        # Without a session there is nothing to protect from forgery: answer
        # 401 for the missing credentials rather than 403 for the token.
        if not request.user.is_authenticated:
            return None

        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None

        return Actor(user.get_username(), roles_of(user), f"user:{user.pk}")


def actor_of(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


#: Tried in this order: a key sent in either header wins over a session.
AUTH = [BearerKey(), HeaderKey(), Session()]
