r"""Closed forms and field measures for the martensite model (NumPy only, no DOLFINx).

* :func:`landau_minimum`: the bulk minimum :math:`f_{min}` and the variant's order parameter
  :math:`\eta^*` of a single-variant state (for the wall's excess energy and the variant indicator).
* :func:`double_well_wall`: the analytic wall of :math:`W\eta^2(1-\eta)^2` with
  :math:`\frac{\kappa}{2}|\nabla\eta|^2`: profile :math:`\frac12(1+\tanh(x/(2\delta)))`,
  :math:`\delta=\sqrt{\kappa/(2W)}`, energy :math:`\sqrt{2\kappa W}/6`.
* :func:`variant_rule`: which variant a point belongs to (fields, variant fractions and the variant map).
* :func:`orientation_from_moments`: the dominant wall-normal angle (mod 90 degrees) from the fourth
  angular moments of :math:`\nabla(\eta_1-\eta_2)`.
* :func:`plane_sums` / :func:`plane_statistics`: in 3D, how close weighted wall normals lie to the
  :math:`\{110\}` planes (angle histogram, fractions within given angles, the cubic fourth moment
  :math:`\langle n_x^4 + n_y^4 + n_z^4\rangle`); the sums add over ranks. :func:`twin_plane_sums` makes
  them per pair of variants from per-cell values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "FAMILY_110",
    "PLANE_EDGES_DEG",
    "a2_of_t",
    "double_well_wall",
    "landau_minimum",
    "landau_single",
    "orientation_from_moments",
    "plane_statistics",
    "plane_sums",
    "profile_error",
    "random_fraction_110",
    "twin_plane_sums",
    "variant_rule",
]


def a2_of_t(p: Mapping[str, Any]) -> float:
    """The temperature-dependent quadratic coefficient ``A2 + alpha_T (temperature - T0)``."""
    return float(p["A2"] + p["alpha_T"] * (p["temperature"] - p["T0"]))


def landau_single(e: Any, p: Mapping[str, Any]) -> Any:
    """The Landau density of a single-variant state (one eta = e, the others 0)."""
    e = np.asarray(e, dtype=float)
    a2 = a2_of_t(p)
    if p["landau"] == "234":
        return a2 / 2 * e**2 + p["A3"] / 3 * e**3 + p["A4"] / 4 * e**4
    if p["landau"] == "246":
        return a2 / 2 * e**2 + p["A4"] / 4 * e**4 + p["A6"] / 6 * e**6
    return p["W"] * e**2 * (1 - e) ** 2


def landau_minimum(p: Mapping[str, Any]) -> tuple[float, float]:
    """``(f_min, eta_star)``: the lowest single-variant Landau density and where it is.

    Among equal minima the one of largest ``|eta|`` (the transformed variant, not the parent) wins; for a
    symmetric well the positive one.
    """
    a2 = a2_of_t(p)
    if p["landau"] == "234":
        dcoef = [p["A4"], p["A3"], a2, 0.0]
    elif p["landau"] == "246":
        dcoef = [p["A6"], 0.0, p["A4"], 0.0, a2, 0.0]
    else:
        W = p["W"]
        dcoef = [4 * W, -6 * W, 2 * W, 0.0]
    roots = np.roots(dcoef)
    crit = np.unique(np.round(np.real(roots[np.abs(np.imag(roots)) < 1e-10]), 14))
    vals = landau_single(crit, p)
    fmin = float(vals.min())
    tol = 1e-10 * max(1.0, abs(fmin))
    cands = crit[vals <= fmin + tol]
    best = cands[np.lexsort((-np.sign(cands), -np.abs(cands)))][0]
    return fmin, float(best)


def double_well_wall(kappa: float, W: float) -> dict[str, float]:
    """Analytic wall of ``W eta^2 (1 - eta)^2`` with ``(kappa/2)|grad eta|^2``.

    Returns:
        ``energy`` (per unit wall area) ``sqrt(2 kappa W)/6``, ``delta = sqrt(kappa/(2W))`` (the profile
        is ``(1 + tanh(x/(2 delta)))/2``) and the gradient part ``energy/2`` (equipartition).
    """
    energy = math.sqrt(2.0 * kappa * W) / 6.0
    return {"energy": energy, "delta": math.sqrt(kappa / (2.0 * W)), "gradient": energy / 2.0}


def profile_error(x: np.ndarray, eta: np.ndarray, delta: float) -> tuple[float, float]:
    """Max deviation of a computed wall profile from ``(1 + tanh((x - x0)/(2 delta)))/2``.

    The centre ``x0`` is where the computed profile crosses 1/2 (linear interpolation).

    Returns:
        ``(max_abs_error, x0)``.
    """
    order = np.argsort(x)
    x, eta = np.asarray(x)[order], np.asarray(eta)[order]
    if eta[0] > eta[-1]:
        x, eta = x[::-1], eta[::-1]
    k = int(np.searchsorted(eta, 0.5)) if np.all(np.diff(eta) >= -1e-12) else int(np.argmin(abs(eta - 0.5)))
    k = min(max(k, 1), len(x) - 1)
    x0 = float(x[k - 1] + (0.5 - eta[k - 1]) * (x[k] - x[k - 1]) / (eta[k] - eta[k - 1]))
    exact = 0.5 * (1.0 + np.tanh((x - x0) / (2.0 * delta)))
    return float(np.max(np.abs(eta - exact))), x0


def orientation_from_moments(c4: float, s4: float, w: float) -> dict[str, float]:
    r"""Dominant wall-normal angle from the fourth angular moments of a gradient field.

    ``c4, s4`` are :math:`\int \mathrm{Re}/\mathrm{Im}\,(g_x + i g_y)^4` and ``w`` is :math:`\int |g|^4`.

    With :math:`g = |g|(\cos\theta, \sin\theta)`, ``c4/w`` is the :math:`|g|^4`-weighted mean of
    :math:`\cos 4\theta`: -1 when every wall lies at +-45 degrees, +1 when every wall is axis-aligned, about
    0 when the walls have no preferred orientation.

    Returns:
        ``angle_deg``: the mean normal angle mod 90 degrees, in [0, 90) (45 for +-45 degree walls);
        ``coherence``: ``|(c4, s4)|/w`` in [0, 1]; ``cos4``: ``c4/w``.
    """
    if w <= 0:
        return {"angle_deg": float("nan"), "coherence": 0.0, "cos4": 0.0}
    ang = math.degrees(math.atan2(s4, c4)) / 4.0
    return {"angle_deg": ang % 90.0, "coherence": math.hypot(c4, s4) / w, "cos4": c4 / w}


def variant_rule(abs_eta: np.ndarray, eta_star: float) -> np.ndarray:
    """The variant index (1..n, or 0) per column of ``|eta_p|`` (shape ``(n, points)``).

    ``p`` where ``|eta_p| > eta*/3`` and ``|eta_p| > |eta_q| + eta*/10`` for every other q, else 0 (parent,
    wall centre or uniform mixture). The variant fractions use the same rule.
    """
    a = np.sort(abs_eta, axis=0)
    top = a[-1]
    second = a[-2] if abs_eta.shape[0] > 1 else np.zeros_like(top)
    ok = (top > abs(eta_star) / 3.0) & (top > second + abs(eta_star) / 10.0)
    return np.where(ok, 1 + abs_eta.argmax(axis=0), 0)


#: The six {110} plane normals (unit vectors, one of each +- pair).
FAMILY_110 = np.array([[1, 1, 0], [1, -1, 0], [1, 0, 1], [1, 0, -1], [0, 1, 1], [0, 1, -1]],
                      dtype=float) / math.sqrt(2.0)
#: Bin edges (degrees) of the angle between a normal and its nearest {110} normal (at most 45 degrees,
#: reached by <100>).
PLANE_EDGES_DEG = np.array([0.0, 2.5, 5.0, 7.5, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 45.0 + 1e-9])


def random_fraction_110(angle_deg: float) -> float:
    """The fraction of isotropically distributed normals within ``angle_deg`` of some {110} normal.

    Twelve caps (six normals, both signs) of solid-angle fraction ``(1 - cos a)/2`` each; they do not
    overlap below 30 degrees (neighbouring {110} normals are 60 degrees apart). Exact for ``a <= 30``.
    """
    if angle_deg > 30.0:
        raise ValueError("random_fraction_110 is exact only up to 30 degrees")
    return 6.0 * (1.0 - math.cos(math.radians(angle_deg)))


def plane_sums(g: np.ndarray, w: np.ndarray, pair_normals: np.ndarray | None = None,
               edges_deg: np.ndarray = PLANE_EDGES_DEG) -> np.ndarray:
    """Additive (over points and ranks) sums describing the directions of vectors ``g`` with weights ``w``.

    Args:
        g: ``(m, 3)`` wall-normal vectors (e.g. ``grad(eta_i - eta_j)`` per cell); zero rows are ignored.
        w: ``(m,)`` non-negative weights (e.g. ``|g|^2`` times the cell volume).
        pair_normals: ``(k, 3)`` unit normals of the planes compatible with this pair of variants (e.g.
            ``(e_i +- e_j)/sqrt 2``); the angle to the nearest one is binned too.
        edges_deg: Bin edges of the angle to the nearest {110} normal.

    Returns:
        ``[sum w, sum w (n_x^4 + n_y^4 + n_z^4), weighted histogram of the angle to the nearest {110}
        normal (len(edges) - 1 bins), and, with pair_normals, the same histogram for them]``.
    """
    g = np.asarray(g, dtype=float).reshape(-1, 3)
    w = np.asarray(w, dtype=float).reshape(-1)
    norm = np.linalg.norm(g, axis=1)
    keep = norm > 0
    n, w = g[keep] / norm[keep, None], w[keep]

    def hist(normals: np.ndarray) -> np.ndarray:
        cos = np.abs(n @ normals.T).max(axis=1) if len(n) else np.zeros(0)
        ang = np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))
        return np.histogram(ang, bins=edges_deg, weights=w)[0]

    parts = [np.array([w.sum(), (w * (n**4).sum(axis=1)).sum()]), hist(FAMILY_110)]
    if pair_normals is not None:
        parts.append(hist(np.asarray(pair_normals, dtype=float)))
    return np.concatenate(parts)


def plane_statistics(sums: np.ndarray, edges_deg: np.ndarray = PLANE_EDGES_DEG,
                     within_deg: tuple[float, ...] = (5.0, 10.0)) -> dict[str, Any]:
    r"""Orientation statistics from (rank-summed) :func:`plane_sums`.

    Returns:
        ``weight``; ``cubic_moment`` :math:`\langle n_x^4+n_y^4+n_z^4\rangle` (1/2 for {110} normals,
        3/5 isotropic, 1 for {100}, 1/3 for {111}); ``hist_110`` (fractions per bin of
        ``edges_deg``); ``within_110`` {angle: fraction within that angle of a {110} normal} and
        ``random_within_110`` (the isotropic value); with pair normals ``within_pair`` the same for
        them and ``random_within_pair``. Angles must be bin edges.
    """
    sums = np.asarray(sums, dtype=float)
    nb = len(edges_deg) - 1
    total = sums[0]
    out: dict[str, Any] = {"weight": float(total)}
    if total <= 0:
        return out
    out["cubic_moment"] = float(sums[1] / total)
    h110 = sums[2:2 + nb] / total
    out["hist_110"] = [float(v) for v in h110]
    out["edges_deg"] = [float(e) for e in edges_deg]

    def within(h: np.ndarray) -> dict[str, float]:
        res = {}
        for a in within_deg:
            k = int(np.searchsorted(edges_deg, a))
            if not np.isclose(edges_deg[k], a):
                raise ValueError(f"{a} degrees is not a bin edge of {list(edges_deg)}")
            res[f"{a:g}"] = float(h[:k].sum())
        return res

    out["within_110"] = within(h110)
    out["random_within_110"] = {f"{a:g}": random_fraction_110(a) for a in within_deg}
    if len(sums) >= 2 + 2 * nb:
        out["within_pair"] = within(sums[2 + nb:2 + 2 * nb] / total)
        # two normals 90 degrees apart: four caps that do not overlap below 45 degrees
        out["random_within_pair"] = {f"{a:g}": 2.0 * (1.0 - math.cos(math.radians(a))) for a in within_deg}
    return out


def twin_plane_sums(vals: np.ndarray, grads: np.ndarray, rgrads: np.ndarray, vol: np.ndarray
                    ) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Per pair of variants (i < j), the :func:`plane_sums` of the walls between them, from cell values.

    A cell belongs to the wall of its two largest ``|eta|`` (a, b); its weight is
    ``|grad(eta_a - eta_b)|^2`` times its volume, its normal the recovered gradient of ``eta_a - eta_b``;
    the planes compatible with the pair have normals ``(e_a +- e_b)/sqrt 2``.

    Args:
        vals: ``(cells, n)`` values of the ``eta_p`` at the cell midpoints.
        grads: ``(cells, n, 3)`` their gradients.
        rgrads: ``(cells, n, 3)`` their recovered (vertex-averaged) gradients.
        vol: ``(cells,)`` cell volumes.

    Returns:
        ``(pairs, sums)``: the pairs ``(i, j)`` and one row of sums per pair (add over ranks).
    """
    n = vals.shape[1]
    order = np.argsort(-np.abs(vals), axis=1)
    a, b = order[:, 0], order[:, 1]
    rows = np.arange(len(vals))
    g = rgrads[rows, a] - rgrads[rows, b]
    w = ((grads[rows, a] - grads[rows, b]) ** 2).sum(axis=1) * vol
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    eye = np.eye(3)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    local = []
    for i, j in pairs:
        sel = (lo == i) & (hi == j)
        normals = np.array([eye[i] + eye[j], eye[i] - eye[j]]) / np.sqrt(2.0)
        local.append(plane_sums(g[sel], w[sel], normals))
    return pairs, np.array(local)
