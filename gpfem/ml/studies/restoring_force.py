"""The quadratic penalty as a restoring force: min x + y on the unit circle via ``x + y + mu g^2``.

``run_restoring_force`` (``gpfem run gp-restoring-force``). Deterministic (Newton solves from a fixed
start): no seeds.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gpfem.io.history import HistoryWriter
from gpfem.ml.plots import plot_lines

__all__ = ["penalised_minimum", "run_restoring_force"]


def penalised_minimum(mu: float) -> dict[str, float]:
    """Newton (with step halving) on ``x + y + mu g^2``, ``g = x^2 + y^2 - 1``, to ``|grad| < 1e-13``.

    Returns:
        ``mu``, the violation ``|g(x*)|``, its first-order theory ``sqrt(2)/(4 mu)``, the condition
        number of the Hessian at ``x*``, and ``x*``.
    """
    z = torch.tensor([-0.7, -0.7], dtype=torch.float64)

    def f(v: torch.Tensor) -> torch.Tensor:
        g = v.pow(2).sum() - 1
        return v.sum() + mu * g * g

    for _ in range(100):
        v = z.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(f(v), v)
        hess = torch.autograd.functional.hessian(f, z)
        step = torch.linalg.solve(hess, grad)
        t = 1.0
        while f(z - t * step) > f(z) and t > 1e-8:
            t /= 2
        z = z - t * step
        if float(grad.norm()) < 1e-13:
            break
    ev = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, z))
    return {
        "mu": mu,
        "violation": float(abs(z.pow(2).sum() - 1)),
        "violation_theory": math.sqrt(2) / (4 * mu),
        "hessian_condition": float(ev.max() / ev.min()),
        "x": float(z[0]),
        "y": float(z[1]),
    }


def run_restoring_force(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Violation (theory ``~ sqrt(2)/(4 mu)``) and Hessian conditioning (``~ mu``) for each ``mu``.

    Writes ``history.csv`` (one row per ``mu``) and ``restoring_force.png``.

    Returns:
        The log-log slopes of the violation and of the condition number against ``mu``.
    """
    torch.set_num_threads(params["threads"])
    rows = []
    with HistoryWriter(
        Path(ctx.out_dir) / "history.csv",
        ["mu", "violation", "violation_theory", "hessian_condition", "x", "y"],
    ) as hist:
        for mu in params["mus"]:
            row = penalised_minimum(float(mu))
            hist.write(row)
            rows.append(row)
            ctx.log(f"mu {mu:g}: |g| {row['violation']:.3e}  cond(H) {row['hessian_condition']:.3e}")
    mus = [r["mu"] for r in rows]
    plot_lines(
        Path(ctx.out_dir) / "restoring_force.png",
        mus,
        {
            "|g| violation": [r["violation"] for r in rows],
            "cond(Hessian)": [r["hessian_condition"] for r in rows],
        },
        "mu",
        "value",
    )
    lv = np.polyfit(np.log(mus), np.log([r["violation"] for r in rows]), 1)[0]
    lc = np.polyfit(np.log(mus), np.log([r["hessian_condition"] for r in rows]), 1)[0]
    return {"violation_loglog_slope": float(lv), "condition_loglog_slope": float(lc)}
