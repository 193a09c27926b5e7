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


@pytest.fixture(autouse=True)
def _private_proxy_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy scores that a test caches with ``cache="auto"`` go to a temporary folder, never ~/.cache."""
    monkeypatch.setenv("ARCHRANK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "archrank-cache"))
