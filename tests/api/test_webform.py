"""The public forms at /f/<slug>: one inquiry per render, guarded, with clear messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from leadrelay.api.limits import Rate
from leadrelay.models import Event, FormSubmission, IntakeForm, Lead

from .conftest import counts

pytestmark = pytest.mark.django_db

PAGE = "/f/spring-webinar"


@pytest.fixture
def form(db: None) -> IntakeForm:
    return IntakeForm.objects.create(
        slug="spring-webinar",
        source="event",
        campaign="Spring webinar",
        fields=["email", "name", "company", "intent"],
    )


def token_of(response: Any) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the form carries no token"
    return match[1]


def send(client: Client, path: str = PAGE, **fields: str) -> Any:
    token = token_of(client.get(path))
    return client.post(path, {"token": token, **fields})


def test_the_form_asks_for_its_fields(form: IntakeForm) -> None:
    page = Client().get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    for name in ("email", "name", "company", "intent"):
        assert f'name="{name}"' in html
    assert 'name="phone"' not in html
    assert "csrfmiddlewaretoken" in html
    assert page["X-Frame-Options"] == "DENY"


def test_sending_it_files_an_inquiry_with_the_forms_source_and_campaign(
    form: IntakeForm,
) -> None:
    response = send(Client(), email="Ana@Example.com", name="Ana", intent="a demo")

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.email, lead.name, lead.intent) == ("ana@example.com", "Ana", "a demo")
    assert (lead.source, lead.campaign) == ("event", "Spring webinar")
    assert Event.objects.get().actor == "form:spring-webinar"


def test_sending_one_render_twice_files_one_inquiry(form: IntakeForm) -> None:
    client = Client()
    token = token_of(client.get(PAGE))

    first = client.post(PAGE, {"token": token, "email": "ana@example.com"})
    again = client.post(PAGE, {"token": token, "email": "ana@example.com"})

    assert first.status_code == again.status_code == 200
    assert "Thank you" in again.content.decode()
    assert Lead.objects.count() == 1
    assert Event.objects.count() == 1
    assert FormSubmission.objects.get().lead == Lead.objects.get()


def test_a_known_email_from_a_new_render_joins_its_lead(form: IntakeForm) -> None:
    send(Client(), email="ana@example.com")

    send(Client(), email=" ANA@example.com", intent="pricing")

    assert Lead.objects.count() == 1
    assert (
        Event.objects.filter(kind="updated").get().data["inquiry"]["intent"]
        == "pricing"
    )


def test_the_honeypot_thanks_a_bot_and_keeps_nothing(form: IntakeForm) -> None:
    before = counts()

    response = send(Client(), email="bot@example.com", website="http://spam.example")

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"name": "Ana"}, "email", "Enter your email."),
        (
            {"email": "ana@example.com", "name": "x" * 201},
            "name",
            "Ensure this value has at most 200 characters (it has 201).",
        ),
    ],
)
def test_each_wrong_field_gets_its_own_message(
    form: IntakeForm, fields: dict[str, str], field: str, message: str
) -> None:
    response = send(Client(), **fields)

    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_{field}-error">{message}</p>' in html
    assert Lead.objects.count() == 0


def test_what_was_typed_stays_in_the_form(form: IntakeForm) -> None:
    response = send(Client(), email="nope", name="Ana Lima")

    assert 'value="Ana Lima"' in response.content.decode()


def test_a_forged_or_old_token_is_refused(form: IntakeForm) -> None:
    response = Client().post(PAGE, {"token": "made-up", "email": "ana@example.com"})

    assert response.status_code == 400
    assert "open too long" in response.content.decode()
    assert Lead.objects.count() == 0


def test_a_token_works_only_for_its_own_form(form: IntakeForm) -> None:
    IntakeForm.objects.create(slug="other", source="event", fields=["email"])
    token = token_of(Client().get("/f/other"))

    response = Client().post(PAGE, {"token": token, "email": "ana@example.com"})

    assert response.status_code == 400


def test_a_source_the_contract_no_longer_allows_is_a_clear_refusal(
    form: IntakeForm,
) -> None:
    IntakeForm.objects.filter(pk=form.pk).update(source="tv")

    response = send(Client(), email="ana@example.com")

    assert response.status_code == 422
    assert "is not one of" in response.content.decode()
    assert Lead.objects.count() == 0


def test_the_rate_limit_counts_posts_per_address(
    form: IntakeForm, settings: Any
) -> None:
    settings.FORM_RATE_LIMIT = Rate(2, 3600)
    client = Client(REMOTE_ADDR="203.0.113.9")

    answers = [send(client, email=f"p{i}@example.com").status_code for i in range(3)]
    elsewhere = send(Client(REMOTE_ADDR="203.0.113.10"), email="q@example.com")

    assert answers == [200, 200, 429]
    assert elsewhere.status_code == 200
    assert Lead.objects.count() == 3


def test_a_rate_of_zero_turns_the_limit_off(form: IntakeForm, settings: Any) -> None:
    settings.FORM_RATE_LIMIT = Rate(0, 3600)

    answers = [send(Client(), email=f"p{i}@example.com").status_code for i in range(3)]

    assert answers == [200, 200, 200]


def test_the_page_needs_the_csrf_token(form: IntakeForm) -> None:
    client = Client(enforce_csrf_checks=True)
    token = token_of(client.get(PAGE))

    forged = Client(enforce_csrf_checks=True).post(
        PAGE, {"token": token, "email": "ana@example.com"}
    )

    assert forged.status_code == 403
    assert Lead.objects.count() == 0


def test_the_embed_is_frameable_and_works_without_a_cookie(form: IntakeForm) -> None:
    page = Client().get(f"{PAGE}/embed")
    token = token_of(page)

    sent = Client(enforce_csrf_checks=True).post(
        f"{PAGE}/embed", {"token": token, "email": "ana@example.com"}
    )

    assert "X-Frame-Options" not in page
    assert "csrfmiddlewaretoken" not in page.content.decode()
    assert sent.status_code == 200
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("slug", ["nope", "off"])
def test_an_unknown_or_disabled_form_is_404(form: IntakeForm, slug: str) -> None:
    IntakeForm.objects.create(
        slug="off", source="event", fields=["email"], active=False
    )

    assert Client().get(f"/f/{slug}").status_code == 404


# -- leadrelay forms ---------------------------------------------------------------


def test_the_command_makes_and_lists_forms(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "forms",
        "create",
        "--slug",
        "spring-webinar",
        "--source",
        "event",
        "--campaign",
        "Spring webinar",
        "--fields",
        "email,name,company,intent",
    )
    call_command("forms", "list")

    out = capsys.readouterr().out
    assert "made form spring-webinar (source event, campaign Spring webinar)" in out
    assert "/f/spring-webinar  event" in out
    form = IntakeForm.objects.get()
    assert form.fields == ["email", "name", "company", "intent"]


def test_the_command_refuses_a_source_off_the_list_and_names_the_list() -> None:
    with pytest.raises(CommandError) as refused:
        call_command("forms", "create", "--slug", "tv-ad", "--source", "tv")

    assert refused.value.returncode == 2
    assert str(refused.value) == (
        '--source "tv" is not one of the contract\'s allowed sources: web_form, '
        "paid_search, organic_search, social, email, referral, event, partner, outbound"
    )
    assert not IntakeForm.objects.exists()


def test_the_command_refuses_unknown_fields_and_a_form_with_no_reply_address() -> None:
    with pytest.raises(CommandError) as refused:
        call_command(
            "forms",
            "create",
            "--slug",
            "x",
            "--source",
            "event",
            "--fields",
            "name,hat",
        )

    message = str(refused.value)
    assert "--fields: hat not known" in message
    assert "ask for email or phone" in message


def test_the_command_disables_a_form(
    form: IntakeForm, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("forms", "disable", "spring-webinar")

    assert not IntakeForm.objects.get().active
    assert Client().get(PAGE).status_code == 404
