from __future__ import annotations

from .fixtures import frozen, hook, mailbox

__all__ = ["frozen", "hook", "mailbox"]
