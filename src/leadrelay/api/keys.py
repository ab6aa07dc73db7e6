"""API keys: made from a random secret, shown once, stored as a sha256 digest.

A key reads `lr_<prefix>_<secret>`: the prefix (10 hex digits) is public
and finds the row; the secret (32 random bytes) is what makes it a key.
With 256 bits of randomness a plain sha256 is enough: a slow password hash
protects guessable secrets, and nobody can guess this one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leadrelay.models import ApiKey
from leadrelay.workflow.ops import Refused
from leadrelay.workflow.roles import ROLES

_KEY_RE = re.compile(r"^lr_([0-9a-f]{10})_([A-Za-z0-9_-]{20,100})$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")

#: How often a key's last use is written: at most once in this long, so that
#: a busy key does not turn every read into a write.
_TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_key(
    name: str, role: str, mapping: dict[str, Any] | None = None
) -> tuple[ApiKey, str]:
    """Store a new key; return its row and the key itself, which is not kept."""
    name = name.strip().lower()
    problems = []
    if not _NAME_RE.match(name):
        problems.append(
            "a name of up to 60 lower-case letters, digits and . _ - "
            f'("{name}" is not one)'
        )
    elif ApiKey.objects.filter(name=name).exists():
        problems.append(f'a name no other key has ("{name}" is taken)')
    if role not in ROLES:
        problems.append(f'a role among {", ".join(ROLES)} ("{role}" is not one)')
    if problems:
        raise Refused("create key", problems)

    while True:
        prefix = secrets.token_hex(5)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break

    raw = f"lr_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name, prefix=prefix, digest=digest(raw), role=role, mapping=mapping or {}
    )
    return key, raw


def find_key(raw: str) -> ApiKey | None:
    """Return the live key `raw` is, or None for a malformed, unknown or revoked one."""
    match = _KEY_RE.match(raw.strip())
    if not match:
        return None

    key = ApiKey.objects.filter(prefix=match[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.digest, digest(raw.strip())):
        return None

    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def revoke_key(name_or_prefix: str) -> ApiKey:
    """Revoke the key with this name or prefix; refuse when none or several match."""
    wanted = name_or_prefix.strip().lower()
    if wanted.startswith("lr_"):
        wanted = wanted[3:].split("_", 1)[0]

    with transaction.atomic():
        found = list(
            ApiKey.objects.select_for_update().filter(Q(name=wanted) | Q(prefix=wanted))
        )
        if not found:
            raise Refused("revoke", [f'a key named "{wanted}" or with that prefix'])
        if len(found) > 1:
            names = ", ".join(k.name for k in found)
            raise Refused(
                "revoke", [f"one key, not several ({names}): give the prefix"]
            )

        [key] = found
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
        return key
