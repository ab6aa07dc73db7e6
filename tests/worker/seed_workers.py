"""Write the people and leads the worker-process tests need, into the workspace's database.

Run as a script with the workspace's environment: `python seed_workers.py
COUNT HANDOFF_ISO`. Every lead is handed off to sam, in team Berlin led by
kim, at HANDOFF_ISO, through the workflow as a person would.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from unittest import mock


def main(count: int, handoff: datetime) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from leadrelay.models import Team, TeamMember
    from leadrelay.notify.recipients import set_team_lead
    from leadrelay.workflow import ops
    from leadrelay.workspace import load_contract

    contract = load_contract()
    team = Team.objects.create(name="Berlin")
    users = {}
    for name, role in (("mia", "marketing"), ("sam", "sales"), ("kim", "sales")):
        users[name] = User.objects.create_user(name, email=f"{name}@example.com")
        users[name].groups.add(Group.objects.get_or_create(name=role)[0])
    for name in ("sam", "kim"):
        TeamMember.objects.create(team=team, user=users[name])
    set_team_lead(team, users["kim"])

    with mock.patch.object(timezone, "now", lambda: handoff):
        for i in range(count):
            lead = ops.create(
                "mia",
                contract,
                {
                    "email": f"lead{i}@example.com",
                    "name": f"Lead {i}",
                    "source": "web_form",
                    "industry": "software",
                    "company_size": "11-50",
                    "location": "Berlin",
                    "intent": "asked for a demo",
                    "next_action": "call",
                    "next_action_owner": "mia",
                    "next_action_due": handoff + timedelta(days=30),
                },
            )
            ops.handoff(lead, "mia", contract, owner="sam", team=team)


if __name__ == "__main__":
    main(int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))
