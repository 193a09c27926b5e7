"""Test-only user spaces (not part of the package): a Choices macro space and an NB101-like Cell.

Importable as ``own_spaces:macro`` / ``own_spaces:tiny_cell`` when ``tests/`` is on the path, as
a user's own module would be. Like a user's plug-in module, it registers its spaces when it is
imported, so worker processes that import it (to unpickle ``macro_score``) know them too.
"""

from __future__ import annotations

from torch import nn

import archrank as ar

BLOCKS = ["conv3", "conv5", "skip"]


def macro_model(arch: ar.spaces.DecisionArch, num_classes: int) -> nn.Module:
    """A small CNN: one block per layer decision, the width from the ``width`` decision."""
    width = int(arch["width"])
    layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
    for k in range(3):
        block = arch[f"layer{k}"]
        if block == "skip":
            layers.append(nn.Identity())
        else:
            size = int(block[-1])
            layers += [nn.Conv2d(width, width, size, padding=size // 2), nn.BatchNorm2d(width), nn.ReLU()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
    return nn.Sequential(*layers)


def not_all_skip(arch: ar.spaces.DecisionArch) -> bool:
    return any(arch[f"layer{k}"] != "skip" for k in range(3))


macro = ar.spaces.Choices(
    "test-macro",
    {"layer0": BLOCKS, "layer1": BLOCKS, "layer2": BLOCKS, "width": [8, 16]},
    constraint=not_all_skip,
    model_fn=macro_model,
)

tiny_cell = ar.spaces.Cell("test-tiny-cell", nodes=5, ops=["conv3", "conv1", "pool"], op_on="node", max_edges=6)
ar.spaces.register(macro)
ar.spaces.register(tiny_cell)


def macro_score(arch: ar.spaces.DecisionArch) -> float:
    """A deterministic stand-in for training: wider and with 5x5 convs is better."""
    blocks = [arch[f"layer{k}"] for k in range(3)]
    return 60.0 + 2.0 * blocks.count("conv5") + 1.0 * blocks.count("conv3") + 0.5 * (arch["width"] == 16)


def cell_score(arch: ar.spaces.DecisionArch) -> float:
    ops = [v for v in arch.values if isinstance(v, str)]
    edges = sum(v for v in arch.values if isinstance(v, int))
    return 50.0 + 3.0 * ops.count("conv3") + 1.0 * ops.count("conv1") - 0.5 * edges
