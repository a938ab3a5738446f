"""WGAN training on the toy data with the critic penalty of :mod:`gpfem.ml.penalties`.

The loop follows the WGAN-GP toy script: ``critic_iters`` critic steps per generator step, critic
loss ``E[D(x_g)] - E[D(x_r)] + GP``, generator loss ``-E[D(G(z))]``, Adam with betas (0.5, 0.9),
MLPs with noise dimension 2. Every run logs the ``history.csv`` columns of :data:`HISTORY_COLUMNS`.
Settings and their defaults: :mod:`gpfem.ml.train_config`.

The same seed gives the same run on every device: the networks are initialised on the CPU, the
data come from a seeded numpy generator, and the generator noise and the interpolation
coefficients are drawn from torch's seeded CPU generator and then moved to the device. TF32 matrix
products are off during training (``torch.set_float32_matmul_precision("highest")``), and the
host reads device values only at logged iterations.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from gpfem.base.errors import ParameterError
from gpfem.ml.penalties import gradient_penalty
from gpfem.ml.toy import mode_metrics, sample
from gpfem.ml.train_config import TRAIN_DEFAULTS

__all__ = [
    "HISTORY_COLUMNS",
    "TRAIN_DEFAULTS",
    "make_mlp",
    "resolve_device",
    "train_wgan",
]

HISTORY_COLUMNS = [
    "iteration",
    "critic_loss",
    "generator_loss",
    "gradient_penalty",
    "grad_norm_mean",
    "wasserstein_estimate",
]

_ACT: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leakyrelu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
}


def resolve_device(name: str) -> torch.device:
    """``torch.device`` for ``cpu``/``cuda``.

    Raises:
        ParameterError: If ``cuda`` is asked for and no GPU is visible.
    """
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError(
                "device", "cuda requested but torch.cuda.is_available() is False; use device=cpu"
            )
        return torch.device("cuda")
    if name != "cpu":
        raise ParameterError("device", f"must be cpu or cuda, got {name!r}")
    return torch.device("cpu")


def make_mlp(n_in: int, n_out: int, dim: int, depth: int, activation: str = "relu") -> nn.Sequential:
    """MLP ``n_in -> (dim, act) x depth -> n_out``."""
    if activation not in _ACT:
        raise ParameterError("activation", f"one of {', '.join(_ACT)}; got {activation!r}")
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, dim), _ACT[activation]()]
        width = dim
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class _Critic(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _noise(n: int, device: torch.device) -> torch.Tensor:
    """Generator noise ``(n, 2)`` from torch's CPU generator, moved to ``device``."""
    return torch.randn(n, 2).to(device)


def _collapse(gen: nn.Module, point: torch.Tensor, device: torch.device, steps: int = 300) -> None:
    """Pre-train ``gen`` to emit (nearly) one point: a mode-collapsed starting generator."""
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    for _ in range(steps):
        loss = (gen(_noise(256, device)) - point).pow(2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@contextlib.contextmanager
def _full_fp32_matmul() -> Iterator[None]:
    """No TF32 in float32 matrix products (CUDA) while training; the setting is restored after."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def _linear_decay(i: int, n: int) -> float:
    """Learning-rate factor of step ``i`` of ``n``: from 1 down to 0 (``LambdaLR``)."""
    return max(1.0 - i / n, 0.0)


def _input_grad_norms(crit: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Per-sample ``|grad_x D|`` at interpolates (detached; for logging and the final metric)."""
    _, norms = gradient_penalty(
        crit, real, fake, weight=0.0, return_norms=True, generator=torch.default_generator
    )
    return norms


def train_wgan(
    cfg: dict[str, Any],
    log: Callable[[str], None] = print,
    history: Any = None,
) -> dict[str, Any]:
    """Train a WGAN on a toy dataset; return metrics and the trained networks.

    Args:
        cfg: Settings; missing keys take :data:`TRAIN_DEFAULTS`. ``regularizer`` is ``gp`` (the
            penalty of :func:`gpfem.ml.penalties.gradient_penalty` with ``lam``, ``where``,
            ``target``, ``one_sided``), ``clip`` (weight clipping to ``[-clip, clip]``, WGAN) or
            ``none``. ``lr_decay`` decays both learning rates linearly to zero.
            ``eval_every > 0`` adds ``modes_covered``, ``modes_covered_min20`` and
            ``high_quality_fraction`` to the logged
            rows at multiples of ``eval_every`` (a multiple of ``log_every``).
        log: Progress printer.
        history: A :class:`gpfem.io.history.HistoryWriter` with :data:`HISTORY_COLUMNS`, or None.

    Returns:
        Dict with the metrics of :func:`gpfem.ml.toy.mode_metrics` on ``n_eval`` samples,
        ``rows`` (the history rows), ``final_grad_norm_mean``, ``diverged``,
        ``float32_matmul_precision``, ``wall_time_s`` and the objects ``generator``, ``critic``,
        ``samples`` (numpy), ``grad_norms`` (numpy).
    """
    c = {**TRAIN_DEFAULTS, **cfg}
    device = resolve_device(c["device"])
    torch.set_num_threads(int(c["threads"]))
    with _full_fp32_matmul():
        return _train(c, device, log, history)


def _train(
    c: dict[str, Any], device: torch.device, log: Callable[[str], None], history: Any
) -> dict[str, Any]:
    torch.manual_seed(int(c["seed"]))
    rng = np.random.default_rng(int(c["seed"]))
    cpu_gen = torch.default_generator  # seeded above; draws on the CPU whatever the device
    gen = make_mlp(2, 2, c["dim"], c["depth"], "relu").to(device)
    crit = _Critic(make_mlp(2, 1, c["dim"], c["depth"], c["activation"])).to(device)
    if c["collapse_init"]:
        _collapse(gen, torch.tensor([0.0, 0.0], device=device), device)
    betas = (c["beta1"], c["beta2"])
    opt_d = torch.optim.Adam(crit.parameters(), lr=c["lr"], betas=betas)
    opt_g = torch.optim.Adam(gen.parameters(), lr=c["lr"], betas=betas)
    batch = int(c["batch"])
    log_every = int(c["log_every"])
    eval_every = int(c["eval_every"])
    iters = int(c["iters"])
    scheds = []
    if c["lr_decay"]:  # linear decay to zero over the run (sharper final samples)
        n_it = max(iters, 1)
        for o in (opt_d, opt_g):
            scheds.append(torch.optim.lr_scheduler.LambdaLR(o, functools.partial(_linear_decay, n=n_it)))

    def real_batch() -> torch.Tensor:
        return torch.from_numpy(sample(c["dataset"], batch, rng)).to(device)

    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    diverged = False
    for it in range(iters + 1):
        logged = it % log_every == 0 or it == iters
        for k in range(int(c["critic_iters"])):
            real = real_batch()
            with torch.no_grad():
                fake = gen(_noise(batch, device))
            d_real, d_fake = crit(real).mean(), crit(fake).mean()
            w_est = d_real - d_fake
            norms = None
            if c["regularizer"] == "gp":
                gp, norms = gradient_penalty(
                    crit,
                    real,
                    fake,
                    where=c["where"],
                    target=c["target"],
                    one_sided=c["one_sided"],
                    weight=c["lam"],
                    generator=cpu_gen,
                    return_norms=True,
                )
            else:
                gp = torch.zeros((), device=device)
                if logged and k == int(c["critic_iters"]) - 1:
                    norms = _input_grad_norms(crit, real, fake)
            loss_d = -w_est + gp
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if c["regularizer"] == "clip":
                with torch.no_grad():
                    for p in crit.parameters():
                        p.clamp_(-c["clip"], c["clip"])
        loss_g = -crit(gen(_noise(batch, device))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for sch in scheds:
            sch.step()
        if not logged:
            continue
        # the only host reads of device values: at logged iterations
        if not (torch.isfinite(loss_d) & torch.isfinite(loss_g)):
            diverged = True
        row = {
            "iteration": it,
            "critic_loss": float(loss_d.detach()),
            "generator_loss": float(loss_g.detach()),
            "gradient_penalty": float(gp.detach()),
            "grad_norm_mean": float(norms.mean()) if norms is not None else float("nan"),
            "wasserstein_estimate": float(w_est.detach()),
        }
        if eval_every > 0 and it % eval_every == 0:
            with torch.no_grad():
                smp = gen(_noise(int(c["n_eval"]), device)).cpu().numpy()
            mm = mode_metrics(np.nan_to_num(smp, nan=1e3), c["dataset"])
            row["modes_covered"] = mm["modes_covered"]
            row["modes_covered_min20"] = mm["modes_covered_min20"]
            row["high_quality_fraction"] = mm["high_quality_fraction"]
        rows.append(row)
        if history is not None:
            history.write(row)
        if it % (log_every * 10) == 0:
            log(
                f"  it {it:5d}  W {row['wasserstein_estimate']:.4f}  gp {row['gradient_penalty']:.4f}"
                f"  |grad D| {row['grad_norm_mean']:.3f}"
            )
        if diverged:
            log(f"  diverged at iteration {it}")
            break
    wall = time.perf_counter() - t0
    with torch.no_grad():
        out = gen(_noise(int(c["n_eval"]), device)).cpu().numpy()
    real = torch.from_numpy(sample(c["dataset"], 512, rng)).to(device)
    with torch.no_grad():
        fake = gen(_noise(512, device))
    gn = _input_grad_norms(crit, real, fake)
    if not np.isfinite(out).all():
        diverged = True
        out = np.nan_to_num(out, nan=1e3, posinf=1e3, neginf=-1e3)
    metrics = mode_metrics(out, c["dataset"])
    return {
        **metrics,
        "rows": rows,
        "final_grad_norm_mean": float(gn.mean()),
        "diverged": diverged,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "wall_time_s": wall,
        "generator": gen,
        "critic": crit,
        "samples": out,
        "grad_norms": gn.cpu().numpy(),
        "config": c,
    }
