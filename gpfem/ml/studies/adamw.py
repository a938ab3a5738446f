"""Adam with L2 in the loss vs AdamW on the same model: the effective decay of each weight.

``run_adamw`` (``gpfem run gp-adamw``). Softmax regression on scikit-learn digits, full batch: the
seed changes only the initial weights.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gpfem.io.history import HistoryWriter
from gpfem.ml.plots import plot_lines
from gpfem.ml.seeds import format_stat, over_seeds, seed_list

__all__ = ["OPTIMIZERS", "run_adamw", "train_and_measure"]

OPTIMIZERS = ("adam_l2", "adamw")


def train_and_measure(
    name: str, x: torch.Tensor, y: torch.Tensor, lr: float, wd: float, steps: int, seed: int
) -> dict[str, float]:
    """Train with ``adam_l2`` or ``adamw``; effective decay per data-gradient quartile and more.

    Effective decay of weight ``i`` per step (shrink of ``w_i`` per unit ``w_i`` caused by the
    regulariser): Adam + L2 ``lr * wd / (sqrt(v_hat_i) + eps)``; AdamW ``lr * wd`` for all weights.
    Weights are grouped by quartile of their data-gradient RMS (``q1``: smallest).
    """
    torch.manual_seed(seed)
    model = nn.Linear(64, 10)
    if name == "adam_l2":
        opt: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        if name == "adam_l2":
            loss = loss + 0.5 * wd * model.weight.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    st = opt.state[model.weight]
    beta2 = 0.999
    v_hat = st["exp_avg_sq"] / (1 - beta2 ** int(st["step"]))
    with torch.no_grad():
        data_loss = nn.functional.cross_entropy(model(x), y)
    # data-gradient RMS per weight, from the data loss only, over mini-batches of 64
    gsq = torch.zeros_like(model.weight)
    for i in range(0, len(x), 64):
        ce = nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64])
        (g,) = torch.autograd.grad(ce, model.weight)
        gsq += g.pow(2)
    grms = torch.sqrt(gsq / math.ceil(len(x) / 64)).flatten()
    if name == "adam_l2":
        eff = (lr * wd / (v_hat.sqrt() + 1e-8)).flatten()
    else:
        eff = torch.full_like(grms, lr * wd)
    bins = torch.bucketize(grms, torch.quantile(grms, torch.tensor([0.25, 0.5, 0.75])))
    wn = model.weight.detach().abs().flatten()
    out: dict[str, float] = {}
    for k in range(4):
        out[f"effective_decay_q{k + 1}"] = float(eff[bins == k].mean())
    for k in range(4):
        out[f"mean_abs_weight_q{k + 1}"] = float(wn[bins == k].mean())
    with torch.no_grad():
        acc = float((model(x).argmax(1) == y).float().mean())
    out.update(
        {
            "effective_decay_ratio_q1_over_q4": out["effective_decay_q1"] / out["effective_decay_q4"],
            "effective_decay_min": float(eff.min()),
            "effective_decay_max": float(eff.max()),
            "train_accuracy": acc,
            "data_loss": float(data_loss),
        }
    )
    return out


def run_adamw(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Adam with L2 in the loss vs AdamW, for every seed.

    Writes ``history.csv`` (optimizer, seed, decay per quartile) and ``adamw_decay.png`` (mean
    over seeds).

    Returns:
        ``{optimizer: over_seeds stats}`` of :func:`train_and_measure`'s values.
    """
    torch.set_num_threads(params["threads"])
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    seeds = seed_list(params)
    out: dict[str, Any] = {}
    cols = ["optimizer", "seed", *(f"effective_decay_q{k}" for k in range(1, 5))]
    with HistoryWriter(Path(ctx.out_dir) / "history.csv", cols) as hist:
        for name in OPTIMIZERS:
            per_seed = []
            for seed in seeds:
                m = train_and_measure(name, x, y, params["lr"], params["weight_decay"], params["steps"], seed)
                hist.write({"optimizer": name, "seed": seed, **m})
                per_seed.append(m)
            out[name] = over_seeds(per_seed, seeds)
            q = [f"{out[name]['mean'][f'effective_decay_q{k}']:.2e}" for k in range(1, 5)]
            ctx.log(
                f"{name}: decay by grad-RMS quartile (low->high) {q}; Q1/Q4 "
                f"{format_stat(out[name], 'effective_decay_ratio_q1_over_q4')}"
            )
    plot_lines(
        Path(ctx.out_dir) / "adamw_decay.png",
        [1, 2, 3, 4],
        {k: [v["mean"][f"effective_decay_q{i}"] for i in range(1, 5)] for k, v in out.items()},
        "data-gradient RMS quartile (1 = smallest)",
        "effective decay per step (mean over seeds)",
        logx=False,
    )
    return out
