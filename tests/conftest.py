"""Shared fixtures. ``shared_data`` points at the raw public data when the checkout has it beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("raw benchmark data (../shared/data) is not beside this checkout")
    return SHARED
