"""Several seeds per setting: the seed list and the mean, spread and range of each measured value.

A study runs each setting for ``n_seeds`` seeds ``seed, seed + 1, ...`` and reports, for every
numeric value, the mean, the sample standard deviation (``ddof=1``; 0 for one seed), the minimum
and the maximum, with the per-seed values beside them. Tests assert on the mean. Imports no torch.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["format_stat", "over_seeds", "seed_list"]


def seed_list(params: Mapping[str, Any]) -> list[int]:
    """``[seed, seed + 1, ..., seed + n_seeds - 1]`` from a study's parameters."""
    first = int(params.get("seed", 0))
    return list(range(first, first + int(params.get("n_seeds", 1))))


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def over_seeds(per_seed: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> dict[str, Any]:
    """Mean, spread and range over seeds of every numeric value the runs have in common.

    Args:
        per_seed: One dict of measured scalars per seed (non-numeric values and ``None`` are kept
            in ``per_seed`` only; booleans count as the fraction of seeds where they are true).
        seeds: The seeds, in the order of ``per_seed``.

    Returns:
        ``{"seeds", "mean", "std", "min", "max", "per_seed"}``; ``mean[k]`` etc. for each key ``k``
        whose value is a finite number in every run (booleans: ``mean`` only, as a fraction).
    """
    keys = [k for k in per_seed[0] if all(k in r for r in per_seed)]
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    for k in keys:
        vals = [r[k] for r in per_seed]
        if all(isinstance(v, bool) for v in vals):
            mean[k] = sum(vals) / len(vals)
            continue
        if not all(_numeric(v) and math.isfinite(v) for v in vals):
            continue
        xs = [float(v) for v in vals]
        mean[k] = statistics.fmean(xs)
        std[k] = statistics.stdev(xs) if len(xs) > 1 else 0.0
        lo[k], hi[k] = min(xs), max(xs)
    return {
        "seeds": list(seeds),
        "mean": mean,
        "std": std,
        "min": lo,
        "max": hi,
        "per_seed": [dict(r) for r in per_seed],
    }


def format_stat(stats: Mapping[str, Any], key: str, scale: float = 1.0, fmt: str = ".3g") -> str:
    """``"mean ± std [min, max]"`` of one key of :func:`over_seeds`, or ``"-"``."""
    if key not in stats["mean"]:
        return "-"
    m = stats["mean"][key] * scale
    if key not in stats["std"]:
        return f"{m:{fmt}}"
    s, a, b = (stats[w][key] * scale for w in ("std", "min", "max"))
    if len(stats["seeds"]) == 1:
        return f"{m:{fmt}}"
    return f"{m:{fmt}} ± {s:{fmt}} [{a:{fmt}}, {b:{fmt}}]"
