"""Data on a circle: the critic's gradient normal vs tangential to the data, per penalty placement.

``run_manifold`` (``gpfem run gp-manifold``). Data: the unit circle; fakes: a generator collapsed to
one arc outside it. The critic is trained with the penalty at each placement; its input gradient is
probed near the circle away from the fakes and split into normal and tangential components. Every
random number is drawn on the CPU from the seeded torch generator (the same run on any device).
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
from gpfem.ml.plots import plot_grad_hist, plot_samples_critic
from gpfem.ml.seeds import format_stat, over_seeds, seed_list
from gpfem.ml.train import make_mlp, resolve_device

__all__ = ["probe_components", "run_manifold", "transport_ray_ratio"]


def _probe_points() -> tuple[torch.Tensor, torch.Tensor]:
    """Unit normals and tangents at 400 angles with ``|angle| > 60 deg`` (away from the fakes)."""
    ang = torch.linspace(math.pi / 3, 2 * math.pi - math.pi / 3, 400).unsqueeze(1)
    unit = torch.cat([ang.cos(), ang.sin()], 1)
    return unit, torch.cat([-unit[:, 1:2], unit[:, 0:1]], 1)


def probe_components(
    critic: Any, radii: list[float], device: torch.device
) -> tuple[dict[str, float], np.ndarray]:
    """Mean ``|g.n|``, ``|g.t|`` and their ratio (per radius and overall) of the critic's gradient.

    Returns:
        ``(values, ratios)``: the measured means and the per-point ``|g.t|/|g.n|`` (for a histogram).
    """
    unit, tan = _probe_points()
    res: dict[str, float] = {}
    gn_all, gt_all = [], []
    for rad in radii:
        p = (rad * unit).to(device).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(p).sum(), p)
        g = g.cpu()
        gn, gt = (g * unit).sum(1).abs(), (g * tan).sum(1).abs()
        gn_all.append(gn)
        gt_all.append(gt)
        res[f"tangential_over_normal_r{rad:g}"] = float(gt.mean() / gn.mean())
    gn, gt = torch.cat(gn_all), torch.cat(gt_all)
    res.update(
        {
            "normal_mean": float(gn.mean()),
            "tangential_mean": float(gt.mean()),
            "tangential_over_normal": float(gt.mean() / gn.mean()),
        }
    )
    return res, (gt / (gn + 1e-12)).numpy()


def transport_ray_ratio(fake_radius: float) -> float:
    """``|t|/|n|`` on the circle of the straight rays from the fake cluster's centre (reference)."""
    unit, tan = _probe_points()
    ray = unit - torch.tensor([[fake_radius, 0.0]])
    ray = ray / ray.norm(dim=1, keepdim=True)
    return float((ray * tan).sum(1).abs().mean() / (ray * unit).sum(1).abs().mean())


def run_manifold(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Critic gradient normal vs tangential to data on a circle, per placement and seed.

    Writes ``history.csv`` (placement, seed, the measured means), ``critic_<placement>.png`` and
    ``grad_norms.png`` (first seed).

    Returns:
        ``placements``: ``{placement: over_seeds stats}``, and the transport-ray reference
        ``transport_ray_tangential_over_normal``.
    """
    torch.set_num_threads(params["threads"])
    dev = resolve_device(params["device"])
    cpu_gen = torch.default_generator

    def real_batch(n: int) -> torch.Tensor:
        a = 2 * math.pi * torch.rand(n, 1)
        return torch.cat([a.cos(), a.sin()], 1).to(dev)

    def fake_batch(n: int) -> torch.Tensor:
        a = params["fake_spread"] * torch.randn(n, 1)
        r = params["fake_radius"] + 0.05 * torch.randn(n, 1)
        return (r * torch.cat([a.cos(), a.sin()], 1)).to(dev)

    seeds = seed_list(params)
    out: dict[str, Any] = {}
    ratios: dict[str, np.ndarray] = {}
    cols = ["placement", "seed", "normal_mean", "tangential_mean", "tangential_over_normal"]
    with HistoryWriter(Path(ctx.out_dir) / "history.csv", cols) as hist:
        for where in [w.strip() for w in str(params["placements"]).split(",")]:
            per_seed = []
            for seed in seeds:
                torch.manual_seed(seed)
                net = make_mlp(2, 1, params["dim"], params["depth"], "leakyrelu").to(dev)

                def critic(x: torch.Tensor, net: nn.Module = net) -> torch.Tensor:
                    return net(x).squeeze(-1)

                opt = torch.optim.Adam(net.parameters(), lr=params["lr"], betas=(0.5, 0.9))
                for _ in range(params["steps"]):
                    r, f = real_batch(256), fake_batch(256)
                    loss = critic(f).mean() - critic(r).mean()
                    loss = loss + gradient_penalty(
                        critic, r, f, where=where, weight=params["lam"], generator=cpu_gen
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                res, ratio = probe_components(critic, params["probe_radii"], dev)
                hist.write({"placement": where, "seed": seed, **res})
                per_seed.append(res)
                ctx.log(
                    f"{where}, seed {seed}: |g.n| {res['normal_mean']:.3f} |g.t| {res['tangential_mean']:.3f}"
                )
                if seed == seeds[0]:
                    ratios[where] = ratio
                    plot_samples_critic(
                        Path(ctx.out_dir) / f"critic_{where}.png",
                        fake_batch(300).cpu().numpy(),
                        real_batch(400).cpu().numpy(),
                        net.cpu(),
                        f"{where} (seed {seed}): |g_t|/|g_n| {res['tangential_over_normal']:.2f}",
                    )
            out[where] = over_seeds(per_seed, seeds)
            ctx.log(f"{where}: |g.t|/|g.n| {format_stat(out[where], 'tangential_over_normal')}")
    plot_grad_hist(Path(ctx.out_dir) / "grad_norms.png", ratios, "|g_t| / |g_n| on the circle (first seed)")
    ot = transport_ray_ratio(params["fake_radius"])
    ctx.log(f"transport-ray reference |t|/|n| on the circle: {ot:.3f}")
    return {"placements": out, "transport_ray_tangential_over_normal": ot}
