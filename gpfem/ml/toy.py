"""Toy data exactly as in the WGAN-GP toy script, and the VEEGAN/PacGAN mode metrics.

Data (Gulrajani et al. 2017, ``gan_toy.py``):

* ``8gaussians``: centres ``2 (cos k pi/4, sin k pi/4)``, std 0.02, all divided by 1.414;
* ``25gaussians``: centres ``(2i, 2j)`` for ``i, j in -2..2``, std 0.05, all divided by 2.828;
* ``swissroll``: ``sklearn.datasets.make_swiss_roll(noise=0.25)`` columns ``(0, 2)`` divided by 7.5.

Metrics (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): from 2500 generated samples, a
sample is *high quality* if it lies within 3 standard deviations of its nearest mode; a mode is
*covered* if it is the nearest mode of at least one high-quality sample (VEEGAN); we also report
modes with at least 20 high-quality samples (a stricter count).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "BASELINES",
    "DATASETS",
    "mode_metrics",
    "modes",
    "sample",
]

DATASETS = ("8gaussians", "25gaussians", "swissroll")

# Published baselines, 2D ring (8 modes) and 2D grid (25 modes): (method, modes, high-quality %).
# VEEGAN Table 1 (Srivastava et al., NeurIPS 2017) and PacGAN Table 1 (Lin et al., NeurIPS 2018).
# Their data have std 0.02 (ring radius 2, grid spacing 2); ours follows the WGAN-GP toy script,
# so compare the metric, not the exact data.
BASELINES: dict[str, list[tuple[str, float, float]]] = {
    "8gaussians": [
        ("GAN (VEEGAN T1)", 1.0, 99.3),
        ("ALI (VEEGAN T1)", 2.8, 0.13),
        ("Unrolled GAN (VEEGAN T1)", 7.6, 35.6),
        ("VEEGAN (VEEGAN T1)", 8.0, 52.9),
        ("GAN (PacGAN T1)", 6.3, 98.2),
        ("PacGAN2 (PacGAN T1)", 7.9, 95.6),
        ("PacGAN3 (PacGAN T1)", 7.8, 97.7),
        ("PacGAN4 (PacGAN T1)", 7.8, 95.9),
    ],
    "25gaussians": [
        ("GAN (VEEGAN T1)", 3.3, 0.5),
        ("ALI (VEEGAN T1)", 15.8, 1.6),
        ("Unrolled GAN (VEEGAN T1)", 23.6, 16.0),
        ("VEEGAN (VEEGAN T1)", 24.6, 40.0),
        ("GAN (PacGAN T1)", 17.3, 94.8),
        ("PacGAN2 (PacGAN T1)", 23.8, 91.3),
        ("PacGAN3 (PacGAN T1)", 24.6, 94.2),
        ("PacGAN4 (PacGAN T1)", 24.8, 93.6),
    ],
}


def modes(name: str) -> tuple[np.ndarray, float] | None:
    """Centres ``(K, 2)`` and the per-mode standard deviation, or ``None`` (swiss roll)."""
    if name == "8gaussians":
        s = 1 / math.sqrt(2)
        c = np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
        return 2.0 * c / 1.414, 0.02 / 1.414
    if name == "25gaussians":
        c = np.array([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)])
        return c / 2.828, 0.05 / 2.828
    if name == "swissroll":
        return None
    raise ValueError(f"unknown dataset {name!r}; one of {', '.join(DATASETS)}")


def sample(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples ``(n, 2)`` float32 of a toy dataset."""
    if name == "swissroll":
        from sklearn.datasets import make_swiss_roll

        data = make_swiss_roll(n_samples=n, noise=0.25, random_state=rng.integers(2**31))[0]
        return (data[:, [0, 2]] / 7.5).astype(np.float32)
    m = modes(name)
    assert m is not None
    centres, std = m
    idx = rng.integers(len(centres), size=n)
    return (centres[idx] + std * rng.standard_normal((n, 2))).astype(np.float32)


def mode_metrics(samples: np.ndarray, name: str, min_count: int = 20) -> dict[str, Any]:
    """VEEGAN/PacGAN metrics of generated samples (use 2500 of them).

    Returns:
        ``modes_covered`` (modes nearest to >= 1 high-quality sample), ``modes_covered_min20``
        (>= ``min_count``), ``high_quality_fraction``, ``n_modes``, ``counts`` per mode; for the
        swiss roll ``mean_distance_to_data`` instead (mode counts are ``None``).
    """
    samples = np.asarray(samples, dtype=np.float64)
    m = modes(name)
    if m is None:
        ref = sample(name, 5000, np.random.default_rng(12345)).astype(np.float64)
        d = np.sqrt(((samples[:, None, :] - ref[None, :, :]) ** 2).sum(-1)).min(1)
        return {
            "modes_covered": None,
            "modes_covered_min20": None,
            "high_quality_fraction": None,
            "n_modes": None,
            "mean_distance_to_data": float(d.mean()),
        }
    centres, std = m
    d = np.sqrt(((samples[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    nearest = d.argmin(1)
    hq = d.min(1) <= 3 * std
    counts = np.bincount(nearest[hq], minlength=len(centres))
    return {
        "modes_covered": int((counts >= 1).sum()),
        "modes_covered_min20": int((counts >= min_count).sum()),
        "high_quality_fraction": float(hq.mean()),
        "n_modes": len(centres),
        "counts": counts.tolist(),
    }
