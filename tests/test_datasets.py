from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

import archrank as ar
from archrank._datafiles import DATA_DIR

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


@pytest.mark.parametrize("dataset", ["cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"])
def test_nb201_datasets_load_with_finite_values(dataset):
    bench = ar.datasets.load("nb201", dataset=dataset)
    assert len(bench) == 15_625
    frame = bench.frame()
    assert len(frame) == 15_625 and frame.select_dtypes("number").notna().all().all()
    assert frame["arch"].iloc[6111] == BEST
    assert "test_accuracy" in bench.metrics() and "params" in bench.metrics()


def test_nb201_known_values():
    c10 = ar.datasets.load("nb201", "cifar10")
    assert c10.query(RESNET, "test_accuracy", 200) == pytest.approx(94.0, abs=0.5)  # ResNet-like cell
    assert c10.query(BEST, "test_accuracy") == c10.query(BEST, "test_accuracy", epochs=200)
    assert c10.query(BEST, "test_accuracy", 12) < c10.query(BEST, "test_accuracy", 200)
    assert c10.info("valid_accuracy", 200).note.startswith("the cifar10-valid run")
    assert c10.query(BEST, "valid_accuracy") == ar.datasets.load("nb201", "cifar10-valid").query(BEST, "valid_accuracy")
    # The largest cell has 1.53 M parameters; CIFAR-100's classifier adds 5,850.
    assert c10.values("params").max() == pytest.approx(1.531546)
    c100 = ar.datasets.load("nb201", "cifar100")
    assert c100.query(BEST, "params") - c10.query(BEST, "params") == pytest.approx(0.00585)
    assert c100.values("test_accuracy", 200).max() == pytest.approx(73.51, abs=0.01)
    img = ar.datasets.load("nb201", "imagenet16-120")
    assert img.dataset == "ImageNet16-120" and img.values("test_accuracy", 200).max() == pytest.approx(47.31, abs=0.01)
    # Hardware tables: latency is positive and the all-'none' cell is fastest on the edge GPU.
    lat = c10.values("latency_edgegpu")
    assert (lat > 0).all() and c10.info("latency_edgegpu").unit == "ms"
    assert c10.query("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "latency_edgegpu") <= np.median(lat)
    assert "latency_help_titan_rtx_256" in c10.metrics() and "latency_help_titan_rtx_256" not in c100.metrics()


def test_nb101_table():
    bench = ar.datasets.load("nb101")
    assert len(bench) == 20_001
    acc = bench.values("valid_accuracy", 108)
    assert acc.max() == pytest.approx(94.91, abs=0.005)
    assert np.percentile(acc, 99.9) == pytest.approx(94.70, abs=0.02)
    assert bench.metrics() == {"valid_accuracy": [4, 12, 36, 108], "training_time": [108], "params": [None]}
    arch = ar.spaces.get("nb101").from_hash("00005c142e6f48ac74fdcf73e3439874")
    assert bench.query(arch, "params") == pytest.approx(8.555530)
    assert bench.query(arch, "valid_accuracy", 4) == pytest.approx(36.047676, abs=1e-5)


def test_nb101_query_is_isomorphism_invariant():
    space = ar.spaces.get("nb101")
    bench = ar.datasets.load("nb101")
    # Two specs of the same cell (vertices 1 and 2 swapped; both are independent 3x3 convs).
    a = space.parse("0110/0001/0001/0000|input,conv3x3-bn-relu,conv3x3-bn-relu,output")
    b = space.parse(
        {
            "matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
            "ops": ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "output"],
        }
    )
    assert a.module_hash == b.module_hash
    if a in bench:
        assert bench.query(a, "valid_accuracy") == bench.query(b, "valid_accuracy")


def test_nb101_cell_outside_the_table_is_a_clear_error():
    bench = ar.datasets.load("nb101")
    known = {a.module_hash for a in bench.archs()}
    outside = next(a for a in ar.spaces.get("nb101").sample(200, seed=0) if a.module_hash not in known)
    assert outside not in bench
    with pytest.raises(ar.UnknownArchitectureError, match="not among the 20001"):
        bench.query(outside, "valid_accuracy")


def test_names_are_read_case_insensitively_and_through_aliases():
    assert ar.datasets.load("NAS-Bench-201", "CIFAR10").name == "nb201"
    assert ar.datasets.load("nb201", "imagenet16-120").dataset == "ImageNet16-120"
    assert ar.datasets.load("nasbench301").name == ar.spaces.get("nb301").name == "darts"
    table = ar.proxies.compute([BEST], ["params"], space="nb201", dataset="imagenet16", cache=None, progress=False)
    assert table["params"].iloc[0] > 0  # the ImageNet16-120 classifier (120 classes)


def test_unknown_names_list_the_choices():
    with pytest.raises(ar.UnknownChoiceError, match="valid choices: nb201, nb101, darts"):
        ar.datasets.load("nb999")
    with pytest.raises(ar.UnknownChoiceError, match="cifar10-valid"):
        ar.datasets.load("nb201", dataset="mnist")
    bench = ar.datasets.load("nb201")
    with pytest.raises(ar.UnknownChoiceError, match="test_accuracy"):
        bench.query(BEST, "accuracy")
    with pytest.raises(ar.UnknownChoiceError, match="valid choices: 12, 200"):
        bench.query(BEST, "test_accuracy", epochs=108)
    with pytest.raises(ar.InvalidArchitectureError):
        bench.query("|nor_conv_3x3~0|", "test_accuracy")
    with pytest.raises(ar.UnknownChoiceError, match="search space"):
        ar.spaces.get("nb401")


def test_load_is_fast():
    for name in ("nb201", "nb101"):
        start = time.perf_counter()
        ar.datasets.load(name)
        assert time.perf_counter() - start < 10  # generous guard; benchmarks/ reports the real figure


def copy_data(tmp_path):
    dest = tmp_path / "data"
    shutil.copytree(DATA_DIR, dest)
    return dest


def test_corrupted_data_file_is_a_clear_error(tmp_path):
    data = copy_data(tmp_path)
    raw = bytearray((data / "nb201.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (data / "nb201.npz").write_bytes(bytes(raw))
    with pytest.raises(ar.DataFileError, match="corrupted"):
        ar.datasets.load("nb201", data_dir=data)


def test_missing_data_file_and_manifest_are_clear_errors(tmp_path):
    data = copy_data(tmp_path)
    (data / "darts.npz").unlink()
    with pytest.raises(ar.DataFileError, match="missing"):
        ar.datasets.load("darts", data_dir=data)
    (data / "SHA256SUMS").unlink()
    with pytest.raises(ar.DataFileError, match="manifest"):
        ar.datasets.load("nb201", data_dir=data)


def test_arrays_are_read_only():
    bench = ar.datasets.load("nb201")
    values = bench.values("test_accuracy")
    values[0] = -1  # a copy: the table itself must not change
    assert bench.values("test_accuracy")[0] != -1
