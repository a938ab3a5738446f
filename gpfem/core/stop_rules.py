"""Rules that end a time loop early, from the history rows: "stop when it has settled".

A rule is a callable ``rule(row) -> str | None`` given every accepted step's history row (the values of
``model.history_row()`` plus ``step``, ``time``, ``dt``); a non-empty string ends the loop, and is logged as
the reason. History values are reduced over ranks, so every rank sees the same rows and a rule decides the
same on every rank (the stop is collective without communication). :class:`EnergyRateStop` is the one
shipped: the relative energy rate over a trailing time window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = ["EnergyRateStop"]


class EnergyRateStop:
    """Stop once ``|F(t) - F(t - window)| / (window |F(t)|) < rate``, i.e. the energy has settled.

    The rate is measured over a trailing time window (not one step: a short step after a cut would read
    a small change as a small rate), from the first accepted row at least ``window`` before ``t``, so the
    rule cannot fire before ``t >= window`` (plus ``t_min``). After a restart the window starts again.

    A gradient flow through a saddle (a long plateau before an instability grows) reads as settled if the
    plateau is longer than the window: choose the window longer than such plateaus (``t_min`` too).

    Args:
        key: The history column of the energy (e.g. ``total_energy``).
        rate: Threshold of the relative rate, 1/time units (> 0).
        window: Trailing time window (> 0).
        t_min: Earliest time at which the rule may stop the run.
    """

    def __init__(self, key: str, rate: float, window: float, t_min: float = 0.0):
        if not (rate > 0 and window > 0):
            raise ValueError(f"EnergyRateStop needs rate > 0 and window > 0, got {rate}, {window}")
        self.key, self.rate, self.window, self.t_min = key, float(rate), float(window), float(t_min)
        self._rows: deque[tuple[float, float]] = deque()
        #: The last measured relative rate (``None`` until a full window has passed).
        self.last_rate: float | None = None

    def __call__(self, row: Mapping[str, Any]) -> str | None:
        """The reason to stop after this accepted row, or ``None``."""
        t, f = float(row["time"]), float(row[self.key])
        self._rows.append((t, f))
        # keep the newest row at least a window old, and everything after it
        while len(self._rows) > 1 and self._rows[1][0] <= t - self.window:
            self._rows.popleft()
        t0, f0 = self._rows[0]
        if t - t0 < self.window or t0 == t:
            return None
        self.last_rate = abs(f - f0) / ((t - t0) * max(abs(f), 1e-300))
        if t >= self.t_min and self.last_rate < self.rate:
            return (f"settled: |d{self.key}/dt| / |{self.key}| = {self.last_rate:.3g} < {self.rate:g} over "
                    f"t = {t0:.6g} .. {t:.6g}")
        return None
