"""Spellings users type for search spaces and datasets, mapped to archrank's own names."""

from __future__ import annotations

from collections.abc import Iterable

SPACE_ALIASES = {
    "nasbench201": "nb201",
    "nas-bench-201": "nb201",
    "nasbench101": "nb101",
    "nas-bench-101": "nb101",
    "nb301": "darts",
    "nasbench301": "darts",
    "nas-bench-301": "darts",
}
DATASET_ALIASES = {"imagenet16": "imagenet16-120", "imagenet": "imagenet16-120"}


def space_key(name: str) -> str:
    """``name`` lower-cased, with the aliases above resolved (``"NAS-Bench-201"`` -> ``"nb201"``)."""
    return SPACE_ALIASES.get(name.lower(), name.lower())


def dataset_name(text: str, valid: Iterable[str]) -> str | None:
    """The spelling in ``valid`` of dataset ``text``, matched case-insensitively or through an alias; else None."""
    wanted = DATASET_ALIASES.get(text.lower(), text.lower())
    return next((v for v in valid if v.lower() == wanted), None)
