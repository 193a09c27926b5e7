"""A user's own search space (Choices and Cell, defined in tests/own_spaces.py) through every feature."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import archrank as ar
from archrank.errors import InvalidArchitectureError, UnknownChoiceError

sys.path.insert(0, str(Path(__file__).parent))
import own_spaces

macro, tiny = own_spaces.macro, own_spaces.tiny_cell
TESTS = Path(__file__).parent


# --- the description and the bridge to host tools ----------------------------------------------
def test_decisions_round_trip() -> None:
    assert list(macro.decisions) == ["layer0", "layer1", "layer2", "width"]
    arch = macro.from_decisions({"layer0": "conv3", "layer1": "skip", "layer2": "conv5", "width": 16})
    assert macro.to_decisions(arch) == {"layer0": "conv3", "layer1": "skip", "layer2": "conv5", "width": 16}
    assert str(arch) == "layer0=conv3,layer1=skip,layer2=conv5,width=16"
    assert macro.parse(str(arch)) == arch and hash(macro.parse(str(arch))) == hash(arch)
    assert ar.spaces.get("test-macro") is macro and ar.spaces.get("TEST-MACRO") is macro


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_parse_str_round_trip_and_canonical(seed: int) -> None:
    for space in (macro, tiny):
        arch = space.random_arch(np.random.default_rng(seed))
        again = space.parse(str(arch))
        assert again == arch and space.canonical(again) == space.canonical(arch)
        assert space.from_decisions(space.to_decisions(arch)) == arch
        child = space.mutate(arch, seed)
        assert space.is_valid(child) and space.canonical(child) != space.canonical(arch)


def test_a_cell_no_single_change_alters_still_mutates() -> None:
    # only input -> output is live; every single change leaves the pruned cell as it is
    arch = tiny.parse(
        "0->1=0,0->2=0,1->2=1,0->3=0,1->3=1,2->3=1,0->4=1,1->4=0,2->4=0,3->4=0,node1=conv1,node2=conv1,node3=pool"
    )
    assert tiny.neighbors(arch) == []
    for seed in range(5):
        child = tiny.mutate(arch, seed)
        assert tiny.is_valid(child) and tiny.canonical(child) != tiny.canonical(arch)


def test_bad_decisions_are_named() -> None:
    good = {"layer0": "conv3", "layer1": "skip", "layer2": "conv5", "width": 16}
    with pytest.raises(InvalidArchitectureError, match=r"missing: \['width'\]"):
        macro.from_decisions({k: v for k, v in good.items() if k != "width"})
    with pytest.raises(InvalidArchitectureError, match=r"unknown decision\(s\) \['depth'\]"):
        macro.from_decisions({**good, "depth": 3})
    with pytest.raises(InvalidArchitectureError, match="'conv7' is not one of its options"):
        macro.from_decisions({**good, "layer0": "conv7"})
    with pytest.raises(InvalidArchitectureError, match="constraint rejects"):
        macro.parse("layer0=skip,layer1=skip,layer2=skip,width=8")
    with pytest.raises(InvalidArchitectureError, match="unknown decision 'layer9'"):
        macro.parse("layer9=skip,layer1=skip,layer2=skip,width=8")
    with pytest.raises(InvalidArchitectureError, match=r"goes backwards.*cycle"):
        tiny.parse("2->1=1")
    with pytest.raises(InvalidArchitectureError, match="output node is not reachable"):
        tiny.from_decisions({**{d: 0 for d in tiny.decisions if "->" in d}, **{f"node{v}": "conv3" for v in (1, 2, 3)}})
    with pytest.raises(InvalidArchitectureError, match="an architecture of the test-macro space was given"):
        tiny.ensure(macro.sample(1, seed=0)[0])


def test_enumeration_sampling_and_neighbours() -> None:
    archs = macro.all()
    assert len(archs) == 3**3 * 2 - 2  # all-skip breaks the constraint, at both widths
    assert len(set(archs)) == len(archs)
    assert macro.sample(10, seed=3) == macro.sample(10, seed=3)
    arch = macro.parse("layer0=conv3,layer1=conv3,layer2=conv3,width=8")
    assert len(macro.neighbors(arch)) == 3 * 2 + 1
    with pytest.raises(NotImplementedError, match="too many to enumerate"):
        ar.spaces.Choices("huge", {f"d{k}": list(range(10)) for k in range(7)}).all()


def test_node_cell_prunes_and_hashes_isomorphic_cells_alike() -> None:
    # input -> 1 -> output, input -> 2 -> output: swapping what nodes 1 and 2 hold gives the same cell
    base = {d: 0 for d in tiny.decisions if "->" in d}
    a = tiny.from_decisions(
        {**base, "0->1": 1, "0->2": 1, "1->4": 1, "2->4": 1, "node1": "conv3", "node2": "pool", "node3": "conv1"}
    )
    b = tiny.from_decisions(
        {**base, "0->1": 1, "0->2": 1, "1->4": 1, "2->4": 1, "node1": "pool", "node2": "conv3", "node3": "conv3"}
    )
    assert a != b and tiny.canonical(a) == tiny.canonical(b)  # node 3 is pruned: its op does not count
    assert tiny.to_cell_graph(a).num_nodes == 4
    np.testing.assert_array_equal(
        ar.encodings.encode([a], "path"), ar.encodings.encode([b], "path")
    )  # paths do not depend on node numbering
    c = tiny.from_decisions(
        {**base, "0->1": 1, "1->4": 1, "0->4": 1, "node1": "conv3", "node2": "pool", "node3": "pool"}
    )
    assert tiny.canonical(c) != tiny.canonical(a)


# --- encodings ---------------------------------------------------------------------------------
def test_every_applicable_encoding() -> None:
    archs = macro.sample(12, seed=0)
    assert ar.encodings.applicable_encodings(macro) == ["adjacency_onehot", "categorical", "graph"]
    onehot = ar.encodings.encode(archs, "adjacency_onehot")
    assert onehot.shape == (12, 3 * 3 + 2) and (onehot.sum(axis=1) == 4).all()
    cat = ar.encodings.encode(archs, "categorical")
    np.testing.assert_array_equal(
        cat[0], [macro.decisions[k].index(v) for k, v in macro.to_decisions(archs[0]).items()]
    )
    graphs = ar.encodings.encode(archs, "graph")
    assert graphs[0].num_nodes == 6 and graphs[0].x.shape[1] == len(macro.graph_spec.vocabulary())
    cell_archs = tiny.sample(12, seed=0)
    assert ar.encodings.applicable_encodings(tiny) == [
        "adjacency_onehot",
        "categorical",
        "path",
        "path_truncated",
        "graph",
    ]
    for name in ("adjacency_onehot", "categorical", "path", "path_truncated"):
        x = ar.encodings.encode(cell_archs, name)
        assert x.shape == (12, ar.encodings.make_encoder(name, space=tiny).n_features())
    assert ar.encodings.encode(cell_archs, "path").shape[1] == sum(3**k for k in range(4))


# --- predictors, save/load ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["xgb", "rf", "gp", "mlp_ensemble", "gnn", "ensemble"])
def test_every_predictor_on_a_user_space(name: str, tmp_path: Path) -> None:
    archs = macro.all()
    y = np.array([own_spaces.macro_score(a) for a in archs])
    train, test = np.arange(0, len(archs), 2), np.arange(1, len(archs), 2)
    params = {"epochs": 40} if name == "gnn" else {}
    model = ar.predictors.make(name, space=macro, random_state=0, **params)
    model.fit([archs[i] for i in train], y[train])
    mean, std = model.predict([str(archs[i]) for i in test], return_std=True)
    assert mean.shape == std.shape == (len(test),) and np.isfinite(mean).all()
    assert ar.metrics.kendall_tau(y[test], mean) > 0.3
    path = model.save(tmp_path / "model.pt")
    again = ar.predictors.load(path)
    np.testing.assert_allclose(again.predict([archs[i] for i in test]), mean, rtol=1e-6, atol=1e-6)


def test_saved_predictor_of_an_unregistered_space_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a space once resolved as "own_spaces:macro" carries that spec into pickles (another test may
    # have done so); without it the fresh process cannot know where the space comes from
    monkeypatch.delitem(macro.__dict__, "_archrank_origin", raising=False)
    archs = macro.all()
    model = ar.predictors.make("xgb", space=macro, random_state=0).fit(
        archs, [own_spaces.macro_score(a) for a in archs]
    )
    path = model.save(tmp_path / "model.pt")
    code = f"import archrank as ar; ar.predictors.load({str(path)!r})"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert run.returncode != 0 and "test-macro" in run.stderr and "register" in run.stderr
    code = (
        "import own_spaces, archrank as ar; "  # importing the user's module registers its spaces
        f"print(ar.predictors.load({str(path)!r}).predict(own_spaces.macro.all()[:2]))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert run.returncode == 0, run.stderr


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


# --- proxies through model_fn ------------------------------------------------------------------
def test_proxies_run_on_the_users_networks() -> None:
    archs = macro.sample(4, seed=0)
    table = ar.proxies.compute(
        archs, ["synflow", "nwot", "params"], space=macro, batch_size=8, device="cpu", cache=None
    )
    assert len(table) == 4 and np.isfinite(table[["synflow", "nwot", "params"]].to_numpy(float)).all()
    wide = macro.parse("layer0=conv5,layer1=conv5,layer2=conv5,width=16")
    narrow = macro.parse("layer0=conv3,layer1=skip,layer2=skip,width=8")
    params = ar.proxies.compute([wide, narrow], ["params"], space=macro, device="cpu", cache=None)["params"]
    assert params.iloc[0] > params.iloc[1]


def test_bad_model_fn_is_named() -> None:
    def raises(arch: object, num_classes: int) -> nn.Module:
        raise RuntimeError("no GPU kernel for this block")

    space = ar.spaces.Choices("bad-model", {"a": ["x", "y"]}, model_fn=raises)
    with pytest.raises(InvalidArchitectureError, match="model_fn of the bad-model space raised RuntimeError"):
        space.build_model(space.sample(1, seed=0)[0])
    space = ar.spaces.Choices("not-a-module", {"a": ["x", "y"]}, model_fn=lambda arch, n: "a string")
    with pytest.raises(TypeError, match=r"returned a str, not a torch\.nn\.Module"):
        space.build_model(space.sample(1, seed=0)[0])
    with pytest.raises(NotImplementedError, match="no model_fn"):
        tiny.build_model(tiny.sample(1, seed=0)[0])


# --- search with resume ------------------------------------------------------------------------
def test_search_on_a_user_space_resumes(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    oracle = ar.search.TrainingOracle(own_spaces.macro_score, space=macro)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = ar.search.run("npenas", macro, oracle, budget=20, seed=0, store=store, workers=2).frame()
    assert len(first) == 20 and first.score.max() == max(own_spaces.macro_score(a) for a in macro.all())

    calls: list[str] = []

    def counting(arch: object) -> float:
        calls.append(str(arch))
        return own_spaces.macro_score(arch)  # type: ignore[arg-type]

    counting.__qualname__ = own_spaces.macro_score.__qualname__  # the same run, as far as the store knows
    again = ar.search.run(
        "npenas",
        macro,
        ar.search.TrainingOracle(counting, space=macro),
        budget=20,
        seed=0,
        store=store,
        executor="inline",
        batch_size=2,
    ).frame()
    assert calls == [] and list(again.arch) == list(first.arch)


def test_registration_rules() -> None:
    with pytest.raises(ValueError, match="already registered"):
        ar.spaces.register(ar.spaces.Choices("test-macro", {"a": [1, 2]}))
    with pytest.raises(ValueError, match="built-in"):
        ar.spaces.register(ar.spaces.Choices("nb201", {"a": [1, 2]}))
    with pytest.raises(UnknownChoiceError, match="no-such-space"):
        ar.spaces.get("no-such-space")
    with pytest.raises(UnknownChoiceError, match="cannot be imported"):
        ar.spaces.get("no_such_module:space")
    assert ar.spaces.get("own_spaces:macro") is macro


# --- the CLI with module:attribute ----------------------------------------------------------------
def test_cli_rank_with_a_user_space(tmp_path: Path) -> None:
    archs = macro.all()
    train = pd.DataFrame(
        {"arch": [str(a) for a in archs[::2]], "score": [own_spaces.macro_score(a) for a in archs[::2]]}
    )
    train.to_csv(tmp_path / "results.csv", index=False)
    cands = tmp_path / "candidates.txt"
    cands.write_text("\n".join(str(a) for a in archs[1::2]) + "\n")
    out = tmp_path / "ranked.csv"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "archrank.cli",
            "rank",
            "own_spaces:macro",
            "--train",
            str(tmp_path / "results.csv"),
            "--candidates",
            str(cands),
            "-p",
            "xgb",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    ranked = pd.read_csv(out)
    truth = np.array([own_spaces.macro_score(macro.parse(s)) for s in ranked.arch])
    assert len(ranked) == len(archs[1::2]) and ar.metrics.kendall_tau(truth, -np.arange(len(truth))) > 0.3


def test_a_module_attribute_space_reaches_spawned_workers(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the module defines its space without registering it: a worker only knows it through the pickle
    (tmp_path / "spawned_space_mod.py").write_text(
        "import archrank as ar\n"
        "space = ar.spaces.Choices('spawned-space', {'a': ['x', 'y', 'z'], 'b': [1, 2, 3]})\n"
        "def score(arch):\n"
        "    return float(arch['b']) + (arch['a'] == 'z')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    space = ar.spaces.get("spawned_space_mod:space")
    import spawned_space_mod

    oracle = ar.search.TrainingOracle(spawned_space_mod.score, space="spawned_space_mod:space")
    runs = ar.search.run(
        "random", space, oracle, budget=6, seed=0, executor="processes", workers=2, progress=False
    ).frame()
    assert len(runs) == 6 and runs.score.notna().all() and runs.score.max() <= 4.0
