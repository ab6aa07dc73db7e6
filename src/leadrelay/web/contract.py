"""The contract in force, read once per change of the file rather than per request."""

from __future__ import annotations

import threading
from pathlib import Path

from leadrelay.contract import Contract, load_file
from leadrelay.workspace import contract_path

_lock = threading.Lock()
_cached: dict[Path, tuple[tuple[int, int], Contract]] = {}


def current() -> Contract:
    """Return the workspace's contract, re-reading it when the file changes.

    Raises ContractError, with every problem listed, when it cannot be used.
    """
    path = contract_path()
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        stamp = (0, 0)

    with _lock:
        found = _cached.get(path)
        if found is not None and found[0] == stamp:
            return found[1]

    contract = load_file(path)
    with _lock:
        _cached[path] = (stamp, contract)

    return contract
