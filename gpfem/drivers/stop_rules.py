"""Stop rules: end a run when its history says the experiment is over, not at a guessed final load or time.

A stop rule sees every history row the time loop records (:func:`~gpfem.drivers.timeloop.run_time_loop`,
``LoopSettings.stop_rule``) and answers ``None`` (go on) or why to stop. Its decision must be the same on
every rank: rows hold reduced values, and the rule broadcasts rank 0's verdict anyway, so round-off in a
reduction can never make one rank stop and another go on. Its state goes into the checkpoint, so a
restarted run stops where the uninterrupted one would.

* :class:`BrokenStop`: a response has fallen below a fraction of its peak, after the peak (fracture: "run
  until broken").
* :class:`CrackThroughStop`: the crack tip has reached the edge of the domain (fracture: "the crack has run
  through"), for specimens whose force does not fall once broken (the shear test's faces press together).
* :class:`FirstOf`: several rules, the first that fires ends the run.
* :class:`EnergyRateStop`: the relative energy rate over a trailing time window is below a threshold ("the
  energy has settled"; martensite ``stop_rate``/``stop_window``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = ["BrokenStop", "CrackThroughStop", "EnergyRateStop", "FirstOf", "StopRule"]


class StopRule(Protocol):
    """What the time loop calls on a stop rule (``LoopSettings.stop_rule``)."""

    def update(self, row: Mapping[str, Any]) -> str | None:
        """Record a history row; return why to stop or ``None``."""

    def state(self) -> dict[str, Any]:
        """What a checkpoint stores to take the rule up again."""

    def restore(self, state: Mapping[str, Any] | None) -> None:
        """Take back :meth:`state` (``None``: a checkpoint without one)."""


class BrokenStop:
    """Stop once a response has fallen below ``fraction`` of its peak, after the peak ("run until broken").

    The peak is the largest ``|row[key]|`` so far. The rule fires on the first row where
    ``|row[key]| < fraction * peak`` while ``|row[load_key]|`` is at least the load of the peak, so an
    unloading branch of a load path (where the force also drops) does not count as broken.

    Args:
        fraction: In (0, 1), e.g. 0.05: stop when the force is below 5% of its peak.
        key: History column of the response (the reaction force).
        load_key: History column of the load.
    """

    def __init__(self, fraction: float, key: str = "reaction_force", load_key: str = "load"):
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        self.fraction = float(fraction)
        self.key = key
        self.load_key = load_key
        self.peak = 0.0
        self.load_at_peak = 0.0

    def update(self, row: Mapping[str, Any]) -> str | None:
        """Record a history row; return why to stop or ``None`` (the time loop uses rank 0's answer)."""
        f = abs(float(row.get(self.key, math.nan)))
        load = abs(float(row.get(self.load_key, math.nan)))
        why = None
        if math.isfinite(f):
            if f > self.peak:
                self.peak, self.load_at_peak = f, load
            elif self.peak > 0 and f < self.fraction * self.peak and load >= self.load_at_peak:
                why = (f"broken: {self.key} {f:.4g} < {self.fraction:g} x peak {self.peak:.4g} "
                       f"(peak at {self.load_key} {self.load_at_peak:.6g})")
        return why

    def state(self) -> dict[str, float]:
        """What a checkpoint keeps."""
        return {"peak": self.peak, "load_at_peak": self.load_at_peak}

    def restore(self, state: Mapping[str, float] | None) -> None:
        """Continue from a checkpoint's :meth:`state` (nothing to do for ``None``)."""
        if state:
            self.peak = float(state["peak"])
            self.load_at_peak = float(state["load_at_peak"])


class CrackThroughStop:
    """Stop once the crack tip lies within ``distance`` of the domain's bounding box (the crack ran through).

    The tip comes from the history (``crack_tip_x``, ``crack_tip_y``: the end of the tracked centre line,
    2D only); a row without a finite tip (no crack yet, 3D, tracking off) never fires. The rule keeps no
    state, so a restart stops where the uninterrupted run does.

    Args:
        lower: Lower corner of the domain's bounding box (x, y).
        upper: Upper corner.
        distance: > 0, e.g. the element size or ``ell`` where the crack runs.
        keys: History columns of the tip's coordinates.
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float], distance: float,
                 keys: Sequence[str] = ("crack_tip_x", "crack_tip_y")):
        if not distance > 0.0:
            raise ValueError(f"distance must be > 0, got {distance}")
        if len(lower) < len(keys) or len(upper) < len(keys):
            raise ValueError(f"the bounding box needs {len(keys)} coordinates per corner")
        self.lower = [float(v) for v in lower[:len(keys)]]
        self.upper = [float(v) for v in upper[:len(keys)]]
        self.distance = float(distance)
        self.keys = tuple(keys)

    def update(self, row: Mapping[str, Any]) -> str | None:
        """Record a history row; return why to stop or ``None`` (the time loop uses rank 0's answer)."""
        tip = [float(row.get(k, math.nan)) for k in self.keys]
        if not all(math.isfinite(v) for v in tip):
            return None
        gap = min(min(v - lo, hi - v) for v, lo, hi in zip(tip, self.lower, self.upper, strict=True))
        if gap < self.distance:
            where = ", ".join(f"{v:.4g}" for v in tip)
            return (f"broken: the crack tip ({where}) is {max(gap, 0.0):.3g} from the edge "
                    f"(< {self.distance:g})")
        return None

    def state(self) -> dict[str, float]:
        """What a checkpoint keeps (nothing: the decision reads the current row only)."""
        return {}

    def restore(self, state: Mapping[str, float] | None) -> None:
        """Nothing to restore."""


class FirstOf:
    """Several stop rules: every rule sees every row, the first (in order) that answers ends the run.

    Args:
        rules: The rules, e.g. ``FirstOf([BrokenStop(0.05), CrackThroughStop(lo, hi, h)])``.
    """

    def __init__(self, rules: Sequence[StopRule]):
        self.rules = list(rules)

    def update(self, row: Mapping[str, Any]) -> str | None:
        """Record a history row in every rule; the first rule's reason to stop, or ``None``."""
        answers = [rule.update(row) for rule in self.rules]  # all of them: their state follows every row
        return next((a for a in answers if a), None)

    def state(self) -> dict[str, Any]:
        """Every rule's state, in order."""
        return {"rules": [rule.state() for rule in self.rules]}

    def restore(self, state: Mapping[str, Any] | None) -> None:
        """Continue every rule from a checkpoint's :meth:`state`."""
        if state:
            for rule, s in zip(self.rules, state["rules"], strict=True):
                rule.restore(s)


class EnergyRateStop:
    """Stop once ``|F(t) - F(t - window)| / (window |F(t)|) < rate``, i.e. the energy has settled.

    The rate is measured over a trailing time window (not one step: a short step after a cut would read
    a small change as a small rate), from the first recorded row at least ``window`` before ``t``, so the
    rule cannot fire before ``t >= window`` (plus ``t_min``). The rows of the window go into the checkpoint
    (:meth:`state`), so a restarted run measures the same window.

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

    def update(self, row: Mapping[str, Any]) -> str | None:
        """Record a history row; return why to stop or ``None`` (the time loop uses rank 0's answer)."""
        t, f = float(row["time"]), float(row[self.key])
        self._rows.append((t, f))
        # keep the newest row at least a window old, and everything after it
        while len(self._rows) > 1 and self._rows[1][0] <= t - self.window:
            self._rows.popleft()
        t0, f0 = self._rows[0]
        why = None
        if t - t0 >= self.window:  # window > 0, so t0 < t
            self.last_rate = abs(f - f0) / ((t - t0) * max(abs(f), 1e-300))
            if t >= self.t_min and self.last_rate < self.rate:
                why = (f"settled: |d{self.key}/dt| / |{self.key}| = {self.last_rate:.3g} < {self.rate:g} "
                       f"over t = {t0:.6g} .. {t:.6g}")
        return why

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps: the rows of the current window."""
        return {"rows": [[t, f] for t, f in self._rows]}

    def restore(self, state: Mapping[str, Any] | None) -> None:
        """Continue from a checkpoint's :meth:`state` (nothing to do for ``None``)."""
        if state:
            self._rows = deque((float(t), float(f)) for t, f in state["rows"])
