"""GIN predictor (NPENAS-style) on the ``graph`` encoding, with torch-geometric layers."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from archrank._seeding import torch_seeded
from archrank.encodings import GraphEncoder, resolve_space
from archrank.errors import UnknownChoiceError
from archrank.predictors.base import ArchPredictor, Inputs, split_inputs
from archrank.predictors.constraints import BOOL, Interval, Options
from archrank.predictors.registry import register_predictor


class GIN(nn.Module):
    """``n_layers`` GINConv layers (2-layer MLP with BatchNorm each), mean pooling, a 2-layer head.

    The pooled graph vector (hidden units) is the learned embedding; extra per-graph features are
    concatenated to it before the head (hidden + d_extra -> 16 -> 1).
    """

    def __init__(self, d_node: int, hidden: int = 32, n_layers: int = 3, d_extra: int = 0) -> None:
        from torch_geometric.nn import GINConv  # torch_geometric is imported when a GIN is first built (~5 s)

        super().__init__()
        self.convs = nn.ModuleList()
        for i in range(n_layers):
            mlp = nn.Sequential(
                nn.Linear(d_node if i == 0 else hidden, hidden),
                nn.BatchNorm1d(hidden),
                nn.ReLU(),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
            )
            self.convs.append(GINConv(mlp, train_eps=True))
        self.head = nn.Sequential(nn.Linear(hidden + d_extra, 16), nn.ReLU(), nn.Linear(16, 1))

    def embed(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, n_graphs: int) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        for conv in self.convs:
            x = conv(x, edge_index)
        return global_mean_pool(x, batch, size=n_graphs)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor, n_graphs: int, extra: torch.Tensor | None
    ) -> torch.Tensor:
        h = self.embed(x, edge_index, batch, n_graphs)
        if extra is not None:
            h = torch.cat([h, extra], dim=1)
        return self.head(h).squeeze(-1)


def _ranges(starts: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """The concatenation of ``arange(s, s + c)`` for each pair of ``starts`` and ``counts`` (int64 tensors)."""
    begins = torch.cumsum(counts, 0) - counts
    return torch.repeat_interleave(starts - begins, counts) + torch.arange(int(counts.sum()))


class _GraphSet:
    """Graphs collated once into flat tensors; a mini-batch is cut from them with a few index operations.

    ``x`` (total nodes, d) and ``edges`` (2, total edges, node ids local to each graph) hold every
    graph back to back; :meth:`batch` gathers the graphs of ``idx`` in that order and shifts their
    edges to the batch's node numbering, giving the same tensors as collating the graphs one by one.
    """

    def __init__(self, graphs: list[Any], bidirectional: bool) -> None:
        edges = []
        for g in graphs:
            ei = g.edge_index.long()
            edges.append(torch.cat([ei, ei.flip(0)], dim=1) if bidirectional else ei)
        self.n_nodes = torch.tensor([int(g.x.shape[0]) for g in graphs])
        self.n_edges = torch.tensor([int(e.shape[1]) for e in edges])
        self.x = torch.cat([g.x.float() for g in graphs])
        self.edges = torch.cat(edges, dim=1)
        self.node_start = torch.cumsum(self.n_nodes, 0) - self.n_nodes
        self.edge_start = torch.cumsum(self.n_edges, 0) - self.n_edges

    def __len__(self) -> int:
        return len(self.n_nodes)

    def batch(self, idx: torch.Tensor | list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        """Node features, edge index, node-to-graph vector and graph count of the graphs ``idx``, in order."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        counts, edge_counts = self.n_nodes[idx], self.n_edges[idx]
        offsets = torch.cumsum(counts, 0) - counts
        x = self.x[_ranges(self.node_start[idx], counts)]
        ei = self.edges[:, _ranges(self.edge_start[idx], edge_counts)] + torch.repeat_interleave(offsets, edge_counts)
        batch = torch.repeat_interleave(torch.arange(len(idx)), counts)
        return x, ei, batch, len(idx)

    def dense(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """All graphs padded to the largest: ``x`` (n, N, d), ``adj_t`` (n, N, N) with ``adj_t[g, i, j]``
        the edges j -> i of graph ``g``, and the node mask (n, N, 1) (None when all graphs have N nodes)."""
        from torch_geometric.utils import to_dense_adj, to_dense_batch

        graph = torch.repeat_interleave(torch.arange(len(self)), self.n_nodes)
        edges = self.edges + torch.repeat_interleave(self.node_start, self.n_edges)
        x, mask = to_dense_batch(self.x, graph)
        adj_t = to_dense_adj(edges, graph, max_num_nodes=x.shape[1]).transpose(1, 2).contiguous()
        return x, adj_t, None if bool(mask.all()) else mask[..., None].float()


#: from this many training graphs on, ``batch_size="auto"`` takes mini-batches of 64 instead of 32
LARGE_TRAINING_SET = 512


@register_predictor("gnn")
class GNNPredictor(ArchPredictor):
    """Ensemble of GIN regressors (NPENAS: 3 GINConv layers of 32 with BatchNorm, mean pool, 32->16->1).

    ``loss="mse"`` regresses standardised targets; ``loss="ranking"`` trains on a pairwise logistic
    (RankNet) loss over all pairs of a mini-batch, then maps scores to target units with a least-
    squares line fitted on the training set. Mean and std are taken across the ``n_members``
    networks (NPENAS-BO's uncertainty). Messages flow along each edge in both directions by default
    (``bidirectional=True``: on NB201 with 1,000 training cells it lifted Kendall tau from 0.85 to
    0.90 over forward-only messages). Reads architectures (encoded with ``graph``), a DataFrame
    with an ``arch`` column plus extra numeric columns, or a list of ``torch_geometric`` ``Data``.
    ``embed(X)`` returns the pooled hidden layer: the ``gnn_embedding`` encoding. ``n_threads``
    (every predictor's; default: ``$ARCHRANK_THREADS``, else 1, see :mod:`archrank._threads`): the
    steps on small graphs are too small to share well, and a second thread made a 1,000-cell fit up
    to 6x slower on 2 cores when the machine was busy (benchmarks/RESULTS.md). The members train side by side
    as one batched model (:mod:`archrank.predictors.gin_stack`); ``batch_size`` and ``lr``
    default to ``"auto"`` (:meth:`_step_settings`: 32 graphs and 0.005 below 512 training cells,
    64 and 0.01 from there on). ``warm_start=True`` (scikit-learn's convention): a refit continues
    training the fitted networks for ``epochs`` epochs on the new data instead of starting afresh.
    """

    default_encodings: ClassVar[tuple[str, ...]] = ("graph",)
    reads: ClassVar[str] = "graphs"
    tuning_grid: ClassVar[dict[str, list[Any]]] = {"loss": ["mse", "ranking"], "lr": ["auto", 0.002]}

    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_members": [Interval(int, 1, None)],
        "hidden": [Interval(int, 1, None)],
        "n_layers": [Interval(int, 1, None)],
        "epochs": [Interval(int, 1, None)],
        "batch_size": [Options("auto"), Interval(int, 2, None)],
        "lr": [Options("auto"), Interval(float, 0, None, "neither")],
        "weight_decay": [Interval(float, 0, None)],
        "loss": [Options("mse", "ranking")],
        "bidirectional": [BOOL],
        "warm_start": [BOOL],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        n_members: int = 3,
        hidden: int = 32,
        n_layers: int = 3,
        epochs: int = 150,
        batch_size: int | str = "auto",
        lr: float | str = "auto",
        weight_decay: float = 1e-4,
        loss: str = "mse",
        bidirectional: bool = True,
        target_transform: str = "rank_gauss",
        random_state: int | None = None,
        n_threads: int | None = None,
        warm_start: bool = False,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_members = n_members
        self.hidden = hidden
        self.n_layers = n_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.loss = loss
        self.bidirectional = bidirectional
        self.target_transform = target_transform
        self.random_state = random_state
        self.n_threads = n_threads
        self.warm_start = warm_start

    # --- inputs -----------------------------------------------------------------------------
    def _graphs(self, inputs: Inputs, fit: bool) -> _GraphSet:
        """The graphs of ``inputs`` (encoding architectures with ``graph``), checked against the fit."""
        if inputs.matrix is not None:
            raise TypeError(
                "GNNPredictor reads graphs: pass architectures, a DataFrame with an 'arch' column, or "
                "torch_geometric Data objects, not a plain feature matrix"
            )
        if inputs.archs is not None:
            if fit:
                space = resolve_space(self.space, inputs.archs)
                self._encoding_name(space)
                self.encoder_ = GraphEncoder(space=space).fit(inputs.archs)
            elif self.encoder_ is None:
                raise ValueError("this predictor was fitted on graphs; pass Data objects, not architectures")
            graphs = self.encoder_.transform(inputs.archs)
        else:
            if fit:
                self.encoder_ = None
            graphs = inputs.graphs
        widths = {int(g.x.shape[1]) for g in graphs}
        if len(widths) != 1:
            raise ValueError("all graphs must have the same node-feature width")
        width = widths.pop()
        if fit:
            self.n_node_features_ = width
        elif width != self.n_node_features_:
            raise ValueError(
                f"graphs have {width} node features, the predictor was fitted with {self.n_node_features_}"
            )
        return _GraphSet(graphs, self.bidirectional)

    def _extra(self, inputs: Inputs, fit: bool) -> torch.Tensor | None:
        """Extra per-graph features, standardised with the training statistics."""
        extra = inputs.extra
        n_extra = 0 if extra is None else extra.shape[1]
        if fit:
            self.n_extra_features_ = n_extra
            self.n_features_in_ = self.n_node_features_ + n_extra
            if extra is not None:
                self.extra_mean_, self.extra_std_ = extra.mean(axis=0), extra.std(axis=0)
                self.extra_std_[self.extra_std_ == 0] = 1.0
        elif n_extra != self.n_extra_features_:
            raise ValueError(
                f"X has {n_extra} extra feature columns, the predictor was fitted with {self.n_extra_features_}"
            )
        if extra is None:
            return None
        return torch.as_tensor((extra - self.extra_mean_) / self.extra_std_, dtype=torch.float32)

    # --- training ---------------------------------------------------------------------------
    def _fit_inputs(self, inputs: Inputs, y: np.ndarray, seed: int) -> None:
        if self.loss not in ("mse", "ranking"):
            raise UnknownChoiceError("gnn loss", self.loss, ["mse", "ranking"])
        if self.n_members < 1 or self.epochs < 1:
            raise ValueError("n_members and epochs must be >= 1")
        self.batch_size_, self.lr_ = self._step_settings(len(y))
        previous = (self.members_, self.member_shape_) if self.warm_start and hasattr(self, "members_") else None
        data = self._graphs(inputs, fit=True)
        extra = self._extra(inputs, fit=True)
        self.member_shape_ = (self.n_node_features_, self.n_extra_features_, self.hidden, self.n_layers, self.n_members)
        if previous is not None and previous[1] != self.member_shape_:
            names = "node features, extra features, hidden, n_layers, n_members"
            del self.n_features_in_  # neither the old fit nor the new one: the predictor reads as unfitted
            raise ValueError(
                f"warm_start needs the shapes of the previous fit ({names}: {previous[1]}), got {self.member_shape_}"
            )
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        t = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32)
        members = self._train_members(data, extra, t, seed, None if previous is None else previous[0])
        self.members_, self.calibration_ = members, []
        for net in self.members_:
            scores = self._scores(net, data, extra)
            if self.loss == "ranking":
                a, b = np.polyfit(scores, t.numpy(), 1) if np.ptp(scores) > 0 else (0.0, 0.0)
            else:
                a, b = 1.0, 0.0
            self.calibration_.append((float(a), float(b)))

    def _step_settings(self, n: int) -> tuple[int, float]:
        """The mini-batch size and Adam learning rate for ``n`` training graphs.

        ``batch_size="auto"``: 32 graphs below ``LARGE_TRAINING_SET`` training cells, 64 from there
        on; ``lr="auto"``: 0.005 at 32 graphs, scaled with the batch size (0.01 at 64). Chosen on
        pilot seeds 100-103 at 1,000 NB201 cells: batch 64 with lr 0.01 ranked as well as batch 32
        with lr 0.005 (Kendall tau 0.898 against 0.897) in half the steps; batch 64 with lr 0.005
        lost 0.005 (benchmarks/RESULTS.md).
        """
        if self.batch_size == "auto":
            batch_size = 32 if n < LARGE_TRAINING_SET else 64
        elif isinstance(self.batch_size, int | np.integer) and not isinstance(self.batch_size, bool):
            batch_size = int(self.batch_size)
        else:
            raise TypeError(f"batch_size must be an int or 'auto', got {self.batch_size!r}")
        if batch_size < 2:
            raise ValueError(f"batch_size must be >= 2, got {batch_size}")
        if self.lr == "auto":
            return batch_size, 0.005 * batch_size / 32
        if isinstance(self.lr, str) or not float(self.lr) > 0:
            raise ValueError(f"lr must be a positive number or 'auto', got {self.lr!r}")
        return batch_size, float(self.lr)

    def _ranking_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Pairwise logistic loss of (M, B) predictions: each member's mean over its ordered pairs, summed.

        A member whose mini-batch has no ordered pair (all targets tied) contributes zero.
        """
        pairs = (target[:, :, None] - target[:, None, :]) > 0
        ds = pred[:, :, None] - pred[:, None, :]
        per_member = (nn.functional.softplus(-ds) * pairs).sum(dim=(1, 2)) / pairs.sum(dim=(1, 2)).clamp_min(1)
        return per_member.sum()

    def _train_members(
        self,
        data: _GraphSet,
        extra: torch.Tensor | None,
        t: torch.Tensor,
        seed: int,
        warm_nets: list[GIN] | None = None,
    ) -> list[GIN]:
        """Train the ``n_members`` networks side by side (:class:`StackedGIN`): one forward pass, one
        backward pass and one fused Adam step per step for all of them.

        Member ``m`` is initialised and shuffled from seed ``seed + m`` exactly as if it were trained
        alone (its epochs' permutations are drawn right after its initialisation) and its loss is
        its own mean over its own mini-batch; the members share no parameter, so summing their
        losses gives each its own gradients, and Adam and the cosine schedule update each as alone
        (up to float round-off). ``warm_nets``: the networks to continue from (``warm_start``) instead of
        freshly initialised ones.
        """
        from archrank.predictors.gin_stack import StackedGIN

        n = len(data)
        nets, orders = [], []
        for m in range(self.n_members):
            with torch_seeded(seed + m):
                if warm_nets is None:
                    nets.append(GIN(self.n_node_features_, self.hidden, self.n_layers, self.n_extra_features_))
                else:
                    nets.append(warm_nets[m])
                orders.append(torch.stack([torch.randperm(n) for _ in range(self.epochs)]))
        order = torch.stack(orders, dim=1)  # (epochs, members, n)
        x, adj_t, mask = data.dense()
        stacked = StackedGIN(nets)
        batch_size = self.batch_size_
        opt = torch.optim.Adam(stacked.parameters(), lr=self.lr_, weight_decay=self.weight_decay, fused=True)
        steps = self.epochs * math.ceil(n / batch_size)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        for epoch in range(self.epochs):
            for start in range(0, n, batch_size):
                idx = order[epoch, :, start : start + batch_size]  # (members, B)
                if idx.shape[1] < 2:  # BatchNorm needs more than one graph's statistics to be meaningful
                    continue
                member_mask = None if mask is None else mask[idx]
                pred = stacked(x[idx], adj_t[idx], member_mask, None if extra is None else extra[idx])
                target = t[idx]
                if self.loss == "mse":
                    loss = (pred - target).square().mean(dim=1).sum()
                else:
                    loss = self._ranking_loss(pred, target)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        stacked.write_back(nets)
        for net in nets:
            net.eval()
        return nets

    @staticmethod
    def _evaluate(data: _GraphSet, fn: Any) -> np.ndarray:
        """``fn(x, edge_index, batch, n_graphs, rows)`` over all graphs in chunks, without gradients."""
        out = []
        with torch.no_grad():
            for start in range(0, len(data), 2048):
                rows = list(range(start, min(start + 2048, len(data))))
                out.append(fn(*data.batch(rows), rows).numpy())
        return np.concatenate(out).astype(np.float64)

    def _scores(self, net: GIN, data: _GraphSet, extra: torch.Tensor | None) -> np.ndarray:
        return self._evaluate(data, lambda x, ei, b, g, rows: net(x, ei, b, g, None if extra is None else extra[rows]))

    def _predict_inputs(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
        data = self._graphs(inputs, fit=False)
        extra = self._extra(inputs, fit=False)
        preds = np.stack(
            [
                a * self._scores(net, data, extra) + b
                for net, (a, b) in zip(self.members_, self.calibration_, strict=True)
            ]
        )
        preds = preds * self.y_std_ + self.y_mean_
        return preds.mean(axis=0), preds.std(axis=0)

    def embed(self, X: Any, member: int = 0) -> np.ndarray:
        """Pooled hidden representation of ``X`` from ensemble member ``member``: (n, hidden) float64.

        Extra feature columns, if ``X`` has any, are ignored: the embedding is the graph part only.
        """
        check_is_fitted(self)
        data = self._graphs(split_inputs(X), fit=False)
        net = self.members_[member]
        return self._evaluate(data, lambda x, ei, b, g, rows: net.embed(x, ei, b, g))
