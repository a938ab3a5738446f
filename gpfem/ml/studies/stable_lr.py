"""Largest stable step vs penalty weight: the Dirac-GAN against its eigenvalues, and an MLP critic.

``run_stable_lr`` (``gpfem run gp-stable-lr``). The Dirac-GAN part is deterministic (one run per
gamma); the MLP-critic part repeats the bisection for every seed and reports mean, std, min and max
of ``h_max`` per lambda and of the log-log slope.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gpfem.io.history import HistoryWriter
from gpfem.ml.penalties import gradient_penalty
from gpfem.ml.plots import plot_lines
from gpfem.ml.seeds import format_stat, over_seeds, seed_list
from gpfem.ml.toy import sample
from gpfem.ml.train import make_mlp

__all__ = ["dirac_gan_hmax", "run_stable_lr"]


def dirac_gan_hmax(gamma: float) -> float:
    """Largest stable simultaneous-GD step of the Dirac-GAN with penalty ``(gamma/2) psi^2``.

    Vector field ``(theta, psi)' = (psi, -theta - gamma psi)`` has eigenvalues
    ``(-gamma +- sqrt(gamma^2 - 4))/2``; GD is stable iff ``|1 + h lambda| < 1`` for both:
    ``h_max = gamma`` for ``gamma <= 2`` and ``2 / |lambda_max|`` (``~ 2/gamma``) above.
    """
    if gamma <= 2:
        return gamma
    lam_max = (gamma + math.sqrt(gamma * gamma - 4)) / 2
    return 2 / lam_max


def _dirac_stable(gamma: float, h: float, steps: int) -> bool:
    """Train the Dirac-GAN with torch SGD and the library penalty; True if it converges."""
    crit = nn.Linear(1, 1, bias=False)
    theta = nn.Parameter(torch.tensor([[1.0]], dtype=torch.float64))
    crit = crit.double()
    with torch.no_grad():
        crit.weight.fill_(1.0)
    opt_d = torch.optim.SGD(crit.parameters(), lr=h)
    opt_g = torch.optim.SGD([theta], lr=h)
    real = torch.zeros(1, 1, dtype=torch.float64)

    def critic(x: torch.Tensor) -> torch.Tensor:
        return crit(x).squeeze(-1)

    r0 = math.hypot(1.0, 1.0)
    tail: list[float] = []
    for i in range(steps):
        fake = theta.detach()
        loss_d = critic(fake).mean() - critic(real).mean()
        loss_d = loss_d + gradient_penalty(critic, real, where="real", target=0.0, weight=gamma / 2)
        loss_g = -critic(theta).mean()
        gd = torch.autograd.grad(loss_d, list(crit.parameters()))
        gg = torch.autograd.grad(loss_g, [theta])
        for p, g in zip(crit.parameters(), gd, strict=True):
            p.grad = g
        theta.grad = gg[0]
        opt_d.step()
        opt_g.step()  # simultaneous: both gradients were taken at the old point
        r = math.hypot(float(theta.detach()), float(crit.weight.detach()))
        if not math.isfinite(r) or r > 1e6:
            return False
        if i >= steps - 50:
            tail.append(r)
    # stable iff the distance to the equilibrium shrank (spectral radius of the step map < 1)
    return max(tail) < r0 * 0.999


def _mlp_critic_stable(lam: float, h: float, steps: int, seed: int) -> bool:
    """SGD on the WGAN-GP critic loss of an MLP (8 Gaussians vs a fixed Gaussian blob).

    Unstable if the loss or the mean input-gradient norm leaves a bounded range (> 1e3).
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = make_mlp(2, 1, 64, 2, "leakyrelu")

    def critic(x: torch.Tensor) -> torch.Tensor:
        return net(x).squeeze(-1)

    opt = torch.optim.SGD(net.parameters(), lr=h)
    for _ in range(steps):
        real = torch.from_numpy(sample("8gaussians", 128, rng))
        fake = 0.5 * torch.randn(128, 2)
        gp, norms = gradient_penalty(critic, real, fake, weight=lam, return_norms=True)
        loss = critic(fake).mean() - critic(real).mean() + gp
        if not torch.isfinite(loss).item() or float(norms.mean()) > 1e3 or abs(float(loss.detach())) > 1e6:
            return False
        opt.zero_grad()
        loss.backward()
        opt.step()
    return True


def _bisect(stable: Any, lo: float, hi: float, n: int) -> float:
    """Largest ``h`` in ``[lo, hi]`` with ``stable(h)``, by ``n`` bisections on ``log h``."""
    for _ in range(n):
        mid = math.sqrt(lo * hi)
        if stable(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _slope(x: list[float], y: list[float]) -> float | None:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0]) if len(x) > 1 else None


def run_stable_lr(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Largest stable learning rate vs penalty weight.

    Writes ``history.csv`` (Dirac-GAN: one row per gamma) and ``stable_lr.png``.

    Returns:
        ``loglog_slope_gamma_gt_2`` and ``max_rel_error_vs_eigenvalue`` (Dirac-GAN), and ``mlp``:
        :func:`~gpfem.ml.seeds.over_seeds` of ``h_max_lam<lambda>`` and
        ``loglog_slope_lam_ge_10`` (MLP critic).
    """
    torch.set_num_threads(params["threads"])
    rows = []
    with HistoryWriter(
        Path(ctx.out_dir) / "history.csv",
        ["gamma", "h_max_measured", "h_max_theory", "two_over_gamma"],
    ) as hist:
        for gamma in params["gammas"]:
            h = _bisect(
                lambda s, g=gamma: _dirac_stable(g, s, params["steps"]), 1e-3, 4.0, params["bisections"]
            )
            row = {
                "gamma": gamma,
                "h_max_measured": h,
                "h_max_theory": dirac_gan_hmax(gamma),
                "two_over_gamma": 2 / gamma,
            }
            ctx.log(f"gamma {gamma:g}: h_max measured {h:.4g}, eigenvalue {row['h_max_theory']:.4g}")
            hist.write(row)
            rows.append(row)
    plot_lines(
        Path(ctx.out_dir) / "stable_lr.png",
        [r["gamma"] for r in rows],
        {
            "measured": [r["h_max_measured"] for r in rows],
            "eigenvalue estimate": [r["h_max_theory"] for r in rows],
            "2/gamma": [r["two_over_gamma"] for r in rows],
        },
        "gamma (zero-centred penalty weight x2)",
        "largest stable step h",
    )
    big = [r for r in rows if r["gamma"] > 2]
    seeds = seed_list(params)
    per_seed = []
    for seed in seeds:
        m: dict[str, Any] = {}
        for lam in params["mlp_lams"]:
            h = _bisect(
                lambda s, lam=lam, seed=seed: _mlp_critic_stable(lam, s, params["steps_mlp"], seed),
                1e-4,
                10.0,
                params["bisections_mlp"],
            )
            m[f"h_max_lam{lam:g}"] = h
            ctx.log(f"MLP critic, lambda {lam:g}, seed {seed}: largest stable SGD step {h:.4g}")
        lam_big = [lam for lam in params["mlp_lams"] if lam >= 10]
        m["loglog_slope_lam_ge_10"] = _slope(lam_big, [m[f"h_max_lam{lam:g}"] for lam in lam_big])
        per_seed.append(m)
    mlp = over_seeds(per_seed, seeds)
    ctx.log(f"MLP critic, log-log slope for lambda >= 10: {format_stat(mlp, 'loglog_slope_lam_ge_10')}")
    return {
        "loglog_slope_gamma_gt_2": _slope([r["gamma"] for r in big], [r["h_max_measured"] for r in big]),
        "max_rel_error_vs_eigenvalue": max(abs(r["h_max_measured"] / r["h_max_theory"] - 1) for r in rows),
        "mlp": mlp,
    }
