"""The stored notebooks are executed, top to bottom in one kernel, without an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {
        "proxy_correlation_nb201.ipynb",
        "predictor_study.ipynb",
        "search_nb201.ipynb",
        "own_space.ipynb",
        "host_tools.ipynb",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_in_order_without_errors(path: Path) -> None:
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: cells not run in order once ({counts})"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    assert all(c["outputs"] for c in code[-1:]), f"{path.name}: the last cell shows nothing"


def _executed_fast(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run notebook ``name`` with FAST=1 (small parameters); the text it printed."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = next(p for p in NOTEBOOKS if p.name == name)
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("FAST", "1")  # the kernel inherits it
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_own_space_notebook_runs_with_small_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Executed here, not only checked: the own-space notebook with FAST=1 (smaller study and search)."""
    outputs = _executed_fast("own_space.ipynb", tmp_path, monkeypatch)
    assert "15625 cells, 5390 canonical classes" in outputs and "error: row 4: decision '0->1'" in outputs


def test_host_tools_notebook_runs_with_small_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Optuna and Syne Tune with and without archrank (Ray is skipped with FAST=1), and the resumed study."""
    pytest.importorskip("optuna")
    pytest.importorskip("syne_tune")
    outputs = _executed_fast("host_tools.ipynb", tmp_path, monkeypatch)
    assert "the Optuna sampler proposes what ar.search.run proposes: True" in outputs
    resumed = "trials: {'COMPLETE': 19, 'FAIL': 1}; distinct architectures: 20 of 20; "
    resumed += "told to the new sampler's strategy: 20"
    assert resumed in outputs
