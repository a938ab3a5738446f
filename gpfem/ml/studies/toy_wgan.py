"""WGAN training on the toy data: one run beside the published baselines, and four sweeps.

``run_wgan_gp`` (``gpfem run wgan-gp``), ``run_lambda_sweep`` (``gp-lambda-sweep``),
``run_placement`` (``gp-placement``), ``run_activations`` (``gp-activations``) and
``run_clipping`` (``gp-clipping``). Every setting is trained for ``n_seeds`` seeds; results hold
the mean, std, min and max over seeds of each measured value (:func:`gpfem.ml.seeds.over_seeds`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gpfem.io.history import HistoryWriter
from gpfem.ml.plots import plot_lines, plot_run
from gpfem.ml.seeds import format_stat
from gpfem.ml.studies.training_runs import history_columns, sweep, train_seeds
from gpfem.ml.toy import BASELINES, sample
from gpfem.ml.train import make_mlp, resolve_device

__all__ = [
    "init_gradient_probe",
    "run_activations",
    "run_clipping",
    "run_lambda_sweep",
    "run_placement",
    "run_wgan_gp",
]


def run_wgan_gp(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """WGAN-GP (or clipped WGAN) on a toy dataset for every seed, printed beside the baselines.

    Writes ``history.csv`` (a ``seed`` column in front), ``samples.png``, ``critic.png`` and
    ``grad_norms.png`` (first seed).

    Returns:
        :func:`~gpfem.ml.seeds.over_seeds` of modes covered, high-quality fraction, final critic
        gradient norm, divergence and training time.
    """
    resolve_device(params["device"])
    out = Path(ctx.out_dir)
    with HistoryWriter(out / "history.csv", history_columns(params)) as hist:
        stats, first = train_seeds(params, ctx, hist)
    plot_run(out, first, sample(params["dataset"], 1000, np.random.default_rng(1)))
    ctx.log(f"{'method':32s} modes  high-quality %")
    for name, m, hq in BASELINES.get(params["dataset"], []):
        ctx.log(f"{name:32s} {m:5.1f}  {hq:6.1f}")
    n = len(stats["seeds"])
    ctx.log(
        f"{f'this run (WGAN-GP toy, {n} seeds)':32s} {format_stat(stats, 'modes_covered')}  "
        f"{format_stat(stats, 'high_quality_fraction', 100.0)}"
    )
    return stats


def run_lambda_sweep(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """WGAN-GP for each ``lam`` in ``lams``: gradient norms, mode coverage, critic flatness."""
    resolve_device(params["device"])
    runs = [(f"lam{lam:g}", {"lam": float(lam)}) for lam in params["lams"]]
    res = sweep(params, ctx, runs)
    plot_lines(
        Path(ctx.out_dir) / "lambda_sweep.png",
        [float(v) for v in params["lams"]],
        {
            "|grad D| mean": [max(r["mean"]["final_grad_norm_mean"], 1e-6) for r in res.values()],
            "high-quality fraction": [
                max(r["mean"].get("high_quality_fraction", 0.0), 1e-4) for r in res.values()
            ],
        },
        "lambda",
        "value (mean over seeds)",
    )
    return {"runs": res}


def run_placement(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Where the penalty is taken, from a generator collapsed to the origin."""
    resolve_device(params["device"])
    runs = []
    for tgt in params["targets"]:
        for where in ("interpolates", "real", "fake", "both"):
            runs.append((f"{where}_c{tgt:g}", {"where": where, "target": float(tgt)}))
    return {"runs": sweep({**params, "collapse_init": True}, ctx, runs)}


def init_gradient_probe(activation: str, dim: int, depth: int, seed: int) -> dict[str, float]:
    """Where the penalty is blind at initialisation, for one activation and seed.

    On 4096 random inputs in ``[-2, 2]^2``: the fraction where the initial critic's input gradient
    vanishes (``|grad| < 1e-3`` of its median), and the mean fraction of hidden pre-activations in
    a flat region (ReLU: ``<= 0``; tanh: derivative ``< 0.01``; LeakyReLU: none).
    """
    torch.manual_seed(seed)
    x = 4 * torch.rand(4096, 2) - 2
    net = make_mlp(2, 1, dim, depth, activation)
    xa = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(xa).sum(), xa)
    n = g.norm(dim=1)
    flat = []
    h = xa.detach()
    pre = h
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                h = layer(h)
                pre = h
                continue
            if activation == "relu":
                flat.append(float((pre <= 0).float().mean()))
            elif activation == "tanh":
                flat.append(float((1 - torch.tanh(pre) ** 2 < 0.01).float().mean()))
            else:
                flat.append(0.0)
            h = layer(h)
    return {
        "init_dead_gradient_fraction": float((n < 1e-3 * n.median()).float().mean()),
        "init_flat_unit_fraction": float(np.mean(flat)),
    }


def run_activations(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Critic activation ReLU vs LeakyReLU vs tanh, with the initial critic's blind spots."""
    resolve_device(params["device"])
    runs = [(a, {"activation": a}) for a in ("relu", "leakyrelu", "tanh")]

    def probe(label: str, seed: int) -> dict[str, float]:
        return init_gradient_probe(label, params["dim"], params["depth"], seed)

    return {"runs": sweep(params, ctx, runs, extra=probe)}


def run_clipping(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Weight clipping (WGAN) at several ``c`` against the gradient penalty."""
    resolve_device(params["device"])
    runs: list[tuple[str, dict[str, Any]]] = [("gp", {"regularizer": "gp"})] if params["with_gp"] else []
    runs += [(f"clip{c:g}", {"regularizer": "clip", "clip": float(c)}) for c in params["clips"]]
    return {"runs": sweep(params, ctx, runs)}
