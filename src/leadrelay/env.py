"""Every environment variable leadrelay reads, read through one typed helper.

A wrong value stops the program at start with the variable's name and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: The variables, with what each does; the README lists the same.
VARIABLES = {
    "LEADRELAY_WORKSPACE": "folder holding funnel.toml and the SQLite database (default: .)",
    "LEADRELAY_DATABASE_URL": "postgresql://user:pass@host:port/db or sqlite:///path (default: the workspace's leadrelay.sqlite3)",
    "LEADRELAY_SECRET_KEY": "secret for sessions and signed values; required when LEADRELAY_DEBUG is off",
    "LEADRELAY_DEBUG": "1 to show Django's debug pages (default: 0)",
    "LEADRELAY_ALLOWED_HOSTS": "comma-separated host names the web app answers to (default: 127.0.0.1,localhost)",
    "LEADRELAY_CSRF_TRUSTED_ORIGINS": "comma-separated origins (https://crm.example.com) allowed to post forms, when behind a proxy",
    "LEADRELAY_BEHIND_HTTPS_PROXY": "1 when a proxy in front ends TLS and sets X-Forwarded-Proto (default: 0)",
}

#: The key used when none is set; wsgi.py refuses to serve with it.
DEFAULT_SECRET = "leadrelay-local-only-not-a-secret"


class SettingError(Exception):
    pass


def text(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def flag(name: str, default: bool = False) -> bool:
    raw = text(name)
    if not raw:
        return default

    if raw.lower() in ("1", "true", "yes", "on"):
        return True

    if raw.lower() in ("0", "false", "no", "off"):
        return False

    raise SettingError(f"{name}={raw!r} is not a yes/no value; set it to 1 or 0")


def items(name: str, default: str) -> list[str]:
    return [part.strip() for part in text(name, default).split(",") if part.strip()]


def workspace() -> Path:
    return Path(text("LEADRELAY_WORKSPACE", ".") or ".").expanduser().resolve()


@dataclass(frozen=True)
class Database:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    def django(self) -> dict[str, object]:
        if self.engine == "sqlite":
            return {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": self.name,
                "OPTIONS": {
                    # WAL lets readers go on while one writer commits;
                    # IMMEDIATE takes the write lock at BEGIN so that two
                    # writers queue instead of failing half-way.
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 20,
                },
                "TEST": {"NAME": None},
            }

        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "CONN_MAX_AGE": 60,
        }


def database(default_path: Path) -> Database:
    raw = text("LEADRELAY_DATABASE_URL")
    if not raw:
        return Database("sqlite", str(default_path))

    return parse_database_url(raw)


def parse_database_url(raw: str) -> Database:
    fix = "use postgresql://user:password@host:5432/name or sqlite:///path/to/file.sqlite3"
    if raw in ("sqlite://:memory:", "sqlite:///:memory:"):
        return Database("sqlite", ":memory:")

    parts = urlsplit(raw)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path or path == "/":
            raise SettingError(f"LEADRELAY_DATABASE_URL={raw!r} names no file; {fix}")
        # sqlite:///relative and sqlite:////absolute, as other tools write them.
        return Database("sqlite", path[1:])

    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise SettingError(
                f"LEADRELAY_DATABASE_URL={raw!r} names no database; {fix}"
            )
        return Database(
            "postgresql",
            name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=str(parts.port or ""),
        )

    raise SettingError(
        f"LEADRELAY_DATABASE_URL={raw!r}: unknown scheme {parts.scheme!r}; {fix}"
    )


def secret_key(path: Path) -> tuple[str, str]:
    """Return the secret key and where it came from: "env", "file" or "default"."""
    key = text("LEADRELAY_SECRET_KEY")
    if key:
        return key, "env"

    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError:
        key = ""
    if key:
        return key, "file"

    return DEFAULT_SECRET, "default"


def write_secret_key(path: Path) -> bool:
    """Write a new random secret key to `path` unless one is there; say whether it wrote."""
    import os
    import secrets

    if path.exists():
        return False

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return True


# -- notifications ---------------------------------------------------------------

VARIABLES.update(
    {
        "LEADRELAY_SMTP_HOST": "SMTP server for email notifications; unset: emails are printed to the worker's output",
        "LEADRELAY_SMTP_PORT": "its port (default: 587, or 465 with LEADRELAY_SMTP_TLS=ssl)",
        "LEADRELAY_SMTP_USER": "SMTP user name, if the server wants one",
        "LEADRELAY_SMTP_PASSWORD": "SMTP password",
        "LEADRELAY_SMTP_TLS": "starttls (default), ssl, or off for a relay on this machine",
        "LEADRELAY_EMAIL_FROM": "the From address of notifications (default: leadrelay@localhost)",
        "LEADRELAY_CHAT_WEBHOOK_URL": "incoming-webhook URL (Slack-compatible) for chat alerts and the digest; a team's own overrides it",
        "LEADRELAY_ALLOW_PRIVATE_WEBHOOKS": "1 to allow webhooks on private or loopback addresses, or a list of the allowed ones: 127.0.0.1,10.0.0.0/8",
        "LEADRELAY_BASE_URL": "the web app's address, for links in notifications (https://crm.example.com)",
    }
)

#: How LEADRELAY_SMTP_TLS may be set, and what each means to Django:
#: (EMAIL_USE_TLS, EMAIL_USE_SSL).
SMTP_TLS = {
    "starttls": (True, False),
    "ssl": (False, True),
    "off": (False, False),
    "1": (True, False),
    "0": (False, False),
}


#: What LEADRELAY_ALLOW_PRIVATE_WEBHOOKS=1 allows: private, shared and
#: loopback networks; never link-local ones.
PRIVATE_NETWORKS = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "::1/128",
    "fc00::/7",
)


def integer(name: str, default: int, low: int, high: int) -> int:
    raw = text(name)
    if not raw:
        return default

    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingError(f"{name}={raw!r} is not a whole number from {low} to {high}")

    return value


def smtp_tls(name: str) -> tuple[bool, bool]:
    raw = text(name, "starttls").lower()
    if raw not in SMTP_TLS:
        raise SettingError(
            f"{name}={raw!r}: use starttls (port 587), ssl (port 465) or off"
        )

    return SMTP_TLS[raw]


def http_url(name: str, example: str) -> str:
    """Return an http(s) URL with a host, or "" when unset."""
    raw = text(name)
    if not raw:
        return ""

    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The value itself is not repeated: a webhook URL is a secret.
        raise SettingError(
            f"{name} is not an http(s) URL with a host; give the whole address, "
            f"like {example}"
        )

    return raw


def networks(name: str) -> tuple[str, ...]:
    """Return the networks an operator allows on private addresses, as text.

    "1" allows private and loopback networks, but not link-local ones (where
    cloud metadata services answer): those must be named.
    """
    import ipaddress

    raw = text(name)
    if not raw or raw.lower() in ("0", "false", "no", "off"):
        return ()

    if raw.lower() in ("1", "true", "yes", "on"):
        return PRIVATE_NETWORKS

    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingError(
                f"{name}: {part!r} is not an address or network; set 1 to allow "
                "private addresses, or list them: 127.0.0.1,10.0.0.0/8"
            ) from None

    return tuple(out)
