from __future__ import annotations

from pathlib import Path

import pytest

#: The shared public CRM exports, beside the checkout; tests that need them skip without them.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data set not found at {path}; these tests read the public CRM exports from ../shared/data")

    return path
