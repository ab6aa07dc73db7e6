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
