"""Stop rules: end a run when its history says the experiment is over, not at a guessed final load or time.

A stop rule sees every history row the time loop records (:func:`~gpfem.core.timeloop.run_time_loop`,
``LoopSettings.stop_rule``) and answers ``None`` (go on) or why to stop. Its decision must be the same on
every rank: rows hold reduced values, and the rule broadcasts rank 0's verdict anyway, so round-off in a
reduction can never make one rank stop and another go on. Its state goes into the checkpoint, so a
restarted run stops where the uninterrupted one would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["BrokenStop"]


class BrokenStop:
    """Stop once a response has fallen below ``fraction`` of its peak, after the peak ("run until broken").

    The peak is the largest ``|row[key]|`` so far. The rule fires on the first row where
    ``|row[key]| < fraction * peak`` while ``|row[load_key]|`` is at least the load of the peak, so an
    unloading branch of a load path (where the force also drops) does not count as broken.

    Args:
        fraction: In (0, 1), e.g. 0.05: stop when the force is below 5% of its peak.
        comm: MPI communicator (``None``: serial).
        key: History column of the response (the reaction force).
        load_key: History column of the load.
    """

    def __init__(self, fraction: float, comm: Any = None, key: str = "reaction_force",
                 load_key: str = "load"):
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        self.fraction = float(fraction)
        self.comm = comm
        self.key = key
        self.load_key = load_key
        self.peak = 0.0
        self.load_at_peak = 0.0

    def update(self, row: Mapping[str, Any]) -> str | None:
        """Record a history row; return why to stop (the same on every rank) or ``None``."""
        f = abs(float(row.get(self.key, math.nan)))
        load = abs(float(row.get(self.load_key, math.nan)))
        why = None
        if math.isfinite(f):
            if f > self.peak:
                self.peak, self.load_at_peak = f, load
            elif self.peak > 0 and f < self.fraction * self.peak and load >= self.load_at_peak:
                why = (f"broken: {self.key} {f:.4g} < {self.fraction:g} x peak {self.peak:.4g} "
                       f"(peak at {self.load_key} {self.load_at_peak:.6g})")
        if self.comm is not None and self.comm.size > 1:
            why = self.comm.bcast(why, root=0)
        return why

    def state(self) -> dict[str, float]:
        """What a checkpoint keeps."""
        return {"peak": self.peak, "load_at_peak": self.load_at_peak}

    def restore(self, state: Mapping[str, float] | None) -> None:
        """Continue from a checkpoint's :meth:`state` (nothing to do for ``None``)."""
        if state:
            self.peak = float(state["peak"])
            self.load_at_peak = float(state["load_at_peak"])
