"""Stacked NB201 networks: K networks in one pass give each network's own outputs and proxy scores."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import archrank as ar
from archrank import proxies as P
from archrank._seeding import torch_seeded
from archrank.proxies import activation, batched, registry, saliency
from archrank.spaces.nb201 import OPS, NB201Arch
from archrank.spaces.nb201.model import NB201Network
from archrank.spaces.nb201.stacked import StackedNB201

NO_PATH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"
CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|none~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|",
    NO_PATH,
]
SPACE = ar.spaces.get("nb201")


def tiny(text: str, seed: int = 0, channels: int = 4) -> NB201Network:
    with torch_seeded(seed):
        return NB201Network(SPACE.parse(text), num_classes=10, channels=channels)


def double_batch(size: int = 8, hw: int = 16) -> P.ProxyBatch:
    b = P.input_batch("cifar10", batch_size=size, seed=0)
    return P.ProxyBatch(b.inputs[:, :, :hw, :hw].double().contiguous(), b.targets, b.num_classes, b.dataset)


def test_stacked_forward_equals_each_network() -> None:
    nets = [tiny(c, seed=i) for i, c in enumerate(CELLS)]
    stacked = StackedNB201(nets).double().train()
    x = double_batch().inputs
    out = stacked(stacked.replicate(x))
    assert out.shape == (8, len(nets), 10)
    for k, net in enumerate(nets):
        ref = copy.deepcopy(net).double().train()(x)
        torch.testing.assert_close(out[:, k], ref, rtol=1e-10, atol=1e-12)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.lists(st.sampled_from(OPS), min_size=6, max_size=6), min_size=1, max_size=4))
def test_any_stack_of_cells_computes_each_cell(ops_lists: list[list[str]]) -> None:
    nets = []
    for i, ops in enumerate(ops_lists):
        with torch_seeded(i):
            nets.append(NB201Network(NB201Arch(tuple(ops)), num_classes=10, channels=2))
    stacked = StackedNB201(nets).double().train()
    x = double_batch(size=4, hw=8).inputs
    out = stacked(stacked.replicate(x))
    for k, net in enumerate(nets):
        torch.testing.assert_close(out[:, k], copy.deepcopy(net).double().train()(x), rtol=1e-10, atol=1e-12)


ONE_NETWORK = {
    "synflow": saliency.synflow,
    "grad_norm": saliency.grad_norm,
    "snip": saliency.snip,
    "plain": saliency.plain,
    "jacob_cov": activation.jacob_cov,
    "nwot": activation.nwot,
    "zico": saliency.zico,
}


@pytest.mark.parametrize("name", sorted(P.stacked_names()))
def test_stacked_proxy_equals_the_one_network_definition(name: str) -> None:
    assert set(P.stacked_names()) == set(ONE_NETWORK)
    nets = [tiny(c, seed=i) for i, c in enumerate(CELLS)]
    batch = double_batch()
    stacked = batched.stack("nb201", nets).double()
    got = P.get(name).stacked(stacked, batch).tolist()
    want = [ONE_NETWORK[name](copy.deepcopy(n).double(), batch) for n in nets]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    if name in ("synflow", "grad_norm", "snip", "plain", "zico"):
        assert got[-1] == 0.0  # the cell with no path from input to output


def test_stacking_leaves_the_networks_alone_and_refuses_other_spaces() -> None:
    nets = [tiny(c) for c in CELLS[:2]]
    before = [copy.deepcopy(n.state_dict()) for n in nets]
    stacked = batched.stack("nb201", nets)
    batched.synflow(stacked, P.input_batch("cifar10", batch_size=4, seed=0))
    for net, state in zip(nets, before, strict=True):
        for key, value in net.state_dict().items():
            assert torch.equal(value, state[key])
    with pytest.raises(ValueError, match="the nb101 space cannot stack"):
        batched.stack("nb101", nets)
    with pytest.raises(TypeError, match="NB201Network"):
        StackedNB201([torch.nn.Linear(2, 2)])  # type: ignore[list-item]


def test_compute_with_stacked_passes_matches_one_at_a_time() -> None:
    archs = [str(a) for a in SPACE.sample(5, seed=3)] + [NO_PATH]
    names = ["synflow", "grad_norm", "snip", "jacob_cov", "nwot", "zico", "params", "flops"]
    kwargs = {"space": "nb201", "batch_size": 8, "cache": None, "progress": False, "precomputed": False}
    one = P.compute(archs, names, archs_per_launch=1, **kwargs)
    stacked = P.compute(archs, names, archs_per_launch=4, **kwargs)  # chunks of 4 and 2
    assert list(stacked["arch"]) == archs
    # float32 round-off grows through the deep NB201 network; float64 agreement is tested above
    np.testing.assert_allclose(stacked[names].to_numpy(float), one[names].to_numpy(float), rtol=2e-2)
    assert stacked.loc[5, "synflow"] == 0.0 and stacked.loc[5, "grad_norm"] == 0.0


def test_a_failing_stacked_pass_falls_back_to_one_network_at_a_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    archs = [str(a) for a in SPACE.sample(3, seed=4)]
    kwargs = {"space": "nb201", "batch_size": 8, "cache": None, "progress": False, "precomputed": False}
    one = P.compute(archs, ["synflow", "nwot"], archs_per_launch=1, **kwargs)

    def out_of_memory(space: object, models: list) -> StackedNB201:
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(type(SPACE), "stack_networks", out_of_memory)
    with pytest.warns(P.ProxyWarning, match=r"stacking failed on 3 nb201 networks .*one at a time"):
        fallback = P.compute(archs, ["synflow", "nwot"], archs_per_launch=3, **kwargs)
    np.testing.assert_array_equal(
        fallback[["synflow", "nwot"]].to_numpy(float), one[["synflow", "nwot"]].to_numpy(float)
    )


def test_stacked_gradient_proxies_share_one_failed_gradient_pass(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    archs = [str(a) for a in SPACE.sample(3, seed=5)]
    names = ["grad_norm", "snip", "plain"]
    kwargs = {"space": "nb201", "batch_size": 8, "cache": None, "progress": False, "precomputed": False}
    one = P.compute(archs, names, archs_per_launch=1, **kwargs)
    calls = []

    def out_of_memory(stacked, batch):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(batched, "cross_entropy_block_grads", out_of_memory)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fallback = P.compute(archs, names, archs_per_launch=3, **kwargs)
    assert [str(w.message).split(" (")[0] for w in caught] == [
        f"stacked {name} failed on 3 nb201 networks" for name in names
    ]
    assert len(calls) == 1  # snip and plain do not fill the GPU again
    np.testing.assert_array_equal(fallback[names].to_numpy(float), one[names].to_numpy(float))


def test_archs_per_launch_is_checked() -> None:
    kwargs = {"space": "nb201", "cache": None, "progress": False}
    with pytest.raises(ValueError, match="archs_per_launch must be a positive int"):
        P.compute([CELLS[0]], ["params"], archs_per_launch=0, **kwargs)
    with pytest.raises(ValueError, match="needs a space whose networks stack"):
        P.compute(ar.spaces.get("nb101").sample(1, seed=0), ["params"], archs_per_launch=2, cache=None)
    from archrank.proxies.runner import resolve_archs_per_launch

    assert resolve_archs_per_launch("auto", SPACE, torch.device("cpu")) == 1
    assert resolve_archs_per_launch("auto", SPACE, torch.device("cuda")) == 16
    assert resolve_archs_per_launch("auto", ar.spaces.get("darts"), torch.device("cuda")) == 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_stacked_gpu_scores_match_cpu_scores() -> None:
    archs = [str(a) for a in SPACE.sample(6, seed=9)]
    names = ["synflow", "grad_norm", "snip", "jacob_cov", "nwot", "zico"]
    kwargs = {"space": "nb201", "cache": None, "progress": False, "precomputed": False}
    cpu = P.compute(archs, names, device="cpu", archs_per_launch=1, **kwargs)
    gpu = P.compute(archs, names, device="cuda", archs_per_launch=6, **kwargs)
    np.testing.assert_allclose(gpu[names].to_numpy(float), cpu[names].to_numpy(float), rtol=2e-2)


def test_a_stacked_chunk_keeps_cached_scores_and_caches_the_new_ones(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    archs = [str(a) for a in SPACE.sample(3, seed=5)]
    kwargs = {"space": "nb201", "batch_size": 8, "cache": tmp_path / "c.sqlite", "progress": False}
    first = P.compute(archs[:2], ["synflow"], archs_per_launch=1, **kwargs)
    # mark what the stacked pass computes, to see which scores come from it
    marked = dataclasses.replace(P.get("synflow"), stacked=lambda stacked, batch: -batched.synflow(stacked, batch))
    monkeypatch.setitem(registry._REGISTRY, "synflow", marked)
    both = P.compute(archs, ["synflow", "nwot"], archs_per_launch=3, **kwargs)
    assert both["synflow"][:2].tolist() == first["synflow"].tolist()  # from the cache, not the stacked pass
    assert both["synflow"][2] < 0  # the missing one from the stacked pass
    again = P.compute(archs, ["synflow", "nwot"], archs_per_launch=3, **kwargs)
    assert again[["synflow", "nwot"]].equals(both[["synflow", "nwot"]])


def test_cuda_scoring_uses_ieee_float32_convolutions_and_restores_the_setting() -> None:
    from archrank.proxies.runner import full_float32

    conv = torch.backends.cudnn.conv
    before = conv.fp32_precision
    with full_float32(torch.device("cuda")):  # only flips cuDNN's flag: runs without a GPU
        assert conv.fp32_precision == "ieee"
    assert conv.fp32_precision == before
    with full_float32(torch.device("cpu")):
        assert conv.fp32_precision == before
