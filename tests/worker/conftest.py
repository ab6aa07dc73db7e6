from __future__ import annotations

from notify.fixtures import frozen, hook, mailbox

__all__ = ["frozen", "hook", "mailbox"]
