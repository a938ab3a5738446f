"""Run functions of the ML experiments: ``run(params, ctx) -> summary`` for each registered command.

Every run writes ``history.csv`` (training runs: :data:`gpfem.ml.train.HISTORY_COLUMNS`, with a
``run`` column added in sweeps; other studies: one row per setting), ``summary.json`` (resolved
parameters, versions, wall time, measured values) and PNGs into ``ctx.out_dir``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gpfem.io.history import HistoryWriter
from gpfem.io.summary import versions, write_json
from gpfem.ml.penalties import gradient_penalty, input_gradient_penalty
from gpfem.ml.plots import plot_grad_hist, plot_lines, plot_run, plot_samples_critic
from gpfem.ml.toy import BASELINES, sample
from gpfem.ml.train import HISTORY_COLUMNS, make_mlp, resolve_device, train_wgan

__all__ = [
    "run_activations",
    "run_adamw",
    "run_clipping",
    "run_lambda_sweep",
    "run_manifold",
    "run_placement",
    "run_restoring_force",
    "run_robustness",
    "run_stable_lr",
    "run_wgan_gp",
]

_DROP = ("generator", "critic", "samples", "grad_norms", "rows", "config", "counts")


def _finish(ctx: Any, params: dict[str, Any], t0: float, results: dict[str, Any]) -> dict[str, Any]:
    summary = {
        **results,
        "parameters": params,
        "preset": getattr(ctx, "preset", ""),
        "versions": versions(),
        "wall_time_s": time.perf_counter() - t0,
    }
    write_json(Path(ctx.out_dir) / "summary.json", summary)
    return summary


def _train_cfg(params: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "dataset iters critic_iters batch dim depth activation lam where target one_sided "
        "regularizer clip lr beta1 beta2 lr_decay collapse_init log_every eval_every n_eval seed "
        "device threads"
    ).split()
    return {k: params[k] for k in keys if k in params}


def _scalars(res: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in res.items() if k not in _DROP}


def _sweep(
    params: dict[str, Any], ctx: Any, runs: list[tuple[str, dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Train one WGAN per ``(label, overrides)``, into one history.csv with a ``run`` column."""
    out = Path(ctx.out_dir)
    real = sample(params["dataset"], 1000, np.random.default_rng(1))
    results: dict[str, dict[str, Any]] = {}
    norms: dict[str, np.ndarray] = {}
    cols = ["run", *HISTORY_COLUMNS]
    if int(params.get("eval_every", 0)) > 0:
        cols += ["modes_covered", "modes_covered_min20", "high_quality_fraction"]
    with HistoryWriter(out / "history.csv", cols) as hist:

        class _Tagged:
            def __init__(self, tag: str):
                self.tag = tag

            def write(self, row: dict[str, Any]) -> None:
                hist.write({"run": self.tag, **row})

        for label, over in runs:
            ctx.log(f"{label}")
            res = train_wgan({**_train_cfg(params), **over}, ctx.log, _Tagged(label))
            ctx.log(
                f"  -> modes {res['modes_covered']} HQ {res['high_quality_fraction']} "
                f"|grad D| {res['final_grad_norm_mean']:.3f}"
            )
            plot_samples_critic(
                out / f"critic_{label}.png",
                res["samples"][:500],
                real,
                res["critic"],
                f"{label}: modes {res['modes_covered']} HQ {res['high_quality_fraction'] or 0:.2f}",
            )
            evals = [r for r in res["rows"] if "modes_covered" in r]
            if evals:
                k = max(1, int(0.875 * (res["n_modes"] or 8)))  # 7 of 8
                hit = [r["iteration"] for r in evals if r["modes_covered_min20"] >= k]
                res["first_iteration_7of8_modes_min20"] = hit[0] if hit else None
                hit = [r["iteration"] for r in evals if (r["high_quality_fraction"] or 0) >= 0.5]
                res["first_iteration_hq_ge_half"] = hit[0] if hit else None
            norms[label] = res["grad_norms"]
            results[label] = _scalars(res)
    plot_grad_hist(out / "grad_norms.png", norms, "critic gradient norms at interpolates")
    return results


# --------------------------------------------------------------------------------------------
def run_wgan_gp(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """One WGAN-GP (or clipped WGAN) run on a toy dataset, with the published baselines."""
    t0 = time.perf_counter()
    resolve_device(params["device"])
    out = Path(ctx.out_dir)
    with HistoryWriter(out / "history.csv", HISTORY_COLUMNS) as hist:
        res = train_wgan(_train_cfg(params), ctx.log, hist)
    real = sample(params["dataset"], 1000, np.random.default_rng(1))
    plot_run(out, res, real)
    base = BASELINES.get(params["dataset"], [])
    ctx.log(f"{'method':32s} modes  high-quality %")
    for name, m, hq in base:
        ctx.log(f"{name:32s} {m:5.1f}  {hq:6.1f}")
    hqf = res["high_quality_fraction"]
    ctx.log(
        f"{'this run (WGAN-GP toy)':32s} {res['modes_covered']!s:>5}  "
        f"{'-' if hqf is None else f'{100 * hqf:6.1f}'}"
    )
    return _finish(ctx, params, t0, {**_scalars(res), "baselines": base})


def run_lambda_sweep(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """WGAN-GP for each ``lam`` in ``lams``: gradient norms, mode coverage, critic flatness."""
    t0 = time.perf_counter()
    resolve_device(params["device"])
    runs = [(f"lam{lam:g}", {"lam": float(lam)}) for lam in params["lams"]]
    res = _sweep(params, ctx, runs)
    lams = [float(v) for v in params["lams"]]
    plot_lines(
        Path(ctx.out_dir) / "lambda_sweep.png",
        lams,
        {
            "|grad D| mean": [max(r["final_grad_norm_mean"], 1e-6) for r in res.values()],
            "high-quality fraction": [max(r["high_quality_fraction"] or 0, 1e-4) for r in res.values()],
        },
        "lambda",
        "value",
    )
    return _finish(ctx, params, t0, {"runs": res})


def run_placement(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Where the penalty is taken, from a generator collapsed to the origin."""
    t0 = time.perf_counter()
    resolve_device(params["device"])
    runs = []
    for tgt in params["targets"]:
        for where in ("interpolates", "real", "fake", "both"):
            runs.append((f"{where}_c{tgt:g}", {"where": where, "target": float(tgt)}))
    res = _sweep({**params, "collapse_init": True}, ctx, runs)
    return _finish(ctx, params, t0, {"runs": res})


def run_activations(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Critic activation ReLU vs LeakyReLU vs tanh, with the fraction of near-zero input gradients."""
    t0 = time.perf_counter()
    resolve_device(params["device"])
    out = Path(ctx.out_dir)
    runs = [(a, {"activation": a}) for a in ("relu", "leakyrelu", "tanh")]
    res = _sweep(params, ctx, runs)
    # Dead-gradient probe: fraction of random inputs where the *initial* critic's input gradient
    # vanishes (|grad| < 1e-3 of its median) -- where the penalty is blind.
    torch.manual_seed(params["seed"])
    x = 4 * torch.rand(4096, 2) - 2
    for a in ("relu", "leakyrelu", "tanh"):
        net = make_mlp(2, 1, params["dim"], params["depth"], a)
        xa = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(net(xa).sum(), xa)
        n = g.norm(dim=1)
        res[a]["init_dead_gradient_fraction"] = float((n < 1e-3 * n.median()).float().mean())
        # unit-level: fraction of hidden pre-activations in a zero/flat-derivative region
        h = xa.detach()
        flat = []
        for layer in net:
            if isinstance(layer, nn.Linear):
                h = layer(h)
                pre = h
            else:
                if a == "relu":
                    flat.append(float((pre <= 0).float().mean()))
                elif a == "tanh":
                    flat.append(float((1 - torch.tanh(pre) ** 2 < 0.01).float().mean()))
                else:
                    flat.append(0.0)
                h = layer(h)
        res[a]["init_flat_unit_fraction"] = float(np.mean(flat))
    del out
    return _finish(ctx, params, t0, {"runs": res})


def run_clipping(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Weight clipping (WGAN) at several ``c`` against the gradient penalty."""
    t0 = time.perf_counter()
    resolve_device(params["device"])
    runs = [("gp", {"regularizer": "gp"})] if params["with_gp"] else []
    runs += [(f"clip{c:g}", {"regularizer": "clip", "clip": float(c)}) for c in params["clips"]]
    res = _sweep(params, ctx, runs)
    return _finish(ctx, params, t0, {"runs": res})


# --------------------------------------------------------------------------------------------
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


def run_stable_lr(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Largest stable learning rate vs penalty weight, measured on the Dirac-GAN vs ``2/gamma``."""
    t0 = time.perf_counter()
    torch.set_num_threads(params["threads"])
    rows = []
    with HistoryWriter(
        Path(ctx.out_dir) / "history.csv",
        ["gamma", "h_max_measured", "h_max_theory", "two_over_gamma"],
    ) as hist:
        for gamma in params["gammas"]:
            lo, hi = 1e-3, 4.0
            for _ in range(params["bisections"]):
                mid = math.sqrt(lo * hi)
                if _dirac_stable(gamma, mid, params["steps"]):
                    lo = mid
                else:
                    hi = mid
            row = {
                "gamma": gamma,
                "h_max_measured": lo,
                "h_max_theory": dirac_gan_hmax(gamma),
                "two_over_gamma": 2 / gamma,
            }
            ctx.log(f"gamma {gamma:g}: h_max measured {lo:.4g}, eigenvalue {row['h_max_theory']:.4g}")
            hist.write(row)
            rows.append(row)
    g = [r["gamma"] for r in rows]
    plot_lines(
        Path(ctx.out_dir) / "stable_lr.png",
        g,
        {
            "measured": [r["h_max_measured"] for r in rows],
            "eigenvalue estimate": [r["h_max_theory"] for r in rows],
            "2/gamma": [r["two_over_gamma"] for r in rows],
        },
        "gamma (zero-centred penalty weight x2)",
        "largest stable step h",
    )
    mlp_rows = []
    for lam in params["mlp_lams"]:
        lo, hi = 1e-4, 10.0
        for _ in range(params["bisections_mlp"]):
            mid = math.sqrt(lo * hi)
            if _mlp_critic_stable(lam, mid, params["steps_mlp"], params["seed"]):
                lo = mid
            else:
                hi = mid
        mlp_rows.append({"lam": lam, "h_max_measured": lo, "h_max_times_lam": lo * lam})
        ctx.log(f"MLP critic, lambda {lam:g}: largest stable SGD step {lo:.4g}")
    lam_big = [r for r in mlp_rows if r["lam"] >= 10]
    mlp_slope = None
    if len(lam_big) > 1:
        xs = np.log([r["lam"] for r in lam_big])
        mlp_slope = float(np.polyfit(xs, np.log([r["h_max_measured"] for r in lam_big]), 1)[0])
    big = [r for r in rows if r["gamma"] > 2]
    slope = (
        float(np.polyfit(np.log([r["gamma"] for r in big]), np.log([r["h_max_measured"] for r in big]), 1)[0])
        if len(big) > 1
        else None
    )
    rel = max(abs(r["h_max_measured"] / r["h_max_theory"] - 1) for r in rows)
    return _finish(
        ctx,
        params,
        t0,
        {
            "rows": rows,
            "loglog_slope_gamma_gt_2": slope,
            "max_rel_error_vs_eigenvalue": rel,
            "mlp_rows": mlp_rows,
            "mlp_loglog_slope_lam_ge_10": mlp_slope,
        },
    )


# --------------------------------------------------------------------------------------------
def run_adamw(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Adam with L2 in the loss vs AdamW on the same model: per-weight effective decay.

    Effective decay of weight ``i`` per step (shrink of ``w_i`` per unit ``w_i`` caused by the
    regulariser): Adam+L2 ``lr * wd / (sqrt(v_hat_i) + eps)``; AdamW ``lr * wd`` for all weights.
    Weights are grouped by quartile of their data-gradient RMS.
    """
    t0 = time.perf_counter()
    torch.set_num_threads(params["threads"])
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    lr, wd, steps = params["lr"], params["weight_decay"], params["steps"]
    out: dict[str, Any] = {}
    rows = []
    for name in ("adam_l2", "adamw"):
        torch.manual_seed(params["seed"])
        model = nn.Linear(64, 10)
        if name == "adam_l2":
            opt = torch.optim.Adam(model.parameters(), lr=lr)
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
            model.weight.grad = None
            data_loss = nn.functional.cross_entropy(model(x), y)
        # data-gradient RMS per weight, from the data loss only (same for both, up to the model)
        xs = x.clone()
        gsq = torch.zeros_like(model.weight)
        for i in range(0, len(xs), 64):
            ce = nn.functional.cross_entropy(model(xs[i : i + 64]), y[i : i + 64])
            (g,) = torch.autograd.grad(ce, model.weight)
            gsq += g.pow(2)
        grms = torch.sqrt(gsq / math.ceil(len(xs) / 64)).flatten()
        if name == "adam_l2":
            eff = (lr * wd / (v_hat.sqrt() + 1e-8)).flatten()
        else:
            eff = torch.full_like(grms, lr * wd)
        q = torch.quantile(grms, torch.tensor([0.25, 0.5, 0.75]))
        bins = torch.bucketize(grms, q)
        per_q = [float(eff[bins == k].mean()) for k in range(4)]
        acc = float((model(x).argmax(1) == y).float().mean())
        wn = model.weight.detach().abs().flatten()
        wq = [float(wn[bins == k].mean()) for k in range(4)]
        out[name] = {
            "effective_decay_by_grad_quartile": per_q,
            "effective_decay_ratio_q1_over_q4": per_q[0] / per_q[3],
            "effective_decay_min": float(eff.min()),
            "effective_decay_max": float(eff.max()),
            "mean_abs_weight_by_grad_quartile": wq,
            "train_accuracy": acc,
            "data_loss": float(data_loss),
        }
        ctx.log(f"{name}: decay by grad-RMS quartile (low->high) {[f'{v:.2e}' for v in per_q]}")
        rows.append({"optimizer": name, **{f"decay_q{k + 1}": per_q[k] for k in range(4)}})
    with HistoryWriter(
        Path(ctx.out_dir) / "history.csv",
        ["optimizer", "decay_q1", "decay_q2", "decay_q3", "decay_q4"],
    ) as h:
        for r in rows:
            h.write(r)
    plot_lines(
        Path(ctx.out_dir) / "adamw_decay.png",
        [1, 2, 3, 4],
        {k: v["effective_decay_by_grad_quartile"] for k, v in out.items()},
        "data-gradient RMS quartile (1 = smallest)",
        "effective decay per step",
        logx=False,
    )
    return _finish(ctx, params, t0, out)


# --------------------------------------------------------------------------------------------
def run_manifold(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Critic gradient normal vs tangential to data on a circle, per penalty placement.

    Data: the unit circle; fakes: a generator collapsed to one arc outside it. The critic is
    trained with the penalty at interpolates or on the data; its input gradient is probed on the
    circle away from the fakes and split into normal and tangential components.
    """
    t0 = time.perf_counter()
    torch.set_num_threads(params["threads"])
    dev = resolve_device(params["device"])
    rows = []
    out: dict[str, Any] = {}
    norms_plot: dict[str, np.ndarray] = {}

    def real_batch(n: int) -> torch.Tensor:
        a = 2 * math.pi * torch.rand(n, 1)
        return torch.cat([a.cos(), a.sin()], 1).to(dev)

    def fake_batch(n: int) -> torch.Tensor:
        a = params["fake_spread"] * torch.randn(n, 1)
        r = params["fake_radius"] + 0.05 * torch.randn(n, 1)
        return (r * torch.cat([a.cos(), a.sin()], 1)).to(dev)

    for where in [w.strip() for w in str(params["placements"]).split(",")]:
        torch.manual_seed(params["seed"])
        net = make_mlp(2, 1, params["dim"], params["depth"], "leakyrelu").to(dev)

        def critic(x: torch.Tensor, net: nn.Module = net) -> torch.Tensor:
            return net(x).squeeze(-1)

        opt = torch.optim.Adam(net.parameters(), lr=params["lr"], betas=(0.5, 0.9))
        for _ in range(params["steps"]):
            r, f = real_batch(256), fake_batch(256)
            loss = critic(f).mean() - critic(r).mean()
            loss = loss + gradient_penalty(critic, r, f, where=where, weight=params["lam"])
            opt.zero_grad()
            loss.backward()
            opt.step()
        # probe: points near the circle (radii probe_radii) at angles far from the fakes
        # (|angle| > 60 deg); components along the circle's normal n and tangent t there.
        ang = torch.linspace(math.pi / 3, 2 * math.pi - math.pi / 3, 400).unsqueeze(1)
        unit = torch.cat([ang.cos(), ang.sin()], 1)
        tan = torch.cat([-unit[:, 1:2], unit[:, 0:1]], 1)
        res = {}
        gn_all, gt_all = [], []
        for rad in params["probe_radii"]:
            p = (rad * unit).to(dev).requires_grad_(True)
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
        out[where] = res
        norms_plot[where] = (gt / (gn + 1e-12)).cpu().numpy()
        rows.append({"placement": where, **res})
        ctx.log(f"{where}: |g.n| {res['normal_mean']:.3f} |g.t| {res['tangential_mean']:.3f}")
        real_np = real_batch(400).cpu().numpy()
        plot_samples_critic(
            Path(ctx.out_dir) / f"critic_{where}.png",
            fake_batch(300).cpu().numpy(),
            real_np,
            net.cpu(),
            f"{where}: |g_t|/|g_n| {res['tangential_over_normal']:.2f}",
        )
        net.to(dev)
    with HistoryWriter(
        Path(ctx.out_dir) / "history.csv",
        ["placement", "normal_mean", "tangential_mean", "tangential_over_normal"],
    ) as h:
        for r in rows:
            h.write(r)
    plot_grad_hist(Path(ctx.out_dir) / "grad_norms.png", norms_plot, "|g_t| / |g_n| on the circle")
    ang = torch.linspace(math.pi / 3, 2 * math.pi - math.pi / 3, 400).unsqueeze(1)
    unit = torch.cat([ang.cos(), ang.sin()], 1)
    tan = torch.cat([-unit[:, 1:2], unit[:, 0:1]], 1)
    ray = unit - torch.tensor([[params["fake_radius"], 0.0]])
    ray = ray / ray.norm(dim=1, keepdim=True)
    ot = float((ray * tan).sum(1).abs().mean() / (ray * unit).sum(1).abs().mean())
    ctx.log(f"transport-ray reference |t|/|n| on the circle: {ot:.3f}")
    return _finish(ctx, params, t0, {"placements": out, "transport_ray_tangential_over_normal": ot})


# --------------------------------------------------------------------------------------------
def _fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    xa = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(nn.functional.cross_entropy(model(xa), y), xa)
    return (x + eps * g.sign()).detach()


def _pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int) -> torch.Tensor:
    alpha = 2.5 * eps / steps
    xa = x.clone()
    for _ in range(steps):
        xa.requires_grad_(True)
        (g,) = torch.autograd.grad(nn.functional.cross_entropy(model(xa), y), xa)
        xa = xa.detach() + alpha * g.sign()
        xa = torch.min(torch.max(xa, x - eps), x + eps)
    return xa.detach()


def run_robustness(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Input-gradient penalty (L1 norm, dual of L_inf) on small classifiers: FGSM/PGD accuracy."""
    t0 = time.perf_counter()
    torch.set_num_threads(params["threads"])
    from sklearn.datasets import load_digits, make_moons
    from sklearn.model_selection import train_test_split

    sets = {}
    xm, ym = make_moons(n_samples=2000, noise=0.1, random_state=params["seed"])
    sets["moons"] = (xm, ym, params["eps_moons"], 2)
    dg = load_digits()
    sets["digits"] = (dg.data / 16.0, dg.target, params["eps_digits"], 10)
    out: dict[str, Any] = {}
    rows = []
    for name, (xx, yy, eps, ncls) in sets.items():
        xtr, xte, ytr, yte = train_test_split(xx, yy, test_size=0.3, random_state=params["seed"])
        xtr_t = torch.tensor(xtr, dtype=torch.float32)
        ytr_t = torch.tensor(ytr)
        xte_t = torch.tensor(xte, dtype=torch.float32)
        yte_t = torch.tensor(yte)
        out[name] = {}
        for lam in params["lams"]:
            torch.manual_seed(params["seed"])
            model = make_mlp(xtr.shape[1], ncls, params["hidden"], 2, "relu")
            opt = torch.optim.Adam(model.parameters(), lr=params["lr"])
            for _ in range(params["epochs"]):
                perm = torch.randperm(len(xtr_t))
                for i in range(0, len(perm), 128):
                    idx = perm[i : i + 128]
                    xb = xtr_t[idx].clone().requires_grad_(lam > 0)
                    losses = nn.functional.cross_entropy(model(xb), ytr_t[idx], reduction="none")
                    loss = losses.mean()
                    if lam > 0:
                        loss = loss + input_gradient_penalty(losses, xb, norm=1, weight=lam)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            model.eval()

            def acc(x: torch.Tensor, model: nn.Module = model, y: torch.Tensor = yte_t) -> float:
                with torch.no_grad():
                    return float((model(x).argmax(1) == y).float().mean())

            x_f = _fgsm(model, xte_t, yte_t, eps)
            x_p = _pgd(model, xte_t, yte_t, eps, params["pgd_steps"])
            xr = xte_t.clone().requires_grad_(True)
            per = nn.functional.cross_entropy(model(xr), yte_t, reduction="none")
            (g,) = torch.autograd.grad(per.sum(), xr)
            gq = g.abs().sum(1)  # dual (L1) norm for an L_inf perturbation
            with torch.no_grad():
                l_f = nn.functional.cross_entropy(model(x_f), yte_t, reduction="none")
                l_p = nn.functional.cross_entropy(model(x_p), yte_t, reduction="none")
            bound = per.detach() + gq * eps
            res = {
                "clean_acc": acc(xte_t),
                "fgsm_acc": acc(x_f),
                "pgd_acc": acc(x_p),
                "grad_l1_mean": float(gq.mean()),
                "loss_clean": float(per.detach().mean()),
                "loss_pgd": float(l_p.mean()),
                "bound_mean": float(bound.mean()),
                "fgsm_bound_holds_fraction": float((l_f <= bound + 1e-6).float().mean()),
                "pgd_bound_holds_fraction": float((l_p <= bound + 1e-6).float().mean()),
            }
            out[name][f"lam{lam:g}"] = res
            rows.append({"dataset": name, "lam": lam, **res})
            ctx.log(
                f"{name} lam {lam:g}: clean {res['clean_acc']:.3f} FGSM {res['fgsm_acc']:.3f} "
                f"PGD {res['pgd_acc']:.3f} |g|_1 {res['grad_l1_mean']:.3g}"
            )
    cols = ["dataset", "lam", *list(next(iter(next(iter(out.values())).values())).keys())]
    with HistoryWriter(Path(ctx.out_dir) / "history.csv", cols) as h:
        for r in rows:
            h.write(r)
    lams = [max(float(v), 1e-4) for v in params["lams"]]
    plot_lines(
        Path(ctx.out_dir) / "robustness.png",
        lams,
        {f"{n} PGD acc": [out[n][f"lam{lam:g}"]["pgd_acc"] for lam in params["lams"]] for n in out},
        "lambda (0 plotted at 1e-4)",
        "accuracy under PGD",
        logy=False,
    )
    return _finish(ctx, params, t0, out)


# --------------------------------------------------------------------------------------------
def run_restoring_force(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Min x + y on the circle by the quadratic penalty ``mu g^2``, ``g = x^2 + y^2 - 1``.

    Measures the constraint violation ``|g(x*_mu)|`` (theory ``~ sqrt(2)/(4 mu)``) and the condition
    number of the Hessian of ``x + y + mu g^2`` at ``x*_mu`` (grows ``~ mu``).
    """
    t0 = time.perf_counter()
    torch.set_num_threads(params["threads"])
    rows = []
    for mu in params["mus"]:
        z = torch.tensor([-0.7, -0.7], dtype=torch.float64)

        def f(v: torch.Tensor, mu: float = mu) -> torch.Tensor:
            g = v.pow(2).sum() - 1
            return v.sum() + mu * g * g

        for _ in range(100):  # Newton with step halving
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
        hess = torch.autograd.functional.hessian(f, z)
        ev = torch.linalg.eigvalsh(hess)
        viol = float(abs(z.pow(2).sum() - 1))
        row = {
            "mu": mu,
            "violation": viol,
            "violation_theory": math.sqrt(2) / (4 * mu),
            "hessian_condition": float(ev.max() / ev.min()),
            "x": float(z[0]),
            "y": float(z[1]),
        }
        rows.append(row)
        ctx.log(f"mu {mu:g}: |g| {viol:.3e}  cond(H) {row['hessian_condition']:.3e}")
    with HistoryWriter(Path(ctx.out_dir) / "history.csv", list(rows[0].keys())) as h:
        for r in rows:
            h.write(r)
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
    return _finish(
        ctx,
        params,
        t0,
        {"rows": rows, "violation_loglog_slope": float(lv), "condition_loglog_slope": float(lc)},
    )
