"""BANANAS's meta neural network: an ensemble of MLPs on (by default) the path encoding."""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from archrank._seeding import torch_seeded
from archrank.errors import UnknownChoiceError
from archrank.predictors.base import ArchPredictor
from archrank.predictors.constraints import Interval, Options
from archrank.predictors.registry import register_predictor


class EnsembleMLP(nn.Module):
    """``n_members`` independent MLPs evaluated in one batched matmul per layer.

    Input (members, batch, d_in) -> output (members, batch). Each member is ``n_layers`` hidden
    ReLU layers of ``width`` units and a linear output, initialised like ``nn.Linear``.
    """

    def __init__(self, n_members: int, d_in: int, width: int, n_layers: int) -> None:
        super().__init__()
        dims = [d_in] + [width] * n_layers + [1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in itertools.pairwise(dims):
            bound = 1.0 / math.sqrt(a)
            self.weights.append(nn.Parameter(torch.empty(n_members, a, b).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(n_members, 1, b).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = torch.relu(x)
        return x.squeeze(-1)


@register_predictor("mlp_ensemble")
class MLPEnsemblePredictor(ArchPredictor):
    """BANANAS meta neural net: ``n_members`` MLPs (``n_layers`` x ``width``, defaults 10 x 20) trained
    on bootstrap-free reshuffles with different initialisations; mean and std across members.

    Defaults follow BANANAS (path encoding, MAE loss, Adam lr 0.01, batch 32, 200 epochs).
    Features and targets are standardised on the training set.
    """

    default_encodings: ClassVar[tuple[str, ...]] = ("path", "adjacency_onehot")
    tuning_grid: ClassVar[dict[str, list[Any]]] = {"lr": [0.003, 0.01], "loss": ["mae", "mse"]}

    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_members": [Interval(int, 1, None)],
        "n_layers": [Interval(int, 1, None)],
        "width": [Interval(int, 1, None)],
        "epochs": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        "lr": [Interval(float, 0, None, "neither")],
        "weight_decay": [Interval(float, 0, None)],
        "loss": [Options("mae", "mse")],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        n_members: int = 5,
        n_layers: int = 10,
        width: int = 20,
        epochs: int = 200,
        batch_size: int = 32,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        loss: str = "mae",
        target_transform: str = "rank_gauss",
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_members = n_members
        self.n_layers = n_layers
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.loss = loss
        self.target_transform = target_transform
        self.random_state = random_state
        self.n_threads = n_threads

    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        if self.loss not in ("mae", "mse"):
            raise UnknownChoiceError("mlp_ensemble loss", self.loss, ["mae", "mse"])
        if self.n_members < 1 or self.epochs < 1 or self.batch_size < 1:
            raise ValueError("n_members, epochs and batch_size must all be >= 1")
        self.x_mean_, self.x_std_ = X.mean(axis=0), X.std(axis=0)
        self.x_std_[self.x_std_ == 0] = 1.0
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        x = torch.as_tensor((X - self.x_mean_) / self.x_std_, dtype=torch.float32)
        t = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32)
        n, m = len(x), self.n_members
        loss_fn = nn.functional.l1_loss if self.loss == "mae" else nn.functional.mse_loss
        with torch_seeded(seed):
            net = EnsembleMLP(m, x.shape[1], self.width, self.n_layers)
            opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            for _ in range(self.epochs):
                order = torch.argsort(torch.rand(m, n), dim=1)
                for start in range(0, n, self.batch_size):
                    idx = order[:, start : start + self.batch_size]
                    opt.zero_grad()
                    # sum over members: each member's gradient is that of its own mean loss
                    loss = loss_fn(net(x[idx]), t[idx], reduction="mean") * m
                    loss.backward()
                    opt.step()
        net.eval()
        self.net_ = net

    def _predict_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.as_tensor((X - self.x_mean_) / self.x_std_, dtype=torch.float32)
        with torch.no_grad():
            out = self.net_(x.unsqueeze(0).expand(self.n_members, -1, -1)).double().numpy()
        out = out * self.y_std_ + self.y_mean_
        return out.mean(axis=0), out.std(axis=0)
