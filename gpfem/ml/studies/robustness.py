"""Input-gradient penalty on small classifiers: accuracy under FGSM and PGD attacks vs lambda.

``run_robustness`` (``gpfem run gp-robustness``). Penalty ``lambda mean_i |grad_x l_i|_1`` (the dual
norm of an ``L_inf`` attack) on two moons and scikit-learn digits; the seed sets the data split, the
initial weights and the mini-batch order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gpfem.io.history import HistoryWriter
from gpfem.ml.penalties import input_gradient_penalty
from gpfem.ml.plots import plot_lines
from gpfem.ml.seeds import format_stat, over_seeds, seed_list
from gpfem.ml.train import make_mlp

__all__ = ["MEASURED", "fgsm", "pgd", "run_robustness", "train_and_attack"]

#: The values measured per dataset, lambda and seed.
MEASURED = (
    "clean_acc",
    "fgsm_acc",
    "pgd_acc",
    "grad_l1_mean",
    "loss_clean",
    "loss_pgd",
    "bound_mean",
    "fgsm_bound_holds_fraction",
    "pgd_bound_holds_fraction",
)


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """One signed-gradient step of size ``eps`` (``L_inf``)."""
    xa = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(nn.functional.cross_entropy(model(xa), y), xa)
    return (x + eps * g.sign()).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int) -> torch.Tensor:
    """``steps`` signed-gradient steps of ``2.5 eps / steps``, projected on the ``L_inf`` ball."""
    alpha = 2.5 * eps / steps
    xa = x.clone()
    for _ in range(steps):
        xa.requires_grad_(True)
        (g,) = torch.autograd.grad(nn.functional.cross_entropy(model(xa), y), xa)
        xa = xa.detach() + alpha * g.sign()
        xa = torch.min(torch.max(xa, x - eps), x + eps)
    return xa.detach()


def train_and_attack(
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    n_classes: int,
    lam: float,
    eps: float,
    params: dict[str, Any],
    seed: int,
) -> dict[str, float]:
    """Train one classifier with the penalty ``lam`` and measure it under attack (:data:`MEASURED`)."""
    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    model = make_mlp(xtr.shape[1], n_classes, params["hidden"], 2, "relu")
    opt = torch.optim.Adam(model.parameters(), lr=params["lr"])
    for _ in range(params["epochs"]):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(perm), 128):
            idx = perm[i : i + 128]
            xb = xtr[idx].clone().requires_grad_(lam > 0)
            losses = nn.functional.cross_entropy(model(xb), ytr[idx], reduction="none")
            loss = losses.mean()
            if lam > 0:
                loss = loss + input_gradient_penalty(losses, xb, norm=1, weight=lam)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()

    def acc(x: torch.Tensor) -> float:
        with torch.no_grad():
            return float((model(x).argmax(1) == yte).float().mean())

    x_f = fgsm(model, xte, yte, eps)
    x_p = pgd(model, xte, yte, eps, params["pgd_steps"])
    xr = xte.clone().requires_grad_(True)
    per = nn.functional.cross_entropy(model(xr), yte, reduction="none")
    (g,) = torch.autograd.grad(per.sum(), xr)
    gq = g.abs().sum(1)  # dual (L1) norm for an L_inf perturbation
    with torch.no_grad():
        l_f = nn.functional.cross_entropy(model(x_f), yte, reduction="none")
        l_p = nn.functional.cross_entropy(model(x_p), yte, reduction="none")
    bound = per.detach() + gq * eps
    return {
        "clean_acc": acc(xte),
        "fgsm_acc": acc(x_f),
        "pgd_acc": acc(x_p),
        "grad_l1_mean": float(gq.mean()),
        "loss_clean": float(per.detach().mean()),
        "loss_pgd": float(l_p.mean()),
        "bound_mean": float(bound.mean()),
        "fgsm_bound_holds_fraction": float((l_f <= bound + 1e-6).float().mean()),
        "pgd_bound_holds_fraction": float((l_p <= bound + 1e-6).float().mean()),
    }


def run_robustness(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Every dataset x lambda x seed.

    Writes ``history.csv`` (dataset, lam, seed, :data:`MEASURED`) and ``robustness.png`` (mean PGD
    accuracy over seeds).

    Returns:
        ``{dataset: {"lam<lambda>": over_seeds stats}}``.
    """
    torch.set_num_threads(params["threads"])
    from sklearn.datasets import load_digits, make_moons
    from sklearn.model_selection import train_test_split

    seeds = seed_list(params)
    dg = load_digits()
    out: dict[str, Any] = {"moons": {}, "digits": {}}
    per: dict[tuple[str, float], list[dict[str, float]]] = {}
    with HistoryWriter(Path(ctx.out_dir) / "history.csv", ["dataset", "lam", "seed", *MEASURED]) as hist:
        for seed in seeds:
            xm, ym = make_moons(n_samples=2000, noise=0.1, random_state=seed)
            sets = {
                "moons": (xm, ym, params["eps_moons"], 2),
                "digits": (dg.data / 16.0, dg.target, params["eps_digits"], 10),
            }
            for name, (xx, yy, eps, ncls) in sets.items():
                xtr, xte, ytr, yte = train_test_split(xx, yy, test_size=0.3, random_state=seed)
                data = (
                    torch.tensor(xtr, dtype=torch.float32),
                    torch.tensor(ytr),
                    torch.tensor(xte, dtype=torch.float32),
                    torch.tensor(yte),
                )
                for lam in params["lams"]:
                    res = train_and_attack(data, ncls, float(lam), eps, params, seed)
                    hist.write({"dataset": name, "lam": lam, "seed": seed, **res})
                    per.setdefault((name, lam), []).append(res)
                    ctx.log(
                        f"{name} lam {lam:g} seed {seed}: clean {res['clean_acc']:.3f} "
                        f"FGSM {res['fgsm_acc']:.3f} PGD {res['pgd_acc']:.3f} |g|_1 {res['grad_l1_mean']:.3g}"
                    )
    for (name, lam), rs in per.items():
        out[name][f"lam{lam:g}"] = stats = over_seeds(rs, seeds)
        if len(seeds) > 1:
            ctx.log(f"{name} lam {lam:g}: PGD accuracy over seeds {format_stat(stats, 'pgd_acc')}")
    lams = [max(float(v), 1e-4) for v in params["lams"]]
    plot_lines(
        Path(ctx.out_dir) / "robustness.png",
        lams,
        {
            f"{n} PGD acc": [out[n][f"lam{lam:g}"]["mean"]["pgd_acc"] for lam in params["lams"]]
            for n in out
        },
        "lambda (0 plotted at 1e-4)",
        "accuracy under PGD (mean over seeds)",
        logy=False,
    )
    return out
