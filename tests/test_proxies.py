"""Zero-cost proxies on tiny networks: finite, seeded, known answers; the runner's cache and errors."""

from __future__ import annotations

import math
import sqlite3
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import archrank as ar
from archrank import proxies as P
from archrank.errors import DataFileError, UnknownChoiceError
from archrank.spaces.nb201.model import NB201Network

NO_PATH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"
GOOD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def tiny_nb201(text: str, seed: int = 0) -> nn.Module:
    """An NB201 network with 4 initial channels (the real one has 16): same topology, fast."""
    with ar._seeding.torch_seeded(seed):
        return NB201Network(ar.spaces.get("nb201").parse(text), num_classes=10, channels=4)


@pytest.fixture(scope="module")
def batch() -> P.ProxyBatch:
    return P.input_batch("cifar10", batch_size=16, seed=0)


@pytest.mark.parametrize("name", P.names())
def test_every_proxy_is_finite_seeded_and_leaves_the_model_alone(name: str, batch: P.ProxyBatch) -> None:
    model = tiny_nb201(GOOD).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fn = P.get(name).fn
    with ar._seeding.torch_seeded(3):
        first = fn(model, batch)
    with ar._seeding.torch_seeded(3):
        second = fn(model, batch)
    assert math.isfinite(first)
    assert first == second
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), f"{name} changed {key}"
    assert all(p.grad is None for p in model.parameters())
    assert not any(m.training or m._forward_hooks for m in model.modules()), f"{name} left a mode or a hook behind"


def test_a_cell_with_no_path_from_input_to_output(batch: P.ProxyBatch) -> None:
    model = tiny_nb201(NO_PATH)
    # the output is the classifier bias whatever the input: no weight gradient reaches a scored layer
    for name in ("synflow", "grad_norm", "snip", "grasp", "plain", "zico"):
        assert P.get(name).fn(model, batch) == 0.0, name
    k = 1e-5
    assert P.jacob_cov(model, batch) == pytest.approx(-batch.size * (math.log(k) + 1 / k))
    assert P.epe_nas(model, batch) == 0.0
    assert P.zen(model, batch) == -math.inf
    # fisher keeps the classifier's own term (its output is the bias, with a nonzero loss gradient)
    assert 0 < P.fisher(model, batch) < P.fisher(tiny_nb201(GOOD), batch)
    assert math.isfinite(P.nwot(model, batch))  # the ReLUs before the dead cell still see the images
    good = tiny_nb201(GOOD)
    for name in ("synflow", "jacob_cov", "grad_norm", "snip", "zico", "epe_nas", "zen"):
        assert P.get(name).fn(good, batch) > P.get(name).fn(model, batch), name


def test_synflow_of_a_linear_chain_is_layers_times_the_flow() -> None:
    # For a bias-free chain of L linear maps with positive weights, synflow = L * (1^T W_L ... W_1 1).
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(12, 5, bias=False), nn.Linear(5, 4, bias=False), nn.Linear(4, 3, bias=False)
    )
    batch = P.ProxyBatch(torch.randn(2, 3, 2, 2), torch.zeros(2, dtype=torch.long), 3, "cifar10")
    w = [m.weight.detach().double().abs() for m in net if isinstance(m, nn.Linear)]
    flow = float(torch.ones(3, dtype=torch.float64) @ w[2] @ w[1] @ w[0] @ torch.ones(12, dtype=torch.float64))
    assert P.synflow(net, batch) == pytest.approx(3 * flow, rel=1e-12)


def test_jacob_cov_of_a_linear_model_and_nwot_of_identical_images() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    x = torch.randn(5, 3, 2, 2)
    batch = P.ProxyBatch(x, torch.tensor([0, 1, 2, 0, 1]), 3, "cifar10")
    # a linear model has the same Jacobian for every input: correlation all ones, eigenvalues (5, 0, 0, 0, 0)
    k = 1e-5
    expected = -(math.log(5 + k) + 1 / (5 + k)) - 4 * (math.log(k) + 1 / k)
    assert P.jacob_cov(net, batch) == pytest.approx(expected, rel=1e-9)
    relu_net = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    same = P.ProxyBatch(x[:1].repeat(4, 1, 1, 1), torch.zeros(4, dtype=torch.long), 3, "cifar10")
    assert P.nwot(relu_net, same) == -math.inf  # identical codes: singular kernel
    assert math.isfinite(P.nwot(relu_net, batch))


def test_params_and_flops_have_known_values(batch: P.ProxyBatch) -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 32 * 32, 10))
    assert P.params(net) == pytest.approx((3 * 4 * 9 + 4096 * 10 + 10) / 1e6)
    assert P.flops(net, batch) == pytest.approx((9 * 3 * 4 * 32 * 32 + 4096 * 10) / 1e6)
    space, bench = ar.spaces.get("nb201"), ar.datasets.load("nb201", "cifar10")
    best = space.from_index(6111)
    assert P.params(space.build_model(best)) == pytest.approx(bench.query(best, "params"), abs=1e-6)
    norms = sum(float(m.weight.detach().norm()) for m in net if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert P.l2_norm(net) == pytest.approx(norms)


def test_input_batches() -> None:
    a, b = P.input_batch("cifar10", 32, seed=1), P.input_batch("cifar10", 32, seed=1)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, P.input_batch("cifar10", 32, seed=2).inputs)
    assert a.inputs.shape == (32, 3, 32, 32) and a.inputs.dtype == torch.float32
    assert abs(float(a.inputs.mean())) < 0.5  # normalised
    small = P.input_batch("ImageNet16-120", 8)
    assert small.inputs.shape == (8, 3, 16, 16) and small.num_classes == 120
    assert P.input_batch("cifar100", 4).num_classes == 100
    with pytest.raises(ValueError, match="unknown dataset"):
        P.input_batch("svhn")
    with pytest.raises(ValueError, match="batch_size"):
        P.input_batch("cifar10", 501)


def test_compute_caches_resumes_and_returns_a_table(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    space = ar.spaces.get("nb201")
    archs = [str(a) for a in space.sample(4, seed=5)]
    cache = tmp_path / "c.sqlite"
    built = []
    original = ar.spaces.NB201Space.build_model

    def counting(self, arch, num_classes=10):  # type: ignore[no-untyped-def]
        built.append(str(arch))
        if len(built) == 3:
            raise KeyboardInterrupt  # the user stops the run during the third architecture
        return original(self, arch, num_classes)

    monkeypatch.setattr(ar.spaces.NB201Space, "build_model", counting)
    kwargs = dict(space="nb201", batch_size=8, cache=cache, progress=False)
    with pytest.raises(KeyboardInterrupt):
        P.compute(archs, ["nwot", "params"], **kwargs)
    monkeypatch.setattr(ar.spaces.NB201Space, "build_model", original)
    built.clear()
    monkeypatch.setattr(
        ar.spaces.NB201Space,
        "build_model",
        lambda self, a, num_classes=10: built.append(str(a)) or original(self, a, num_classes),
    )
    table = P.compute(archs + archs[:1], ["nwot", "params"], **kwargs)
    assert built == archs[2:]  # the two finished before the interrupt came from the cache
    assert list(table.columns) == ["arch", "nwot", "params"] and len(table) == 5
    assert table["arch"].tolist() == archs + archs[:1]
    fresh = P.compute(archs, ["nwot", "params"], space="nb201", batch_size=8, cache=None, progress=False)
    np.testing.assert_array_equal(table[["nwot", "params"]].to_numpy()[:4], fresh[["nwot", "params"]].to_numpy())
    other_seed = P.compute(archs[:1], ["nwot"], space="nb201", batch_size=8, seed=1, cache=cache, progress=False)
    assert other_seed["nwot"][0] != table["nwot"][0]  # the seed is part of the cache key


def test_one_bad_architecture_gives_nan_and_a_warning(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    space = ar.spaces.get("nb201")
    archs = [str(a) for a in space.sample(3, seed=2)]
    original = ar.spaces.NB201Space.build_model

    def broken(self, arch, num_classes=10):  # type: ignore[no-untyped-def]
        if str(arch) == archs[1]:
            raise RuntimeError("CUDA out of memory (simulated)")
        return original(self, arch, num_classes)

    monkeypatch.setattr(ar.spaces.NB201Space, "build_model", broken)
    with pytest.warns(P.ProxyWarning, match=r"\|.*out of memory"):
        table = P.compute(archs, ["params", "synflow"], space="nb201", batch_size=8, cache=None, progress=False)
    assert np.isnan(table.loc[1, ["params", "synflow"]].to_numpy(dtype=float)).all()
    assert np.isfinite(table.loc[[0, 2], ["params", "synflow"]].to_numpy(dtype=float)).all()


def test_a_proxy_that_overflows_or_raises_is_nan_for_that_architecture_only(batch: P.ProxyBatch) -> None:
    from archrank.proxies.registry import Proxy
    from archrank.proxies.runner import score_one

    model = tiny_nb201(GOOD)
    with pytest.warns(P.ProxyWarning, match="gave inf on cell X"):
        value, where = score_one(Proxy("big", lambda m, b: math.inf, False), model, batch, 0, "cell X")
        assert math.isnan(value) and where == "cpu"
    with pytest.warns(P.ProxyWarning, match="failed on cell Y: ZeroDivisionError"):
        assert math.isnan(score_one(Proxy("bad", lambda m, b: 1 / 0, False), model, batch, 0, "cell Y")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert score_one(Proxy("low", lambda m, b: -math.inf, False), model, batch, 0, "cell Z")[0] == -math.inf


class RunsOutOfMemory:
    """A proxy function that raises CUDA's out-of-memory error for its first ``failures`` calls,
    then computes synflow; it records the device of every batch it is given."""

    def __init__(self, failures: int) -> None:
        self.failures, self.devices = failures, []

    def __call__(self, model: nn.Module, batch: P.ProxyBatch) -> float:
        self.devices.append(batch.inputs.device.type)
        if len(self.devices) <= self.failures:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
        return P.synflow(model, batch)


def test_out_of_memory_retries_on_the_fallback_device_with_the_same_definition(batch: P.ProxyBatch) -> None:
    from archrank.proxies.registry import Proxy
    from archrank.proxies.runner import score_one

    model = tiny_nb201(GOOD)
    with ar._seeding.torch_seeded(0):
        expected = P.synflow(model, batch)
    fn = RunsOutOfMemory(failures=1)
    with pytest.warns(P.ProxyWarning, match="synflow ran out of memory on cpu for cell X; retrying on cpu"):
        value, where = score_one(Proxy("synflow", fn, False), model, batch, 0, "cell X", fallback=torch.device("cpu"))
    assert (value, where) == (expected, "cpu") and fn.devices == ["cpu", "cpu"]
    # without a fallback, or when the retry fails too, the score is NaN and named
    with pytest.warns(P.ProxyWarning, match="failed on cell Y: OutOfMemoryError"):
        assert math.isnan(score_one(Proxy("synflow", RunsOutOfMemory(1), False), model, batch, 0, "cell Y")[0])
    with pytest.warns(P.ProxyWarning, match="retrying on cpu"), pytest.warns(P.ProxyWarning, match="failed on cell Z"):
        lost = score_one(Proxy("s", RunsOutOfMemory(2), False), model, batch, 0, "cell Z", fallback=torch.device("cpu"))
    assert math.isnan(lost[0])


def test_shared_gradients_remember_running_out_of_memory(batch: P.ProxyBatch, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from archrank.proxies import runner

    calls = []

    def no_memory(model, batch):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(runner, "cross_entropy_grads", no_memory)
    shared = runner._SharedGrads(runner.cross_entropy_grads, tiny_nb201(GOOD), batch, 0)
    for _ in range(3):
        with pytest.raises(torch.cuda.OutOfMemoryError, match="simulated"):
            shared()
    assert len(calls) == 1  # later proxies fall back at once instead of filling the GPU again
    # through score_one, each gradient proxy falls back to its own definition on the CPU
    model = tiny_nb201(GOOD)
    for name in ("grad_norm", "snip"):
        with pytest.warns(P.ProxyWarning, match=f"{name} ran out of memory"):
            value, _ = runner.score_one(P.get(name), model, batch, 0, "cell", shared, torch.device("cpu"))
        with ar._seeding.torch_seeded(0):
            assert value == P.get(name).fn(model, batch)


def test_after_a_fallback_the_rest_of_the_network_is_scored_on_the_fallback_device(
    batch: P.ProxyBatch, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from archrank.proxies import runner

    # the retry moves the network itself, so later proxies must get the batch (and the shared
    # gradients) on the device the network went to; "meta" stands in for the CPU behind a GPU
    seen = []

    def fake_score_one(proxy, model, batch, seed, label, grads=None, fallback=None):  # type: ignore[no-untyped-def]
        seen.append((proxy.name, batch.inputs.device.type, grads.batch.inputs.device.type, fallback))
        return 1.0, "meta" if proxy.name == "synflow" else batch.inputs.device.type

    monkeypatch.setattr(runner, "score_one", fake_score_one)
    space = ar.spaces.get("nb201")
    names = ["params", "synflow", "grad_norm", "nwot"]
    out = runner._score_built(space, tiny_nb201(GOOD), "cell", [P.get(n) for n in names], batch, 0)
    assert [s[:3] for s in seen] == [
        ("params", "cpu", "cpu"),
        ("synflow", "cpu", "cpu"),
        ("grad_norm", "meta", "meta"),
        ("nwot", "meta", "meta"),
    ]
    assert [out[n][1] for n in names] == ["cpu", "meta", "meta", "meta"]
    assert seen[-1][3] is None  # no second fallback from the fallback device


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_real_gpu_fallback_scores_the_rest_on_the_cpu(batch: P.ProxyBatch) -> None:
    from archrank.proxies.registry import Proxy
    from archrank.proxies.runner import _score_built

    space = ar.spaces.get("nb201")
    names = ["grad_norm", "nwot", "jacob_cov"]
    with pytest.warns(P.ProxyWarning, match="retrying on cpu"):
        got = _score_built(
            space,
            tiny_nb201(GOOD),
            "cell",
            [Proxy("synflow", RunsOutOfMemory(failures=1), False)] + [P.get(n) for n in names],
            batch.to("cuda"),
            0,
        )
    on_cpu = _score_built(space, tiny_nb201(GOOD), "cell", [P.get(n) for n in ["synflow", *names]], batch, 0)
    for n in ["synflow", *names]:  # every proxy after the fallback ran on the CPU: the CPU run's scores
        assert got[n][1] == "cpu"
        assert got[n][0] == pytest.approx(on_cpu[n][0], rel=1e-6)


def test_a_network_too_big_for_the_device_is_scored_on_the_cpu(batch: P.ProxyBatch, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from archrank.proxies.runner import score_architecture

    space = ar.spaces.get("nb201")
    original = ar.spaces.NB201Space.build_model

    def too_big(self, arch, num_classes=10):  # type: ignore[no-untyped-def]
        model = original(self, arch, num_classes)

        move, tries = model.to, []

        def no_room(*args, **kwargs):  # type: ignore[no-untyped-def]
            tries.append(1)
            if len(tries) == 1:  # the runner's move to the batch's device; the proxies' copies move fine
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
            return move(*args, **kwargs)

        model.to = no_room  # .cpu() still works
        return model

    expected = score_architecture(space, space.parse(GOOD), "cell", [P.get("params"), P.get("synflow")], batch, 0)
    monkeypatch.setattr(ar.spaces.NB201Space, "build_model", too_big)
    with pytest.warns(P.ProxyWarning, match="nb201 architecture cell does not fit in GPU memory"):
        got = score_architecture(space, space.parse(GOOD), "cell", [P.get("params"), P.get("synflow")], batch, 0)
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in expected.items()}


def test_bad_input_gets_clear_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownChoiceError, match="unknown proxy 'synflw'"):
        P.compute([GOOD], ["synflw"], space="nb201", cache=None)
    with pytest.raises(ValueError, match="space"):
        P.compute([GOOD], ["params"], cache=None)
    with pytest.raises(ValueError, match="unknown dataset"):
        P.compute([GOOD], ["params"], space="nb201", dataset="mnist", cache=None)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataFileError, match=r"junk\.sqlite"):
        P.compute([GOOD], ["params"], space="nb201", cache=junk)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            P.compute([GOOD], ["params"], space="nb201", cache=None, device="cuda")
    with pytest.raises(ValueError, match="is a directory; give a file path"):
        P.compute([GOOD], ["params"], space="nb201", cache=tmp_path)
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        P.compute([GOOD], ["params"], space="nb201", cache=None, device="gpu0")
    assert sqlite3.sqlite_version


def test_real_network_scores_for_each_space() -> None:
    for name in ("nb101", "darts"):
        space = ar.spaces.get(name)
        table = P.compute(
            space.sample(1, seed=0), ["params", "synflow", "nwot"], batch_size=4, cache=None, progress=False
        )
        assert np.isfinite(table[["params", "synflow", "nwot"]].to_numpy(dtype=float)).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_scores_match_cpu_scores() -> None:
    archs = [str(a) for a in ar.spaces.get("nb201").sample(3, seed=9)]
    names = ["synflow", "grad_norm", "jacob_cov", "nwot", "params"]
    kwargs = {"space": "nb201", "cache": None, "progress": False, "precomputed": False}
    cpu = P.compute(archs, names, device="cpu", **kwargs)
    gpu = P.compute(archs, names, device="cuda", **kwargs)
    # float32 round-off grows through deep NB201 cells (up to ~2e-3 between CPU thread counts)
    np.testing.assert_allclose(gpu[names].to_numpy(dtype=float), cpu[names].to_numpy(dtype=float), rtol=2e-2)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 300), st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_agreement_kernel_in_one_product_equals_two_products(n: int, d: int, seed: int, lead: int) -> None:
    from archrank.proxies.activation import agreement_kernel

    codes = torch.rand((lead, n, d), generator=torch.Generator().manual_seed(seed)) > 0.5
    c = codes.double()
    want = c @ c.mT + (1 - c) @ (1 - c).mT
    got = agreement_kernel(codes)
    assert got.dtype == torch.float64 and torch.equal(got, want)
