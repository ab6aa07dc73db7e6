from __future__ import annotations

from django.contrib.auth import views as auth
from django.urls import URLPattern, path

from leadrelay.web import decisions, feedback, leads, leaks, meeting, pages, people
from leadrelay.web.notifications import failed as failed_notifications

urlpatterns: list[URLPattern] = [
    path("", pages.inbox, name="inbox"),
    path("board/", pages.board, name="board"),
    path("leads/", pages.leads, name="leads"),
    path("leads/new/", leads.new_lead, name="lead_new"),
    path("leads/<int:pk>/", leads.lead_page, name="lead"),
    path("leads/<int:pk>/<slug:action>/", leads.lead_action, name="lead_action"),
    path("funnel/", pages.funnel, name="funnel"),
    path("pulse/", pages.pulse_page, name="pulse"),
    path("pulse/meeting/", meeting.meeting, name="pulse_meeting"),
    path("pulse/leads/", meeting.pulse_leads, name="pulse_leads"),
    path("decisions/", decisions.decision_log, name="decisions"),
    path("decisions/record/", decisions.record, name="decision_record"),
    path("feedback/", feedback.feedback_page, name="feedback"),
    path("feedback/notes/", feedback.notes_page, name="feedback_notes"),
    path("leaks/", leaks.leaks_page, name="leaks"),
    path("people/", people.people, name="people"),
    path("people/<int:pk>/", people.person, name="person"),
    path("teams/", people.teams, name="teams"),
    path("teams/<int:pk>/", people.team, name="team"),
    path("teams/<int:pk>/change/", people.team_change, name="team_change"),
    path("notifications/failed/", failed_notifications, name="failed_notifications"),
    path(
        "signin/",
        auth.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("signout/", auth.LogoutView.as_view(), name="logout"),
]
