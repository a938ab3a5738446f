"""Measures of a martensite state on its mesh: variant fractions, wall orientation, twin planes, profiles.

Functions of plain DOLFINx objects (the ``eta_p`` as UFL expressions or Functions, a mesh, a
communicator), so they serve the model (:class:`~gpfem.models.martensite.Martensite` calls them) and any
other field of order parameters. Every value is reduced over ranks. The arithmetic on the per-cell arrays
is NumPy, in :mod:`gpfem.models.martensite_analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import ufl
from dolfinx import fem

from gpfem.models.martensite_analysis import (
    orientation_from_moments,
    plane_statistics,
    twin_plane_sums,
)

__all__ = [
    "fraction_forms",
    "orientation_forms",
    "recovered_gradients",
    "twin_planes",
    "variant_fractions",
    "wall_orientation",
    "x_profile",
]


def fraction_forms(eta: Sequence[Any], eta_star: float, mesh: Any) -> list[Any]:
    """Compiled forms of the volume of each variant: ``|eta_k| > |eta*|/3`` and clearly the largest.

    Clearly: by ``|eta*|/10`` over every other ``|eta_j|`` (a uniform mixture ``eta_1 = eta_2`` is no
    variant). The thresholds are ``fem.Constant`` s.
    """
    dx = ufl.dx(domain=mesh)
    n = len(eta)
    half = fem.Constant(mesh, abs(eta_star) / 3.0)
    margin = fem.Constant(mesh, abs(eta_star) / 10.0)
    forms = []
    for k in range(n):
        ind = ufl.conditional(ufl.gt(abs(eta[k]), half), 1.0, 0.0)
        for j in range(n):
            if j != k:  # clearly the largest: a uniform mixture eta_1 = eta_2 is no variant
                ind = ind * ufl.conditional(ufl.gt(abs(eta[k]), abs(eta[j]) + margin), 1.0, 0.0)
        forms.append(fem.form(ind * dx))
    return forms


def variant_fractions(forms: Sequence[Any], comm: Any, volume: float) -> np.ndarray:
    """The volume fraction of each variant (collective), from :func:`fraction_forms`."""
    local = np.array([fem.assemble_scalar(f) for f in forms])
    return comm.allreduce(local) / volume


def orientation_forms(eta: Sequence[Any], mesh: Any) -> list[Any] | None:
    """2D, at least two variants: the forms of the 4th angular moments of ``grad(eta_1 - eta_2)``."""
    if mesh.geometry.dim != 2 or len(eta) < 2:
        return None
    dx = ufl.dx(domain=mesh)
    g = ufl.grad(eta[0] - eta[1])
    gx, gy = g[0], g[1]
    return [fem.form(f * dx) for f in (
        gx**4 - 6 * gx**2 * gy**2 + gy**4, 4 * gx**3 * gy - 4 * gx * gy**3, (gx**2 + gy**2) ** 2)]


def wall_orientation(forms: Sequence[Any] | None, comm: Any) -> dict[str, float] | None:
    """Dominant normal angle of the eta_1/eta_2 walls (collective), from :func:`orientation_forms`."""
    if forms is None:
        return None
    c4, s4, w4 = comm.allreduce(np.array([fem.assemble_scalar(f) for f in forms]))
    return orientation_from_moments(float(c4), float(s4), float(w4))


def recovered_gradients(eta: Sequence[Any], mesh: Any) -> list[fem.Function]:
    """Per eta_p, the P1 vector field of volume-weighted averages of the cell gradients at each vertex.

    ``g_p = M_L^{-1} int grad(eta_p) . v dx`` with the lumped P1 mass ``M_L`` (assembled, summed over
    ranks, so the same on every partition). On a periodic mesh a seam vertex averages one side only.
    """
    from dolfinx import la

    gdim = mesh.geometry.dim
    V = fem.functionspace(mesh, ("Lagrange", 1, (gdim,)))
    v = ufl.TestFunction(V)
    dx = ufl.dx(domain=mesh)

    def assemble(form: Any) -> np.ndarray:
        vec = fem.assemble_vector(fem.form(form))
        vec.scatter_reverse(la.InsertMode.add)
        vec.scatter_forward()
        return vec.array

    lumped = assemble(ufl.dot(v, ufl.as_vector([1.0] * gdim)) * dx)
    out = []
    for k, e in enumerate(eta):
        g = fem.Function(V, name=f"grad_eta_{k + 1}")
        g.x.array[:] = assemble(ufl.dot(ufl.grad(e), v) * dx) / lumped
        out.append(g)
    return out


def twin_planes(eta: Sequence[Any], mesh: Any, comm: Any) -> dict[str, Any] | None:
    """3D: how close the walls lie to the {110} planes, overall and per pair of variants (collective).

    Per cell (at its midpoint): the two variants with the largest ``|eta|`` name the wall (a, b); its
    weight is ``|grad(eta_a - eta_b)|^2`` times the cell volume (the weight sits in the walls: inside a
    domain the gradient is about 0) and its normal the recovered gradient of ``eta_a - eta_b`` there
    (:func:`recovered_gradients`). The raw P1 gradient of a diffuse wall is biased by the mesh: on the
    structured tetrahedral box a tanh wall on a (01-1) plane put only 35-40% of its weight within 10
    degrees of it (100% on (011), the direction of the cells' diagonals); the recovered one puts 100%
    within 5 degrees on all six {110} planes. The pair (a, b) is compatible along the planes with normals
    ``(e_a +- e_b)/sqrt 2``. Sums are reduced over ranks (:func:`~gpfem.models.martensite_analysis.
    twin_plane_sums`), so the result is partition-independent. ``None`` unless 3D with at least two
    variants.
    """
    n = len(eta)
    if mesh.geometry.dim != 3 or n < 2:
        return None
    import basix

    tdim = mesh.topology.dim
    cells = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
    ref = basix.geometry(mesh.basix_cell()).mean(axis=0)[None, :]
    vals = fem.Expression(ufl.as_vector(eta), ref).eval(mesh, cells).reshape(len(cells), n)
    grad_expr = fem.Expression(ufl.as_matrix([[ufl.grad(e)[d] for d in range(3)] for e in eta]), ref)
    grads = grad_expr.eval(mesh, cells).reshape(len(cells), n, 3)
    rec = recovered_gradients(eta, mesh)
    rgrad_expr = fem.Expression(ufl.as_matrix([[g[d] for d in range(3)] for g in rec]), ref)
    rgrads = rgrad_expr.eval(mesh, cells).reshape(len(cells), n, 3)
    vol = fem.Expression(ufl.CellVolume(mesh), ref).eval(mesh, cells).reshape(-1)
    pairs, local = twin_plane_sums(vals, grads, rgrads, vol)
    total = comm.allreduce(local)
    out: dict[str, Any] = {"all": plane_statistics(total.sum(axis=0))}
    for (i, j), sums in zip(pairs, total, strict=True):
        out[f"{i + 1}-{j + 1}"] = plane_statistics(sums)
    return out


def x_profile(functions: Sequence[Any], comm: Any) -> np.ndarray | None:
    """Rank 0: ``(x, f_1..f_n)`` of scalar functions of one space, averaged over the other coordinates.

    Rows sorted by x (points whose x agree to 1e-9 are one row); ``None`` on the other ranks.
    """
    S = functions[0].function_space
    nown = S.dofmap.index_map.size_local
    X = S.tabulate_dof_coordinates()[:nown, 0]
    data = np.column_stack([X] + [f.x.array[:nown] for f in functions])
    parts = comm.gather(data, root=0)
    if comm.rank != 0:
        return None
    allv = np.concatenate(parts)
    key = np.round(allv[:, 0], 9)
    xs, inv = np.unique(key, return_inverse=True)
    sums = np.zeros((len(xs), allv.shape[1]))
    np.add.at(sums, inv, allv)
    counts = np.bincount(inv)
    return sums / counts[:, None]
