"""Bundled data files: location, SHA-256 verification against the manifest, and loading.

Every file under ``archrank/datasets/_data`` is listed in ``SHA256SUMS`` (written by
``scripts/convert_data.py``); a missing, unlisted or altered file raises DataFileError.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from archrank.errors import DataFileError

DATA_DIR = Path(__file__).resolve().parent / "datasets" / "_data"
MANIFEST = "SHA256SUMS"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(data_dir: Path = DATA_DIR) -> None:
    """Rewrite ``data_dir/SHA256SUMS`` from the ``.npz`` and ``.json`` files there (data scripts only)."""
    files = sorted(p for p in Path(data_dir).iterdir() if p.is_file() and p.suffix in (".npz", ".json"))
    (Path(data_dir) / MANIFEST).write_text("".join(f"{sha256_of(p)}  {p.name}\n" for p in files))


def read_manifest(data_dir: Path) -> dict[str, str]:
    """File name -> expected SHA-256 from ``data_dir/SHA256SUMS``."""
    path = data_dir / MANIFEST
    if not path.is_file():
        raise DataFileError(f"checksum manifest {path} is missing; reinstall archrank")
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip()] = digest
    return out


def verified_path(name: str, data_dir: Path | None = None) -> Path:
    """Path of bundled file ``name`` after checking it exists and matches its checksum."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    path = root / name
    if not path.is_file():
        raise DataFileError(f"bundled data file {path} is missing; reinstall archrank or rerun scripts/convert_data.py")
    expected = read_manifest(root).get(name)
    if expected is None:
        raise DataFileError(f"data file {name} is not listed in {root / MANIFEST}")
    actual = sha256_of(path)
    if actual != expected:
        raise DataFileError(
            f"data file {path} is corrupted: SHA-256 {actual[:16]}... does not match the manifest's {expected[:16]}..."
        )
    return path


@lru_cache(maxsize=32)
def _load_npz_cached(name: str, data_dir: Path | None) -> dict[str, np.ndarray]:
    path = verified_path(name, data_dir)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataFileError(f"data file {path} cannot be read: {err}") from err
    for arr in arrays.values():
        arr.setflags(write=False)
    return arrays


def load_npz(name: str, data_dir: Path | None = None) -> dict[str, np.ndarray]:
    """All arrays of a verified ``.npz`` bundle (read-only; loaded once per process)."""
    return _load_npz_cached(name, Path(data_dir) if data_dir is not None else None)


@lru_cache(maxsize=32)
def _load_json_cached(name: str, data_dir: Path | None) -> Any:
    path = verified_path(name, data_dir)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataFileError(f"data file {path} cannot be read: {err}") from err


def load_json(name: str, data_dir: Path | None = None) -> Any:
    """A verified JSON bundle (loaded once per process; treat as read-only)."""
    return _load_json_cached(name, Path(data_dir) if data_dir is not None else None)
