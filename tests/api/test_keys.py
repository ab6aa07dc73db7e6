"""API keys: made once, stored as a digest, revoked, listed; their mappings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadrelay.api.keys import create_key, find_key, revoke_key
from leadrelay.api.mapping import MappingError, parse
from leadrelay.models import ApiKey
from leadrelay.workflow.ops import Refused

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_digest_with_a_public_prefix() -> None:
    key, raw = create_key("zapier", "marketing")

    assert raw.startswith(f"lr_{key.prefix}_")
    assert len(raw) > 50
    stored = ApiKey.objects.filter(pk=key.pk).values()[0]
    assert raw not in {str(v) for v in stored.values()}
    assert stored["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert find_key(raw) == key


def test_a_key_with_a_wrong_secret_is_not_found() -> None:
    key, raw = create_key("zapier", "marketing")

    assert find_key(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None


def test_a_revoked_key_is_not_found_and_stays_listed() -> None:
    key, raw = create_key("zapier", "marketing")

    revoke_key(key.prefix)

    assert find_key(raw) is None
    assert ApiKey.objects.get().revoked_at is not None


def test_revoking_an_unknown_key_is_refused() -> None:
    with pytest.raises(Refused, match='a key named "nope"'):
        revoke_key("nope")


@pytest.mark.parametrize(
    ("name", "role", "problem"),
    [
        ("Zap Ier", "marketing", "a name of up to 60"),
        ("zapier", "boss", "a role among marketing, sales, admin"),
    ],
)
def test_a_bad_name_or_role_is_refused(name: str, role: str, problem: str) -> None:
    with pytest.raises(Refused, match=problem):
        create_key(name, role)


def test_a_name_is_used_once() -> None:
    create_key("zapier", "marketing")

    with pytest.raises(Refused, match="is taken"):
        create_key("zapier", "sales")


def test_the_command_prints_the_key_once_and_lists_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mapping = tmp_path / "zapier.toml"
    mapping.write_text('[fields]\nemail = "data.email"\n', encoding="utf-8")

    call_command(
        "apikey",
        "create",
        "--name",
        "zapier",
        "--role",
        "marketing",
        "--mapping",
        str(mapping),
    )
    made = capsys.readouterr()
    call_command("apikey", "list")
    listed = capsys.readouterr().out
    call_command("apikey", "revoke", "zapier")
    revoked = capsys.readouterr().out

    raw = made.out.strip()
    assert find_key(raw) is None  # revoked by now
    assert "shown only this once" in made.err
    assert raw not in listed
    assert "zapier" in listed and "live, mapped" in listed
    assert revoked.startswith("revoked zapier")
    assert ApiKey.objects.get().mapping == {"fields": {"email": "data.email"}}


def test_the_command_refuses_a_bad_mapping_with_each_place(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        '[fields]\nemial = "data.email"\nname = 3\n[colours]\n', encoding="utf-8"
    )

    with pytest.raises(CommandError) as refused:
        call_command(
            "apikey",
            "create",
            "--name",
            "z",
            "--role",
            "marketing",
            "--mapping",
            str(mapping),
        )

    assert refused.value.returncode == 2
    message = str(refused.value)
    assert "colours: not a section" in message
    assert "fields.emial: not a lead field" in message
    assert 'fields.name: must be a dotted path such as "data.email"' in message
    assert not ApiKey.objects.exists()


def test_a_json_mapping_is_read_too() -> None:
    data = parse('{"fields": {"email": "a.b"}, "strict": true}', "m.json")

    assert data == {"fields": {"email": "a.b"}, "strict": True}


def test_a_mapping_that_is_not_toml_says_so() -> None:
    with pytest.raises(MappingError, match="not valid TOML"):
        parse("fields = [", "m.toml")
