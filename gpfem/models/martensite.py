r"""Ginzburg-Landau martensite: orientational variants, twin walls and elastic coupling.

Free energy of the order parameters :math:`\eta_1..\eta_n` and the displacement :math:`u`

.. math:: F[\eta, u] = \int_\Omega f_L(\eta) + \sum_p \frac{\kappa}{2}|\nabla\eta_p|^2
          + \frac12 (\varepsilon(u) - \varepsilon_t(\eta)) : C : (\varepsilon(u) - \varepsilon_t(\eta))\,dx,
          \qquad \varepsilon_t = \sum_p \phi(\eta_p)\,\varepsilon^{00}_p,

with the Landau polynomial :math:`f_L` (``234``, ``246`` or ``double-well``, see
:mod:`gpfem.models.martensite_spec`), the twin-wall energy written with the shared
:func:`~gpfem.fe.energy.gradient_penalty`, cubic stiffness :math:`C` and per-variant Bain strains.

Evolution: time-dependent Ginzburg-Landau :math:`\partial_t\eta_p = -L\,\delta F/\delta\eta_p` with
mechanical equilibrium :math:`\delta F/\delta u = 0` at every step, **monolithic** and backward Euler: one
step minimises :math:`F[\eta, u] + \frac{1}{2L\Delta t}\|\eta - \eta_n\|^2` over :math:`(\eta, u)`
together, so an accepted step (a minimiser) cannot raise :math:`F`. The residual is ``ufl.derivative`` of
that functional; nothing is expanded by hand.

``periodic`` axes (:mod:`gpfem.fe.periodic`) make eta and u periodic across opposite sides. A periodic
u has zero mean strain along those axes (the periodic cell keeps its shape on average); ``clamped=all``
then clamps only the sides of non-periodic axes, and when every axis is periodic the rigid translation is
removed by pinning u = 0 at the vertex nearest the centre of the domain (and its periodic images, if it
has any). The energy depends on u only through its strain, so the pin changes no field but u's constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem

from gpfem.app.parameter_set import ParameterSet
from gpfem.app.periodic_axes import periodic_axes
from gpfem.drivers.gradient_flow import GradientFlow
from gpfem.fe.energy import Energy, gradient_penalty
from gpfem.fe.periodic import PeriodicMap
from gpfem.fe.solver import NonlinearSolver
from gpfem.mesh import MeshBundle
from gpfem.mesh.vertices import vertex_random
from gpfem.models.martensite_analysis import a2_of_t, landau_minimum, variant_rule
from gpfem.models.martensite_measures import (
    fraction_forms,
    orientation_forms,
    recovered_gradients,
    twin_planes,
    variant_fractions,
    wall_orientation,
    x_profile,
)
from gpfem.models.martensite_post import post as _post
from gpfem.models.martensite_spec import MartensiteParameters, check_consistency, clamped_sides

if TYPE_CHECKING:
    from dolfinx import mesh as dmesh

__all__ = ["Martensite", "bain_strains", "columns", "landau_density"]


def columns(n: int) -> list[str]:
    """History columns for ``n`` variants."""
    return ["step", "time", "dt", "total_energy", "landau_energy", "gradient_energy", "elastic_energy",
            *[f"variant_fraction_{p + 1}" for p in range(n)]]


def landau_density(eta: list[Any], p: Mapping[str, Any], mesh: Any) -> Any:
    """The Landau polynomial of the order parameters ``eta`` (a list of UFL scalars)."""
    def c(v: float) -> Any:
        return fem.Constant(mesh, float(v))

    a2 = c(a2_of_t(p))
    s2 = sum(e**2 for e in eta)
    cross = sum(eta[i] ** 2 * eta[j] ** 2 for i in range(len(eta)) for j in range(i + 1, len(eta)))
    if p["landau"] == "234":
        return a2 / 2 * s2 + c(p["A3"]) / 3 * sum(e**3 for e in eta) + c(p["A4"]) / 4 * s2**2
    if p["landau"] == "246":
        f = sum(a2 / 2 * e**2 + c(p["A4"]) / 4 * e**4 + c(p["A6"]) / 6 * e**6 for e in eta)
    else:
        f = sum(c(p["W"]) * e**2 * (1 - e) ** 2 for e in eta)
    if len(eta) > 1:
        f = f + c(p["coupling"]) / 2 * cross
    return f


def bain_strains(p: Mapping[str, Any], gdim: int) -> list[np.ndarray]:
    """Variant p's Bain strain: ``bain_axial`` along axis p, ``bain_transverse`` along the others."""
    out = []
    for k in range(gdim):
        d = np.full(gdim, p["bain_transverse"], dtype=float)
        d[k] = p["bain_axial"]
        out.append(np.diag(d))
    return out


def _cubic_energy(e: Any, p: Mapping[str, Any], mesh: Any, gdim: int) -> Any:
    """(1/2) e : C : e for cubic C (Voigt C11, C12, C44), plane strain in 2D."""
    C11, C12, C44 = (fem.Constant(mesh, float(p[k])) for k in ("C11", "C12", "C44"))
    diag2 = sum(e[i, i] ** 2 for i in range(gdim))
    return C12 / 2 * ufl.tr(e) ** 2 + C44 * ufl.inner(e, e) + (C11 - C12 - 2 * C44) / 2 * diag2


class Martensite(GradientFlow):
    """The Ginzburg-Landau martensite model on a mesh: a :class:`~gpfem.drivers.gradient_flow.GradientFlow`.

    Every coefficient in a form (Landau, ``kappa``, ``mobility``, stiffness, Bain strains, variant
    thresholds) is a ``fem.Constant``: a new value compiles no new form.

    Args:
        bundle: The mesh: a :class:`~gpfem.mesh.MeshBundle` or a plain ``dolfinx.mesh.Mesh``.
        p: The parameters: a :class:`~gpfem.models.martensite_spec.MartensiteParameters`, or a dict
            (validated into one; missing keys take their defaults). Kept as :attr:`p`.
        grid: ``(nx, ny[, nz], Lx, Ly[, Lz])`` of a structured built-in mesh: the noise is then indexed by
            grid position (partition-independent, and transposable for ``mirror``); ``None`` for a user's
            mesh (noise indexed by vertex input index).
    """

    #: ``columns(n) -> [names]``: the history columns ``gpfem run martensite`` writes for ``n`` variants
    #: (``run_time_loop``'s ``columns``; ``n`` is :attr:`n`).
    columns = staticmethod(columns)
    #: ``post(run_dir, comm=None, eta_star=None) -> [png names]``: the variant map and the energy curve of a
    #: run folder, as ``gpfem post`` makes them.
    post = staticmethod(_post)

    def __init__(self, bundle: MeshBundle | dmesh.Mesh, p: ParameterSet | Mapping[str, Any],
                 grid: tuple | None = None):
        self.p = p = MartensiteParameters.of(p)
        self.bundle = bundle = MeshBundle.of(bundle)
        mesh = bundle.mesh
        gdim = self.gdim = mesh.geometry.dim
        check_consistency(p, gdim)
        n = self.n = p["variants"] or gdim
        self.elastic = bool(p["elastic"])
        self.f_min, self.eta_star = landau_minimum(p)
        cell = mesh.basix_cell()
        Pn = basix.ufl.element("Lagrange", cell, 1, shape=(n,) if n > 1 else ())
        if self.elastic:
            Pu = basix.ufl.element("Lagrange", cell, 1, shape=(gdim,))
            self.W = fem.functionspace(mesh, basix.ufl.mixed_element([Pn, Pu]))
            eta_sub = self.W.sub(0)
        else:
            self.W = fem.functionspace(mesh, Pn)
            eta_sub = self.W
        axes = periodic_axes(p["periodic"], gdim)
        self.periodic = PeriodicMap(self.W, axes) if axes else None
        self.w = fem.Function(self.W, name="w")
        self.w_n = fem.Function(self.W, name="w_n")
        # Collapsed scalar spaces of each eta_p and the dof maps into w.
        self._eta_maps = []
        self.eta_out = []
        for k in range(n):
            if n == 1:  # a scalar space (elastic runs have n = gdim >= 2)
                Vk = self.W
                imap = self.W.dofmap.index_map
                mk = np.arange(imap.size_local + imap.num_ghosts)
            else:
                Vk, dofs_k = eta_sub.sub(k).collapse()
                mk = np.asarray(dofs_k)
            self._eta_maps.append(np.asarray(mk, dtype=np.int64))
            self.eta_out.append(fem.Function(Vk, name=f"eta_{k + 1}"))
        self.S = self.eta_out[0].function_space
        self.variant_out = fem.Function(self.S, name="variant")
        if self.elastic:
            self.Vu, mu = self.W.sub(1).collapse()
            self._u_map = np.asarray(mu, dtype=np.int64)
            self.u_out = fem.Function(self.Vu, name="u")

        dt = fem.Constant(mesh, 1.0)
        L = fem.Constant(mesh, float(p["mobility"]))
        kappa = fem.Constant(mesh, float(p["kappa"]))
        if self.elastic:
            eta_v, disp = ufl.split(self.w)
            eta_n = ufl.split(self.w_n)[0]
        else:
            eta_v, eta_n = self.w, self.w_n
        eta = [eta_v[k] for k in range(n)] if n > 1 else [eta_v]
        self.eta = eta
        dx = ufl.dx(domain=mesh)
        terms = {
            "landau": landau_density(eta, p, mesh),
            "gradient": sum(gradient_penalty(e, kappa) for e in eta),
        }
        self.bcs: list[Any] = []
        if self.elastic:
            phi = (lambda e: e) if p["strain_coupling"] == "linear" else (lambda e: e**2)
            e00 = [fem.Constant(mesh, b) for b in bain_strains(p, gdim)]
            eps_t = sum(phi(eta[k]) * e00[k] for k in range(n))
            terms["elastic"] = _cubic_energy(ufl.sym(ufl.grad(disp)) - eps_t, p, mesh, gdim)
            self.bcs = self._clamp()
        self.energy = Energy(dx, **terms)
        v = ufl.TestFunction(self.W)
        q = ufl.split(v)[0] if self.elastic else v
        # Backward-Euler TDGL + equilibrium: first variation of F + |eta - eta_n|^2 / (2 L dt).
        residual = ufl.inner(eta_v - eta_n, q) / (L * dt) * dx + self.energy.residual(self.w, v)
        solver = NonlinearSolver(residual, self.w, prefix="gpfem_gl_", bcs=self.bcs,
                                  constraint=self.periodic)
        checkpoint = {"eta": (self.w, 0), "u": (self.w, 1)} if self.elastic else {"eta": (self.w, None)}
        super().__init__(solver, self.w, self.w_n, dt, self.energy, energy_key="total_energy",
                         energy_tol=1e-10, check_energy=bool(p["energy_check"]), checkpoint=checkpoint,
                         outputs=[*self.eta_out, self.variant_out, *([self.u_out] if self.elastic else [])])

        vol = self.comm.allreduce(fem.assemble_scalar(fem.form(fem.Constant(mesh, 1.0) * dx)))
        self.volume = float(vol)
        self._fraction_forms = fraction_forms(eta, self.eta_star, mesh)
        self._orient_forms = orientation_forms(eta, mesh)
        self.set_initial(grid)

    # -- set-up -----------------------------------------------------------------------------------
    def _clamp(self) -> list[Any]:
        mesh = self.bundle.mesh
        tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        axes = self.periodic.axes if self.periodic is not None else ()
        sides = clamped_sides(self.p["clamped"], self.gdim, axes)
        zero = fem.Function(self.Vu)
        if not sides:
            return [fem.dirichletbc(zero, self._pin_dofs(), self.W.sub(1))]
        facets = np.unique(np.concatenate([self.bundle.facets(s) for s in sides]).astype(np.int32))
        dofs = fem.locate_dofs_topological((self.W.sub(1), self.Vu), tdim - 1, facets)
        return [fem.dirichletbc(zero, dofs, self.W.sub(1))]

    def _pin_dofs(self) -> Any:
        """The dofs of u at the vertex nearest the domain centre and at its periodic images."""
        pm = self.periodic
        assert pm is not None  # only periodic runs pin a vertex
        imap = self.Vu.dofmap.index_map
        X = self.Vu.tabulate_dof_coordinates()[: imap.size_local, : self.gdim]
        centre = 0.5 * (pm.lo + pm.hi)
        d = np.linalg.norm(X - centre, axis=1) if len(X) else np.zeros(0)
        best = (float(d.min()), *X[d.argmin()]) if len(X) else (np.inf,)
        point = np.array(min(self.bundle.mesh.comm.allgather(best))[1:])  # the same point on every rank
        ext = pm.hi - pm.lo
        images = [point]
        for a in pm.axes:
            images += [q + s * ext[a] * np.eye(self.gdim)[a] for q in images for s in (-1.0, 1.0)]
        tol = pm.tol

        def at_pin(x: np.ndarray) -> np.ndarray:
            return np.any([np.all(np.abs(x[: self.gdim].T - q) <= tol, axis=1) for q in images], axis=0)

        return fem.locate_dofs_geometrical((self.W.sub(1), self.Vu), at_pin)

    def set_initial(self, grid: tuple | None) -> None:
        """Random noise (``eta0 + epsilon r``, r uniform per vertex) or one wall at ``x = Lx/2``."""
        p, n = self.p, self.n
        X = self.S.tabulate_dof_coordinates()
        self.w.x.array[:] = 0.0
        if p["initial"] == "step":
            xm = 0.5 * p["Lx"]
            x = X[:, 0]
            at = np.isclose(x, xm, atol=1e-9 * p["Lx"])
            right = np.where(at, 0.5, (x > xm).astype(float)) * self.eta_star
            vals = [right] if n == 1 else [self.eta_star - right, right] + [0.0 * x] * (n - 2)
        else:
            rng = np.random.default_rng(p["seed"])
            if grid is not None:
                shape = grid[: self.gdim]
                lengths = grid[self.gdim:]
                idx = tuple(np.rint(X[:, d] / lengths[d] * shape[d]).astype(np.int64)
                            for d in range(self.gdim))
                R = rng.random((n, *(s + 1 for s in shape)))
                if p["mirror"]:
                    vals = [R[1 - k][idx[1], idx[0]] for k in range(n)]
                else:
                    vals = [R[k][idx] for k in range(n)]
            else:
                vals = list(vertex_random(self.S, rng, n))
            vals = [p["eta0"] + p["epsilon"] * v for v in vals]
        for k in range(n):
            self.w.x.array[self._eta_maps[k]] = vals[k]
        self.w.x.scatter_forward()
        if self.periodic is not None:
            self.periodic.enforce(self.w)
        self.prepare(0.0)

    # -- measures (gpfem.models.martensite_measures) ----------------------------------------------
    def measure(self) -> dict[str, float]:
        """Total, Landau, gradient and elastic energy and the variant fractions (reduced over ranks)."""
        assert self.energy is not None
        vals = self.energy.values()
        out = {"total_energy": vals["total"], "landau_energy": vals["landau"],
               "gradient_energy": vals["gradient"], "elastic_energy": vals.get("elastic", 0.0)}
        frac = variant_fractions(self._fraction_forms, self.comm, self.volume)
        for k in range(self.n):
            out[f"variant_fraction_{k + 1}"] = float(frac[k])
        return out

    def orientation(self) -> dict[str, float] | None:
        """Dominant normal angle of the eta_1/eta_2 walls, from the 4th angular moments of the field."""
        return wall_orientation(self._orient_forms, self.comm)

    def twin_planes(self) -> dict[str, Any] | None:
        """3D: how close the walls lie to the {110} planes, overall and per pair of variants (or ``None``)."""
        return twin_planes(self.eta, self.bundle.mesh, self.comm)

    def recovered_gradients(self) -> list[fem.Function]:
        """Per eta_p, the P1 field of vertex-averaged cell gradients (:mod:`.martensite_measures`)."""
        return recovered_gradients(self.eta, self.bundle.mesh)

    def profile(self) -> np.ndarray | None:
        """Rank 0: ``(x, eta_1..eta_n)`` averaged over the other coordinates, sorted by x."""
        self.update_outputs()
        return x_profile(self.eta_out, self.comm)

    def update_outputs(self) -> None:
        """Copy the fields out of ``w``; the variant map (:func:`variant_rule`)."""
        for f, m in zip(self.eta_out, self._eta_maps, strict=True):
            f.x.array[:] = self.w.x.array[m]
        self.variant_out.x.array[:] = variant_rule(np.abs(np.stack([f.x.array for f in self.eta_out])),
                                                   self.eta_star)
        if self.elastic:
            self.u_out.x.array[:] = self.w.x.array[self._u_map]
