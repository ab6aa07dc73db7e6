from __future__ import annotations

from django.contrib.auth import views as auth
from django.urls import URLPattern, path

from leadrelay.web import leads, pages, people

urlpatterns: list[URLPattern] = [
    path("", pages.inbox, name="inbox"),
    path("board/", pages.board, name="board"),
    path("leads/", pages.leads, name="leads"),
    path("leads/new/", leads.new_lead, name="lead_new"),
    path("leads/<int:pk>/", leads.lead_page, name="lead"),
    path("leads/<int:pk>/<slug:action>/", leads.lead_action, name="lead_action"),
    path("funnel/", pages.funnel, name="funnel"),
    path("pulse/", pages.pulse_page, name="pulse"),
    path("people/", people.people, name="people"),
    path("people/<int:pk>/", people.person, name="person"),
    path("teams/", people.teams, name="teams"),
    path("teams/<int:pk>/", people.team, name="team"),
    path("teams/<int:pk>/change/", people.team_change, name="team_change"),
    path(
        "signin/",
        auth.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("signout/", auth.LogoutView.as_view(), name="logout"),
]
