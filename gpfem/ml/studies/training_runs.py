"""One toy-WGAN setting trained for several seeds, and a sweep over settings, into one history.csv.

``history.csv`` of a training study has the columns ``run`` (sweeps only), ``seed`` and
:data:`gpfem.ml.train.HISTORY_COLUMNS` (plus the mode metrics when ``eval_every > 0``). The PNGs
show the first seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.io.history import HistoryWriter
from gpfem.ml.plots import plot_grad_hist, plot_samples_critic
from gpfem.ml.seeds import format_stat, over_seeds, seed_list
from gpfem.ml.toy import sample
from gpfem.ml.train import HISTORY_COLUMNS, train_wgan
from gpfem.ml.train_config import train_settings

__all__ = ["EVAL_COLUMNS", "history_columns", "measured", "sweep", "train_seeds"]

EVAL_COLUMNS = ["modes_covered", "modes_covered_min20", "high_quality_fraction"]
_OBJECTS = ("generator", "critic", "samples", "grad_norms", "rows", "config", "counts")


def history_columns(params: dict[str, Any], tags: Sequence[str] = ("seed",)) -> list[str]:
    """Columns of a training study's ``history.csv``."""
    cols = [*tags, *HISTORY_COLUMNS]
    if int(params.get("eval_every", 0)) > 0:
        cols += EVAL_COLUMNS
    return cols


def measured(res: dict[str, Any]) -> dict[str, Any]:
    """The measured scalars of one :func:`~gpfem.ml.train.train_wgan` result (no objects, no rows).

    With mode metrics during training, also the first logged iteration with >= 7/8 of the modes
    holding >= 20 high-quality samples and the first with >= 50 % high-quality samples (``None``
    if never).
    """
    out = {k: v for k, v in res.items() if k not in _OBJECTS}
    evals = [r for r in res["rows"] if "modes_covered" in r]
    if evals:
        k = max(1, int(0.875 * (res["n_modes"] or 8)))  # 7 of 8
        hit = [r["iteration"] for r in evals if r["modes_covered_min20"] >= k]
        out["first_iteration_7of8_modes_min20"] = hit[0] if hit else None
        hit = [r["iteration"] for r in evals if (r["high_quality_fraction"] or 0) >= 0.5]
        out["first_iteration_hq_ge_half"] = hit[0] if hit else None
    return out


class _Tagged:
    """Writes training rows into a shared history with ``run``/``seed`` columns in front."""

    def __init__(self, hist: HistoryWriter, **tags: Any):
        self.hist = hist
        self.tags = tags

    def write(self, row: dict[str, Any]) -> None:
        self.hist.write({**self.tags, **row})


def train_seeds(
    params: dict[str, Any],
    ctx: Any,
    hist: HistoryWriter,
    overrides: dict[str, Any] | None = None,
    label: str | None = None,
    extra: Callable[[int], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one setting for every seed of ``params``.

    Args:
        params: The study's resolved parameters (training settings, ``seed``, ``n_seeds``).
        ctx: The run context (``log``).
        hist: The study's history writer; rows get ``seed`` (and ``run=label``) in front.
        overrides: Training settings of this setting.
        label: The ``run`` column value (sweeps), or None.
        extra: ``seed -> dict`` of further per-seed values measured outside training.

    Returns:
        ``(stats, first)``: :func:`~gpfem.ml.seeds.over_seeds` of the measured scalars, and the
        full result of the first seed (networks, samples; for the pictures).
    """
    seeds = seed_list(params)
    per_seed: list[dict[str, Any]] = []
    first: dict[str, Any] = {}
    for seed in seeds:
        cfg = {**train_settings(params), **(overrides or {}), "seed": seed}
        tags = {"seed": seed} if label is None else {"run": label, "seed": seed}
        res = train_wgan(cfg, ctx.log, _Tagged(hist, **tags))
        m = measured(res)
        if extra is not None:
            m.update(extra(seed))
        per_seed.append(m)
        if not first:
            first = res
        hq = m["high_quality_fraction"]
        ctx.log(
            f"  seed {seed}: modes {m['modes_covered']} HQ {'-' if hq is None else f'{hq:.3f}'} "
            f"|grad D| {m['final_grad_norm_mean']:.3f}"
        )
    stats = over_seeds(per_seed, seeds)
    if len(seeds) > 1:
        ctx.log(
            f"  over {len(seeds)} seeds: modes {format_stat(stats, 'modes_covered')}  HQ % "
            f"{format_stat(stats, 'high_quality_fraction', 100.0)}"
        )
    return stats, first


def sweep(
    params: dict[str, Any],
    ctx: Any,
    runs: list[tuple[str, dict[str, Any]]],
    extra: Callable[[str, int], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Train every ``(label, overrides)`` for every seed into one ``history.csv``.

    Writes ``critic_<label>.png`` (first seed) and ``grad_norms.png``.

    Returns:
        ``label -> over_seeds stats``.
    """
    out = Path(ctx.out_dir)
    real = sample(params["dataset"], 1000, np.random.default_rng(1))
    results: dict[str, dict[str, Any]] = {}
    norms: dict[str, np.ndarray] = {}
    with HistoryWriter(out / "history.csv", history_columns(params, ("run", "seed"))) as hist:
        for label, over in runs:
            ctx.log(label)
            per = None if extra is None else (lambda seed, label=label: extra(label, seed))
            stats, first = train_seeds(params, ctx, hist, over, label, per)
            hq = first["high_quality_fraction"]
            plot_samples_critic(
                out / f"critic_{label}.png",
                first["samples"][:500],
                real,
                first["critic"],
                f"{label} (seed {stats['seeds'][0]}): modes {first['modes_covered']} HQ {hq or 0:.2f}",
            )
            norms[label] = first["grad_norms"]
            results[label] = stats
    plot_grad_hist(out / "grad_norms.png", norms, "critic gradient norms at interpolates (first seed)")
    return results
