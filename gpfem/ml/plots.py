"""Matplotlib (Agg) figures of the toy experiments: samples, critic contour, gradient-norm histogram."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["combine_pngs", "plot_grad_hist", "plot_lines", "plot_run", "plot_samples_critic"]


def plot_samples_critic(
    path: str | Path,
    samples: np.ndarray,
    real: np.ndarray,
    critic: Any = None,
    title: str = "",
    lim: float = 2.0,
) -> None:
    """Scatter of real (grey) and generated (orange) samples over the critic's contour."""
    fig, ax = plt.subplots(figsize=(3.6, 3.6), dpi=80)
    if critic is not None:
        import torch

        n = 80
        xs = np.linspace(-lim, lim, n)
        gx, gy = np.meshgrid(xs, xs)
        pts = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
        dev = next(critic.parameters()).device
        with torch.no_grad():
            val = critic(pts.to(dev)).cpu().numpy().reshape(n, n)
        ax.contourf(gx, gy, val, levels=20, cmap="viridis", alpha=0.7)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="0.3", label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:orange", label="generated")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_grad_hist(path: str | Path, norms: dict[str, np.ndarray], title: str = "") -> None:
    """Histogram of per-sample critic gradient norms, one series per label."""
    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    for label, v in norms.items():
        v = np.asarray(v)
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=40, alpha=0.5, label=label)
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("|grad_x D| at the penalty points", fontsize=8)
    _finish(fig, ax, title, path)


def plot_lines(
    path: str | Path,
    x: Sequence[float],
    ys: dict[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    logx: bool = True,
    logy: bool = True,
    title: str = "",
) -> None:
    """Line plot of several series against ``x``."""
    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    for label, y in ys.items():
        ax.plot(x, y, "o-", ms=3, label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    _finish(fig, ax, title, path)


def _finish(fig: Any, ax: Any, title: str, path: str | Path) -> None:
    """Title, legend and small tick labels; save to ``path`` and close the figure."""
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_run(out_dir: str | Path, result: dict[str, Any], real: np.ndarray, tag: str = "") -> None:
    """The three standard PNGs of one training run into ``out_dir``."""
    out = Path(out_dir)
    sfx = f"_{tag}" if tag else ""
    t = f"{tag} modes {result.get('modes_covered')} HQ {result.get('high_quality_fraction') or 0:.2f}"
    plot_samples_critic(out / f"samples{sfx}.png", result["samples"], real, None, t)
    plot_samples_critic(out / f"critic{sfx}.png", result["samples"][:500], real, result["critic"], t)
    plot_grad_hist(out / f"grad_norms{sfx}.png", {tag or "run": result["grad_norms"]}, t)


def combine_pngs(
    paths: Sequence[str | Path],
    out: str | Path,
    titles: Sequence[str] = (),
    crop_top: int = 0,
) -> None:
    """Place saved PNGs side by side in one small figure (the README's toy-result picture).

    ``crop_top`` pixels are cut from the top of each image (to replace its title by ``titles``).
    """
    imgs = [plt.imread(str(p))[crop_top:] for p in paths]
    fig, axes = plt.subplots(1, len(imgs), figsize=(3.0 * len(imgs), 3.0), dpi=80)
    for i, (ax, im) in enumerate(zip(np.atleast_1d(axes), imgs, strict=True)):
        ax.imshow(im)
        ax.axis("off")
        if i < len(titles):
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
