"""Plug-in points used as a user would: an own encoding in the predictors, own proxies and model_fn in the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import own_spaces
import pytest
from torch import nn

import archrank as ar
from archrank import proxies as P
from archrank.encodings import ArchEncoder, register_encoding
from archrank.encodings import base as encodings_base
from archrank.errors import UnknownChoiceError
from archrank.proxies import registry

macro, tiny = own_spaces.macro, own_spaces.tiny_cell


class ChosenOptionIndex(ArchEncoder):
    """A user's encoding: the index of each decision's option, for spaces that describe decisions."""

    name: ClassVar[str] = "test_option_index"
    requirement: ClassVar[str] = "a Choices space"

    @classmethod
    def applies(cls, space: Any) -> bool:
        return isinstance(space, ar.spaces.Choices)

    def _length(self, space: Any) -> int:
        return len(space.decisions)

    def _encode(self, archs: list[Any], space: Any) -> np.ndarray:
        options = space.decisions
        return np.array([[options[k].index(v) for k, v in space.to_decisions(a).items()] for a in archs], float)


@pytest.fixture
def own_encoding():  # type: ignore[no-untyped-def]
    """The encoding registered for one test only (other tests see the built-in registry)."""
    register_encoding(ChosenOptionIndex)
    with pytest.raises(ValueError, match="already registered"):
        register_encoding(type("Other", (ArchEncoder,), {"name": "test_option_index"}))
    yield
    del encodings_base._REGISTRY["test_option_index"]  # the registry itself, not a copy: lazy entries land in it


@pytest.mark.usefixtures("own_encoding")
def test_a_registered_encoding_works_in_every_matrix_predictor() -> None:
    archs = macro.sample(40, seed=0)
    y = np.array([own_spaces.macro_score(a) for a in archs])
    assert "test_option_index" in ar.encodings.names() and "test_option_index" in ar.encodings.applicable_encodings(
        macro
    )
    for name in ("rf", "xgb", "gp"):
        model = ar.predictors.make(name, space=macro, encoding="test_option_index", random_state=0).fit(archs, y)
        assert model.encoder_.name == "test_option_index" and np.isfinite(model.predict(archs)).all()
    assert "test_option_index" not in ar.predictors.predictor_class("gnn").accepted_encodings()
    with pytest.raises(UnknownChoiceError, match="encoding for the 'xgb' predictor 'nope'"):
        ar.predictors.make("xgb", space=macro, encoding="nope")


@pytest.mark.usefixtures("own_encoding")
def test_an_encoding_that_does_not_apply_is_refused_before_it_runs() -> None:
    with pytest.raises(UnknownChoiceError, match="'test_option_index' does not apply: it needs a Choices space"):
        ar.encodings.encode(tiny.sample(3, seed=0), "test_option_index", space=tiny)


def _ones(model: nn.Module, batch: P.ProxyBatch) -> float:
    return 1.0


def _twos(model: nn.Module, batch: P.ProxyBatch) -> float:
    return 2.0


def test_a_user_proxy_scores_are_not_reused_once_its_code_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(registry._REGISTRY, "test_user_proxy", registry.Proxy("test_user_proxy", _ones, False))
    archs = macro.sample(3, seed=1)
    cache = tmp_path / "c.sqlite"
    kwargs = {"space": macro, "cache": cache, "progress": False, "batch_size": 4}
    assert P.compute(archs, ["test_user_proxy", "params"], **kwargs)["test_user_proxy"].tolist() == [1.0] * 3
    monkeypatch.setitem(registry._REGISTRY, "test_user_proxy", registry.Proxy("test_user_proxy", _twos, False))
    assert P.compute(archs, ["test_user_proxy"], **kwargs)["test_user_proxy"].tolist() == [2.0] * 3


def test_a_space_rebuilt_with_another_model_fn_does_not_reuse_cached_scores(tmp_path: Path) -> None:
    def small(arch: Any, num_classes: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, num_classes))

    def large(arch: Any, num_classes: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes))

    decisions = {"a": ["x", "y"], "b": [1, 2]}
    kwargs: dict[str, Any] = {"cache": tmp_path / "c.sqlite", "progress": False, "batch_size": 4}
    first = ar.spaces.Choices("test-rebuilt", decisions, model_fn=small)
    again = ar.spaces.Choices("test-rebuilt", decisions, model_fn=large)
    archs = first.sample(2, seed=0)
    before = P.compute(archs, ["params"], space=first, **kwargs)["params"]
    after = P.compute([str(a) for a in archs], ["params"], space=again, **kwargs)["params"]
    assert (after > before).all()
    assert first.cache_key != again.cache_key and first.cache_key.startswith("test-rebuilt#model_fn=")


def test_a_space_without_model_fn_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match=r"builds no networks.*model_fn="):
        P.compute(tiny.sample(2, seed=0), ["params"], space=tiny, cache=None, progress=False)
