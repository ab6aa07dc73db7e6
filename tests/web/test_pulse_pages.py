"""The pulse page, meeting mode, the decision log, feedback and leaks, through the test client."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from leadrelay.models import ContractVersion, Decision, Event, Lead
from leadrelay.pulse import decisions
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week
from leadrelay.sla.models import Clock
from leadrelay.workflow import ops
from leadrelay.workflow.bulk import contract_version
from leadrelay.workspace import load_contract

from .conftest import make_person, signed_in

pytestmark = pytest.mark.django_db

W10 = Week.parse("2018-W10")
# Monday 10:00 of 2018-W10, in the default contract's UTC.
T0 = datetime(2018, 3, 5, 10, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def event(
    version: ContractVersion,
    row: Lead,
    kind: str,
    stage: str,
    at: datetime,
    milestone: str = "",
    **data: Any,
) -> Event:
    return Event.objects.create(
        lead=row,
        kind=kind,
        stage=stage,
        at=at,
        milestone=milestone,
        actor="sam",
        data=data,
        contract_version=version,
    )


def lead(
    version: ContractVersion,
    at: datetime,
    *steps: tuple[str, datetime],
    contacted: datetime | None = None,
    **fields: Any,
) -> Lead:
    """Add a lead that came in at `at`, was first contacted at `contacted`,
    and entered each (stage, when) of `steps` in turn."""
    fields.setdefault("source", "web_form")
    row = Lead.objects.create(
        stage="inquiry",
        created_at=at,
        last_event_at=at,
        first_outreach_at=contacted,
        **fields,
    )
    event(version, row, "created", "inquiry", at)
    last = at
    if contacted is not None:
        event(version, row, "outreach", "inquiry", contacted, "contacted")
        last = max(last, contacted)
    qualified = False
    for stage, when in steps:
        kind = stage if stage in ("won", "lost") else "stage"
        milestone = kind if kind != "stage" else ""
        if stage in ("qualified", "opportunity", "won") and not qualified:
            qualified = True
            if kind == "stage":
                milestone = "qualified"
            else:
                event(version, row, "stage", stage, when, "qualified")
        data = {"reason": fields.get("loss_reason") or None, "note": "gone"}
        event(
            version,
            row,
            kind,
            stage,
            when,
            milestone,
            **(data if kind == "lost" else {}),
        )
        row.stage = stage
        last = max(last, when)
    row.last_event_at = last
    row.save()
    return row


def seed_week(version: ContractVersion) -> dict[str, Lead]:
    """Fill 2018-W10 (and the week before) with one lead for each figure."""
    leads = {
        # Contacted in two hours: the SLA was met.
        "met": lead(
            version,
            T0,
            ("contacted", T0 + 3 * HOUR),
            ("qualified", T0 + DAY),
            contacted=T0 + 2 * HOUR,
            name="Met Fast",
        ),
        # Contacted after 30 hours: missed, and then won.
        "late": lead(
            version,
            T0 + HOUR,
            ("contacted", T0 + 31 * HOUR),
            ("won", T0 + 3 * DAY),
            contacted=T0 + 31 * HOUR,
            name="Late Winner",
        ),
        # Never contacted: missed, and idle since it came in.
        "idle": lead(version, T0 + 2 * HOUR, name="Idle Ida"),
        # From an export with no contact times: unknown.
        "unknown": lead(
            version,
            T0 + 3 * HOUR,
            contact_time_known=False,
            source=None,
            name="No Times",
        ),
        # A source seen for the first time this week, lost for price.
        "new_source": lead(
            version,
            T0 + 4 * HOUR,
            ("lost", T0 + 2 * DAY),
            contacted=T0 + 5 * HOUR,
            source="partner",
            loss_reason="price",
            name="Pat Partner",
        ),
        # Came in the week before and qualified during this one: flow, not cohort.
        "flow": lead(
            version,
            T0 - 5 * DAY,
            ("contacted", T0 - 4 * DAY),
            ("qualified", T0 + 2 * DAY),
            contacted=T0 - 4 * DAY,
            name="Flo Before",
        ),
        # Lost this week with no reason recorded.
        "no_reason": lead(
            version,
            T0 - 6 * DAY,
            ("lost", T0 + 4 * DAY),
            contacted=T0 - 6 * DAY + HOUR,
            name="Nora Noreason",
        ),
    }
    event(
        version,
        leads["met"],
        "objection",
        "qualified",
        T0 + DAY,
        label="price",
        note="Dear",
    )
    event(
        version,
        leads["late"],
        "objection",
        "contacted",
        T0 + 2 * DAY,
        label="price",
        note="Costly",
    )
    event(
        version,
        leads["late"],
        "objection",
        "contacted",
        T0 + 2 * DAY,
        label="timing",
        note="Later",
    )
    event(
        version,
        leads["idle"],
        "objection",
        "inquiry",
        T0 + HOUR,
        label="trust",
        note="Hmm",
    )
    return leads


@pytest.fixture
def version(db: None) -> ContractVersion:
    return contract_version(load_contract())


@pytest.fixture
def week(version: ContractVersion) -> dict[str, Lead]:
    return seed_week(version)


def text(response: Any) -> str:
    return response.content.decode()


def found(pattern: str, page: str) -> re.Match[str]:
    match = re.search(pattern, page, re.S)
    assert match is not None, pattern
    return match


def figure_links(page: str) -> list[tuple[str, int]]:
    """Return each link to the leads behind a figure, with the number it shows."""
    pairs = re.findall(r'<a href="(/pulse/leads/\?[^"]+)"[^>]*>(\d+)</a>', page)
    return [(html.unescape(href), int(n)) for href, n in pairs]


# -- the pulse page -------------------------------------------------------------------


def test_the_pulse_page_shows_the_items_in_the_meeting_s_order(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    page = text(signed_in(personas["sales"]).get("/pulse/?week=2018-W10"))

    headings = re.findall(r"<h2>([^<]*)", page)
    assert headings[:6] == [
        "1. Leads in: 5",
        "2. Contacted within the SLA",
        "3. Qualified rate: 40%",
        "4. Objections and losses",
        "Stalled: ",
        "5. Last week's decision",
    ]
    assert headings[6] == "Decision for next week"
    assert "Cohort: of the leads that came in this week" in page
    assert "Flow: how many leads reached Qualified" in page


def test_the_pulse_page_carries_three_charts_and_the_vendored_library(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    page = text(signed_in(personas["marketing"]).get("/pulse/?week=2018-W10"))

    script = found(r'<script id="chart-specs" type="application/json">(.*?)<', page)
    specs = json.loads(script[1])
    assert [s["id"] for s in specs] == ["leads-trend", "sla-split", "cohort-funnel"]
    for spec in specs:
        assert f'data-chart="{spec["id"]}"' in page
    assert specs[1]["series"][0]["values"] == [2, 2, 0, 1]
    assert specs[2]["series"][0]["values"] == [5, 2, 2, 1, 1]
    assert "/static/leadrelay/vendor/chart.umd.min.js" in page
    assert "/static/leadrelay/charts.js" in page


def test_the_vendored_chart_library_is_served(
    personas: dict[str, User], db: None
) -> None:
    response = Client().get("/static/leadrelay/vendor/chart.umd.min.js")

    body = response.getvalue()
    assert response.status_code == 200
    assert body.startswith(b"/*!\n * Chart.js v4.")


def test_the_top_objections_and_loss_reasons_link_to_their_notes(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    page = text(signed_in(personas["marketing"]).get("/pulse/?week=2018-W10"))

    outcomes = page.split('id="outcomes"')[1].split("</section>")[0]
    assert re.findall(r'<span class="what">([^<]*)</span>', outcomes) == [
        "Too expensive",
        "Not a priority this quarter",
        "Price too high",
        "no reason recorded",
    ]
    assert "and 1 other label." in outcomes
    assert (
        "/feedback/notes/?label=price&amp;since=2018-03-05&amp;until=2018-03-11"
        in outcomes
    )
    assert (
        "/feedback/notes/?reason=&amp;since=2018-03-05&amp;until=2018-03-11" in outcomes
    )


# -- the leads behind each figure -----------------------------------------------------


def test_every_figure_s_link_lists_as_many_leads_as_it_shows(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    client = signed_in(personas["sales"])
    page = text(client.get("/pulse/?week=2018-W10"))

    links = figure_links(page)

    figures = {found(r"figure=(\w+)", href)[1] for href, _ in links}
    assert figures >= {
        "leads_in",
        "sla_met",
        "sla_missed",
        "sla_open",
        "sla_unknown",
        "cohort_qualified",
        "flow_qualified",
        "reached",
        "won",
        "lost",
        "stalled",
    }
    for href, shown in links:
        response = client.get(href)
        assert response.status_code == 200, href
        assert response.context["total"] == shown, href
        assert len(response.context["leads"]) == shown, href


def names(client: Client, query: str) -> set[str]:
    response = client.get(f"/pulse/leads/?week=2018-W10&{query}")
    assert response.status_code == 200, text(response)
    return {lead.name for lead in response.context["leads"]}


def test_each_figure_lists_the_leads_counted_in_it(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    client = signed_in(personas["sales"])

    assert names(client, "figure=leads_in&source=partner") == {"Pat Partner"}
    assert names(client, "figure=leads_in&source=") == {"No Times"}
    assert names(client, "figure=sla_met") == {"Met Fast", "Pat Partner"}
    assert names(client, "figure=sla_missed") == {"Late Winner", "Idle Ida"}
    assert names(client, "figure=sla_unknown") == {"No Times"}
    assert names(client, "figure=sla_open") == set()
    assert names(client, "figure=cohort_qualified") == {"Met Fast", "Late Winner"}
    assert names(client, "figure=flow_qualified") == {
        "Met Fast",
        "Late Winner",
        "Flo Before",
    }
    assert names(client, "figure=won") == {"Late Winner"}
    assert names(client, "figure=lost") == {"Pat Partner", "Nora Noreason"}
    assert names(client, "figure=lost&reason=price") == {"Pat Partner"}
    assert names(client, "figure=lost&reason=") == {"Nora Noreason"}
    assert names(client, "figure=reached&stage=contacted") == {
        "Met Fast",
        "Late Winner",
    }
    assert names(client, "figure=stalled&stage=inquiry") == {"Idle Ida", "No Times"}


def test_the_lists_agree_with_the_pulse_s_figures(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    report = pulse(load_contract(), W10)
    client = signed_in(personas["sales"])

    def total(query: str) -> int:
        return client.get(f"/pulse/leads/?week=2018-W10&{query}").context["total"]

    assert total("figure=leads_in") == report["leads_in"]["total"] == 5
    for outcome in ("met", "missed", "open", "unknown"):
        assert total(f"figure=sla_{outcome}") == report["sla"][outcome]
    assert total("figure=cohort_qualified") == report["qualified"]["cohort"]["count"]
    assert total("figure=flow_qualified") == report["qualified"]["flow"] == 3
    assert total("figure=won") == report["won"] == 1
    assert total("figure=lost") == report["lost"]["total"] == 2
    assert total("figure=stalled") == report["stalled"]["total"]


def test_a_lead_active_since_the_week_is_judged_stalled_from_its_history(
    personas: dict[str, User], version: ContractVersion
) -> None:
    # Idle in Inquiry from 2018-02-23 to past the week's end, then worked.
    woken = lead(version, T0 - 10 * DAY, name="Woken Later")
    event(version, woken, "outreach", "inquiry", T0 + 20 * DAY)
    Lead.objects.filter(pk=woken.pk).update(last_event_at=T0 + 20 * DAY)
    lead(version, T0 - 10 * DAY, ("contacted", T0 + 20 * DAY), name="Moved Later")
    lead(version, T0 + 5 * DAY, name="Fresh")

    client = signed_in(personas["sales"])
    report = pulse(load_contract(), W10)

    assert names(client, "figure=stalled") == {"Woken Later", "Moved Later"}
    assert report["stalled"]["total"] == 2
    assert names(client, "figure=stalled&stage=contacted") == set()


def test_the_sla_lists_follow_the_workflow_s_own_clocks(
    personas: dict[str, User], db: None
) -> None:
    contract = load_contract()
    due = timezone.now() + timedelta(days=2)
    ready = {
        "source": "web_form",
        "industry": "software",
        "company_size": "11-50",
        "location": "Lisbon",
        "intent": "wants a trial",
        "next_action": "call",
        "next_action_due": due,
    }
    made = [
        ops.create("mia", contract, {**ready, "email": f"{i}@example.com"})
        for i in range(3)
    ]
    ops.handoff(made[0], "mia", contract, owner="sam")
    ops.log_outreach(made[0], "sam", contract, "email")
    week = Week.containing(timezone.localdate())
    report = pulse(contract, week)
    client = signed_in(personas["sales"])

    totals = {
        outcome: client.get(f"/pulse/leads/?week={week}&figure=sla_{outcome}").context[
            "total"
        ]
        for outcome in ("met", "missed", "open", "unknown")
    }

    assert totals == {k: report["sla"][k] for k in totals}
    assert totals == {"met": 1, "missed": 0, "open": 2, "unknown": 0}
    assert Clock.objects.filter(lead__in=made).count() == 3


def test_a_figure_the_pulse_does_not_have_is_refused(
    personas: dict[str, User], db: None
) -> None:
    client = signed_in(personas["sales"])

    unknown = client.get("/pulse/leads/?week=2018-W10&figure=revenue")
    bad_stage = client.get("/pulse/leads/?week=2018-W10&figure=reached&stage=moon")
    bad_week = client.get("/pulse/leads/?week=soon&figure=won")

    assert unknown.status_code == bad_stage.status_code == bad_week.status_code == 400
    assert "&quot;revenue&quot; is not a figure of the pulse" in text(unknown)
    assert "&quot;moon&quot; is not a stage of the contract" in text(bad_stage)
    assert "is not an ISO week" in text(bad_week)


def test_a_week_with_no_leads_lists_none(personas: dict[str, User], db: None) -> None:
    response = signed_in(personas["sales"]).get(
        "/pulse/leads/?week=2018-W10&figure=leads_in"
    )

    assert response.context["total"] == 0
    assert "No lead is behind this figure." in text(response)


# -- the decision form ----------------------------------------------------------------


def decide(client: Client, **fields: str) -> Any:
    data = {
        "week": "2018-W10",
        "view": "pulse",
        "kind": "targeting",
        "text": "Move the partner budget to paid search",
        **fields,
    }
    return client.post("/decisions/record/", data)


def test_a_decision_is_recorded_with_who_and_its_figure(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    response = decide(
        signed_in(personas["marketing"]), metric="leads_in", source="web_form"
    )

    assert response.status_code == 302
    assert response["Location"] == "/pulse/?week=2018-W10#decision"
    decision = Decision.objects.get()
    assert (decision.week, decision.kind, decision.made_by) == (
        "2018-W10",
        "targeting",
        "mia",
    )
    # Met Fast, Late Winner and Idle Ida came in from web_form that week.
    assert (decision.value_at_decision, decision.n_at_decision) == (3, 3)


def test_a_second_decision_is_refused_next_to_the_form_keeping_what_was_typed(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    client = signed_in(personas["sales"])
    decide(client)

    response = decide(client, kind="messaging", text="Lead with the ROI sheet")

    assert response.status_code == 422
    page = text(response)
    form = page.split('id="decision-form"')[1].split("</form>")[0]
    assert "2018-W10 already has its decision (targeting, by sam" in form
    assert "Tick &quot;replace&quot; to put this one in its place." in form
    assert ">\nLead with the ROI sheet</textarea>" in form
    assert 'value="messaging" id="decision_kind_1" checked' in form
    assert 'name="replace"' in form
    assert Decision.objects.get().text == "Move the partner budget to paid search"


def test_a_second_decision_replaces_the_first_when_asked(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    client = signed_in(personas["sales"])
    decide(client)

    response = decide(
        client, kind="follow_up", text="Call back within a day", replace="on"
    )

    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.kind, decision.text) == ("follow_up", "Call back within a day")
    assert [d["text"] for d in decision.replaced] == [
        "Move the partner budget to paid search"
    ]


def test_a_decision_of_an_unknown_kind_is_refused_at_the_kind(
    personas: dict[str, User], db: None
) -> None:
    response = decide(signed_in(personas["admin"]), kind="pricing")

    assert response.status_code == 422
    page = text(response)
    kinds = page.split('<fieldset class="field choices kinds has-errors">')[1].split(
        "</fieldset>"
    )[0]
    assert "&quot;pricing&quot; is not a kind of decision" in kinds
    assert "Move the partner budget to paid search</textarea>" in page
    assert not Decision.objects.exists()


def test_a_decision_without_text_is_refused_at_the_text(
    personas: dict[str, User], db: None
) -> None:
    response = decide(signed_in(personas["sales"]), text="  ")

    assert response.status_code == 422
    assert "say what was decided, in a sentence" in text(response)
    assert not Decision.objects.exists()


def test_a_refusal_in_meeting_mode_comes_back_on_the_meeting_s_form(
    personas: dict[str, User], db: None
) -> None:
    response = decide(signed_in(personas["sales"]), kind="", view="meeting")

    assert response.status_code == 422
    page = text(response)
    assert 'data-meeting data-start="step-6"' in page
    assert "is not a kind of decision" in page


def test_recording_a_decision_needs_a_role_and_a_post(db: None) -> None:
    nobody = signed_in(make_person("nora"))

    assert decide(Client())["Location"].startswith("/signin/?next=")
    assert decide(nobody).status_code == 403
    assert (
        signed_in(make_person("mo", "sales")).get("/decisions/record/").status_code
        == 405
    )
    assert not Decision.objects.exists()


def test_next_week_s_pulse_shows_the_decision_with_before_and_after(
    personas: dict[str, User], week: dict[str, Lead], version: ContractVersion
) -> None:
    client = signed_in(personas["sales"])
    decide(client, metric="leads_in")
    lead(version, T0 + 8 * DAY, name="Next Week")

    page = text(client.get("/pulse/?week=2018-W11"))

    last = page.split('id="last-decision"')[1].split("</section>")[0]
    assert "Move the partner budget to paid search" in last
    assert 'Before: 2018-W10</th><td class="num">5 leads' in last
    assert 'After: 2018-W11</th><td class="num">1 lead<' in last
    assert decisions.NOTE in last


# -- meeting mode ---------------------------------------------------------------------


def test_meeting_mode_shows_the_five_items_then_the_form(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    response = signed_in(personas["marketing"]).get("/pulse/meeting/?week=2018-W10")

    assert response.status_code == 200
    page = text(response)
    assert re.findall(r'id="(step-\d)" data-step data-title="([^"]+)"', page) == [
        ("step-1", "Leads in"),
        ("step-2", "Contacted within the SLA"),
        ("step-3", "Qualified rate"),
        ("step-4", "Objections and losses"),
        ("step-5", "Last week's decision"),
        ("step-6", "The decision for next week"),
    ]
    assert 'data-timer data-seconds="900" data-week="2018-W10"' in page
    assert 'name="view" value="meeting"' in page
    assert "/static/leadrelay/meeting.js" in page


def test_meeting_mode_names_a_week_it_cannot_read(
    personas: dict[str, User], db: None
) -> None:
    response = signed_in(personas["sales"]).get("/pulse/meeting/?week=W99")

    assert response.status_code == 400
    assert "is not an ISO week" in text(response)


# -- the decision log -----------------------------------------------------------------


def test_the_decision_log_lists_one_decision_a_week_newest_first(
    personas: dict[str, User], week: dict[str, Lead], version: ContractVersion
) -> None:
    contract = load_contract()
    decisions.record(
        "2018-W09", "messaging", "Lead with the case study", "ada", contract=contract
    )
    decisions.record(
        "2018-W10",
        "targeting",
        "More partner events",
        "mia",
        metric="leads_in",
        contract=contract,
    )
    lead(version, T0 + 8 * DAY)

    page = text(signed_in(personas["sales"]).get("/decisions/"))

    assert page.index("More partner events") < page.index("Lead with the case study")
    entry = page.split('id="decision-2018-W10"')[1].split("</li>")[0]
    assert "by mia" in entry
    assert "Leads in" in entry
    assert "5 leads in 2018-W10" in entry
    assert "5 leads in 2018-W10 → 1 lead in" in entry
    older = page.split('id="decision-2018-W09"')[1].split("</li>")[0]
    assert "No figure named" in older


def test_an_empty_decision_log_points_to_the_meeting(
    personas: dict[str, User], db: None
) -> None:
    page = text(signed_in(personas["marketing"]).get("/decisions/"))

    assert "No decision recorded yet." in page
    assert 'href="/pulse/meeting/"' in page


# -- feedback to marketing ------------------------------------------------------------


def test_feedback_counts_objections_and_losses_by_source_for_the_period(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    response = signed_in(personas["marketing"]).get(
        "/feedback/?since=2018-03-05&until=2018-03-11&by=source"
    )

    assert response.status_code == 200
    objections = response.context["objections"]
    assert [(c["key"], c["count"]) for c in objections["columns"]] == [
        ("price", 2),
        ("timing", 1),
        ("trust", 1),
    ]
    assert [(r["label"], r["total"]) for r in objections["rows"]] == [("web_form", 4)]
    losses = response.context["losses"]
    assert [(r["label"], r["total"]) for r in losses["rows"]] == [
        ("partner", 1),
        ("web_form", 1),
    ]
    page = text(response)
    assert "Objections: 4" in page and "Loss reasons: 2" in page
    assert (
        "/feedback/notes/?label=price&amp;since=2018-03-05&amp;until=2018-03-11"
        "&amp;by=source&amp;value=web_form"
    ) in page


@pytest.mark.parametrize(
    ("by", "rows"),
    [("campaign", [("(no campaign)", 4)]), ("segment", [("(no segment)", 4)])],
)
def test_feedback_groups_by_campaign_or_segment(
    personas: dict[str, User], week: dict[str, Lead], by: str, rows: list[Any]
) -> None:
    response = signed_in(personas["sales"]).get(
        f"/feedback/?since=2018-03-05&until=2018-03-11&by={by}"
    )

    assert [
        (r["label"], r["total"]) for r in response.context["objections"]["rows"]
    ] == rows


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("by=owner", "&quot;owner&quot; is not a breakdown"),
        ("since=March", "since &quot;March&quot; is not a day"),
        ("since=2018-03-11&until=2018-03-05", "since (2018-03-11) is after until"),
    ],
)
def test_feedback_names_what_it_cannot_read(
    personas: dict[str, User], db: None, query: str, message: str
) -> None:
    response = signed_in(personas["sales"]).get(f"/feedback/?{query}")

    assert response.status_code == 400
    assert message in text(response)


def test_the_notes_of_a_label_are_read_together_newest_first(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    page = text(
        signed_in(personas["marketing"]).get(
            "/feedback/notes/?label=price&since=2018-03-05&until=2018-03-11"
        )
    )

    assert "Objection: Too expensive" in page
    assert re.findall(r"<blockquote>([^<]*)</blockquote>", page) == ["Costly", "Dear"]


def test_the_notes_of_a_loss_reason_and_of_none(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    client = signed_in(personas["marketing"])

    price = text(client.get("/feedback/notes/?reason=price"))
    none = text(client.get("/feedback/notes/?reason="))

    assert "Lost: Price too high" in price and "Pat Partner" in price
    assert "Lost: no reason recorded" in none and "Nora Noreason" in none


# -- the leak finder ------------------------------------------------------------------


def test_the_leak_page_shows_the_sentence_conversion_time_and_idle_leads(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    response = signed_in(personas["sales"]).get(
        "/leaks/?since=2018-02-01&until=2018-03-31"
    )

    assert response.status_code == 200
    page = text(response)
    result = response.context["result"]
    assert result["leads"] == 7
    assert html.escape(result["biggest_leak"]["sentence"]) in page
    first = result["overall"]["conversion"][0]
    assert (first["from"], first["to"], first["n"], first["converted"]) == (
        "inquiry",
        "contacted",
        7,
        3,
    )
    assert "Inquiry → Contacted" in page
    assert "95% interval" in page
    # Nobody has left Opportunity: its time in stage cannot be measured.
    stays = page.split('id="time-in-stage"')[1].split("</section>")[0]
    assert re.search(r"Opportunity.*?n/a.*?n/a.*?>0<", stays, re.S)
    assert 'id="idle"' in page


def test_the_leak_page_breaks_down_by_source_marking_too_few_rows(
    personas: dict[str, User], week: dict[str, Lead]
) -> None:
    response = signed_in(personas["sales"]).get(
        "/leaks/?since=2018-02-01&until=2018-03-31&by=source"
    )

    page = text(response)
    breakdown = page.split('id="breakdown"')[1]
    tables = response.context["tables"]
    assert len(tables) == 4
    # Seven leads in all: every row is too few to rank.
    assert all(
        row["too_few"] and "rank" not in row for t in tables for row in t["rows"]
    )
    assert breakdown.count('<tr class="too-few">') == 4 * len(tables[0]["rows"])
    assert "Too few leads to name a leak" in page


def seed_leaky(version: ContractVersion) -> None:
    """Leads of February 2018: paid search is contacted far less than web forms."""
    start = datetime(2018, 2, 5, 9, tzinfo=UTC)
    for source, leads, contacted in (
        ("web_form", 40, 30),
        ("paid_search", 40, 10),
        ("partner", 5, 1),
    ):
        for i in range(leads):
            at = start + i * HOUR
            steps = [("contacted", at + DAY)] if i < contacted else []
            lead(version, at, *steps, source=source)


def test_the_leak_page_ranks_the_groups_and_names_the_leak(
    personas: dict[str, User], version: ContractVersion
) -> None:
    seed_leaky(version)

    response = signed_in(personas["sales"]).get(
        "/leaks/?since=2018-02-01&until=2018-02-28&by=source"
    )

    first = response.context["tables"][0]
    assert [
        (r["label"], r.get("rank"), r["too_few"], r["is_leak"]) for r in first["rows"]
    ] == [
        ("paid_search", 1, False, True),
        ("web_form", 2, False, False),
        ("partner", None, True, False),
    ]
    # 41 of 85 overall; paid search loses 40 × (41/85 − 10/40) ≈ 9.3 more.
    assert first["rows"][0]["excess_lost"] == pytest.approx(
        40 * (41 / 85 - 0.25), abs=1e-4
    )
    page = text(response)
    assert (
        "The biggest leak is Inquiry → Contacted for source &#x27;paid_search&#x27;: "
        "25% convert against 48% overall (n=40, 95% CI 14–40%)"
    ) in page
    assert '<span class="flag leak-flag">the leak</span>' in page
    assert "+9</td>" in page and "-11</td>" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("by=campaign", "&quot;campaign&quot; is not a breakdown"),
        ("until=tomorrow", "until &quot;tomorrow&quot; is not a day"),
    ],
)
def test_the_leak_page_names_what_it_cannot_read(
    personas: dict[str, User], db: None, query: str, message: str
) -> None:
    response = signed_in(personas["sales"]).get(f"/leaks/?{query}")

    assert response.status_code == 400
    assert message in text(response)


# -- who may read them ----------------------------------------------------------------

PAGES = (
    "/pulse/?week=2018-W10",
    "/pulse/meeting/?week=2018-W10",
    "/pulse/leads/?week=2018-W10&figure=leads_in",
    "/decisions/",
    "/feedback/",
    "/feedback/notes/?label=price",
    "/leaks/",
)


@pytest.mark.parametrize("url", PAGES)
def test_every_role_reads_the_pulse_pages(personas: dict[str, User], url: str) -> None:
    for role in ("marketing", "sales", "admin"):
        assert signed_in(personas[role]).get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_a_visitor_is_sent_to_sign_in_from_the_pulse_pages(db: None, url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_an_account_without_a_role_may_not_read_them(db: None, url: str) -> None:
    response = signed_in(make_person("nora")).get(url)

    assert response.status_code == 403
    assert "Your account has no role yet." in text(response)
