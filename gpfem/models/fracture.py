r"""Phase-field brittle fracture: AT1/AT2, energy splits, irreversibility by bounds.

Total energy of a displacement ``u`` and a damage field ``alpha`` in [0, 1]

.. math::
    E(u, \alpha) = \int_\Omega g(\alpha)\,\psi^+(\varepsilon(u)) + \psi^-(\varepsilon(u))
      + \frac{G_c}{c_w}\Big(\frac{w(\alpha)}{\ell} + \ell |\nabla\alpha|^2\Big)\,dx,
    \qquad g(\alpha) = (1 - \alpha)^2 + k_{res},

with AT1 (``w = alpha``, ``c_w = 8/3``) or AT2 (``w = alpha^2``, ``c_w = 2``). The gradient term is the
shared :func:`~gpfem.core.energy.gradient_penalty` with ``kappa = 2 Gc ell / c_w``. Loads are imposed
displacements, so the external work is zero and the reaction force is the residual on the loaded boundary.

Splits of the strain energy ``psi = lambda/2 tr(eps)^2 + mu eps:eps``: ``none`` (``psi+ = psi``),
``voldev`` (Amor et al. 2009: ``psi+ = K/2 <tr eps>_+^2 + mu dev eps : dev eps``) and ``spectral`` (Miehe
et al. 2010: ``psi+ = lambda/2 <tr eps>_+^2 + mu sum <eps_i>_+^2``, 2D only). Plane strain embeds the 2D
strain in 3D (``eps_zz = 0``); plane stress uses the 2D law with ``lambda* = 2 lambda mu / (lambda + 2 mu)``.

Solution: alternate minimisation. ``u``-problem: SNES ``gpfem_displacement_`` (Newton, MUMPS).
``alpha``-problem: SNES ``gpfem_damage_`` with bounds ``alpha_prev <= alpha <= 1`` (``vinewtonrsls``):
irreversibility without a history field. Iterations stop when the max-norm of the damage change (a PETSc
global norm, the same on every rank) is below ``altmin_tol``; ``altmin_max_it`` iterations without that
raise :class:`~gpfem.core.errors.ConvergenceError`. An over-relaxation ``omega`` of the damage update,
projected back onto the bounds (``relaxation``, Farrell & Maurini 2017), cuts the iterations of the step
where the crack runs.

Load stepping reuses :func:`gpfem.core.timeloop.run_time_loop` with a pseudo-time ``s`` (the cumulated
imposed displacement along ``load_path``, so unloading is a path too) instead of writing a second loop:
quasi-static fracture needs exactly what the time loop gives (adaptive increments that grow after easy
steps and are cut and retried after failures, one flushed history row per step, fields, checkpoints,
``--restart``), and the model only has to say "try, accept, reject". A step whose damage rises by more than
``max_damage_increment`` is rejected while the increment is above ``dload_min``: the increments are refined
automatically where the crack runs, and the peak load is resolved to ``dload_min``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem.petsc import assemble_vector
from petsc4py import PETSc

from gpfem.core.energy import Energy, gradient_penalty
from gpfem.core.errors import ConvergenceError, MeshError, ParameterError
from gpfem.core.solver import NonlinearSolver
from gpfem.core.stepping import StepControl, StepResult
from gpfem.core.timeloop import LoopSettings, run_time_loop
from gpfem.mesh import MeshBundle, load_mesh, notched_plate, rectangle

__all__ = [
    "COLUMNS",
    "Fracture",
    "LoadPath",
    "build_mesh",
    "c_w",
    "critical_stress",
    "post",
    "run",
    "mesh_size",
    "strain_energy_split",
]

COLUMNS = [
    "step", "load", "reaction_force", "elastic_energy", "dissipated_energy", "total_energy",
    "alt_min_iterations", "max_damage",
]

_COMPONENT = {"x": 0, "y": 1, "z": 2}


def c_w(model: str) -> float:
    """Normalisation constant ``c_w = 4 int_0^1 sqrt(w)``: 8/3 for AT1, 2 for AT2."""
    return 8.0 / 3.0 if model == "AT1" else 2.0


def critical_stress(model: str, E: float, Gc: float, ell: float) -> float:
    """Peak stress of the homogeneous 1D solution.

    AT1: ``sqrt(3 Gc E / (8 ell))`` (the elastic limit); AT2: ``(9/16) sqrt(E Gc / (3 ell))`` (at
    ``alpha = 1/4``).
    """
    if model == "AT1":
        return math.sqrt(3.0 * Gc * E / (8.0 * ell))
    return 9.0 / 16.0 * math.sqrt(E * Gc / (3.0 * ell))


def _pos(x: Any) -> Any:
    return 0.5 * (x + abs(x))


def _neg(x: Any) -> Any:
    return 0.5 * (x - abs(x))


def strain_energy_split(eps: Any, lmbda: float, mu: float, split: str, dim3: bool) -> tuple[Any, Any]:
    r"""The split ``(psi+, psi-)`` of ``psi = lambda/2 tr(eps)^2 + mu eps:eps``.

    Args:
        eps: Strain tensor (2x2 in 2D, 3x3 in 3D).
        lmbda: Lame's first parameter (already the plane-stress one in plane stress).
        mu: Shear modulus.
        split: ``none``, ``voldev`` or ``spectral``.
        dim3: Whether ``eps`` is the 2D block of a 3D plane-strain strain (volumetric/deviatoric parts
            are then those of the 3D tensor).

    Returns:
        The UFL densities ``psi+`` (degraded) and ``psi-`` (not degraded).
    """
    d = eps.ufl_shape[0]
    tr = ufl.tr(eps)
    if split == "none":
        return 0.5 * lmbda * tr**2 + mu * ufl.inner(eps, eps), ufl.as_ufl(0.0)
    if split == "voldev":
        n = 3 if (dim3 or d == 3) else d
        K = lmbda + 2.0 * mu / n
        dev_sq = ufl.inner(eps, eps) - tr**2 / n
        return 0.5 * K * _pos(tr) ** 2 + mu * dev_sq, 0.5 * K * _neg(tr) ** 2
    if d != 2:
        raise ParameterError("split", "the spectral split is implemented in 2D only; use voldev in 3D")
    # Principal strains of the 2D block (eps_zz = 0 in plane strain adds nothing to sum <eps_i>^2).
    # The tiny shift keeps the square root differentiable at equal eigenvalues; it enters only as
    # (e1 - e2) d^2 r, which stays finite.
    r = ufl.sqrt(0.25 * (eps[0, 0] - eps[1, 1]) ** 2 + eps[0, 1] ** 2 + 1e-24)
    e1, e2 = 0.5 * tr + r, 0.5 * tr - r
    plus = 0.5 * lmbda * _pos(tr) ** 2 + mu * (_pos(e1) ** 2 + _pos(e2) ** 2)
    minus = 0.5 * lmbda * _neg(tr) ** 2 + mu * (_neg(e1) ** 2 + _neg(e2) ** 2)
    return plus, minus


class LoadPath:
    """Imposed displacement as a piecewise-linear function of a pseudo-time ``s``.

    ``s`` is the cumulated |change| of the load, so every turning point of ``points`` (starting from 0) is a
    pseudo-time the loop lands on exactly.

    Args:
        points: Turning points, e.g. ``[0.01, 0.0, 0.02]``.
    """

    def __init__(self, points: list[float]):
        self.loads = np.array([0.0, *points], dtype=float)
        self.s = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(self.loads)))])

    @property
    def s_end(self) -> float:
        """Pseudo-time at the end of the programme."""
        return float(self.s[-1])

    @property
    def stops(self) -> list[float]:
        """Pseudo-times of the turning points."""
        return [float(v) for v in self.s[1:]]

    def __call__(self, s: float) -> float:
        """The imposed displacement at pseudo-time ``s``."""
        return float(np.interp(s, self.s, self.loads))


def _MPI_MAX() -> Any:  # noqa: N802
    from mpi4py import MPI

    return MPI.MAX


def mesh_size(bundle: MeshBundle, q: float = 0.1) -> float:
    """A robust element size ``h = (d! |K|)^(1/d)`` (the leg of a right simplex of the same volume).

    The smallest over ranks of the local ``q``-quantile, so that refined bands and not the few tiny cells at
    a notch tip set it.
    """
    from mpi4py import MPI

    m = bundle.mesh
    tdim = m.topology.dim
    n = m.topology.index_map(tdim).size_local
    DG0 = fem.functionspace(m, ("DG", 0))
    vol = fem.assemble_vector(fem.form(ufl.TestFunction(DG0) * ufl.dx)).array[:n]
    h = (math.factorial(tdim) * vol) ** (1.0 / tdim)
    local = float(np.quantile(h, q)) if n else np.inf
    return float(bundle.comm.allreduce(local, op=MPI.MIN))


class Fracture:
    """The phase-field fracture model on a mesh.

    Args:
        p: Resolved parameters (see :mod:`gpfem.models.fracture_spec`).
        bundle: The mesh with named boundary groups.
        log: Progress printer.
    """

    def __init__(self, p: dict[str, Any], bundle: MeshBundle, log: Any = None):
        self.p = p
        self.bundle = bundle
        self.log = log or (lambda _m: None)
        msh = bundle.mesh
        self.comm = msh.comm
        gdim = msh.geometry.dim
        self.gdim = gdim
        cell = msh.basix_cell()
        self.V = fem.functionspace(msh, basix.ufl.element("Lagrange", cell, 1, shape=(gdim,)))
        self.A = fem.functionspace(msh, basix.ufl.element("Lagrange", cell, 1))
        self.u = fem.Function(self.V, name="u")
        self.alpha = fem.Function(self.A, name="alpha")
        self.alpha_prev = fem.Function(self.A, name="alpha_prev")  # last accepted: lower bound
        self.alpha_iter = fem.Function(self.A)  # previous alternate-minimisation iterate
        self.alpha_ub = fem.Function(self.A)
        self.alpha_ub.x.array[:] = 1.0
        self.u_prev = fem.Function(self.V)
        self.path = LoadPath(p["load_path"] or [p["load_max"]])
        self.load = fem.Constant(msh, 0.0)
        self.cw = c_w(p["model"])

        # -- energy ---------------------------------------------------------------------------------
        E, nu, Gc, ell = p["E"], p["nu"], p["Gc"], p["ell"]
        mu = E / (2.0 * (1.0 + nu))
        lmbda = E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
        plane_strain = gdim == 2 and p["hypothesis"] == "plane_strain"
        if gdim == 2 and not plane_strain:
            lmbda = 2.0 * lmbda * mu / (lmbda + 2.0 * mu)
        eps = ufl.sym(ufl.grad(self.u))
        psi_plus, psi_minus = strain_energy_split(eps, lmbda, mu, p["split"], plane_strain)
        a = self.alpha
        g = (1.0 - a) ** 2 + p["k_res"]
        w = a if p["model"] == "AT1" else a**2
        dx = ufl.dx(domain=msh)
        self.energy = Energy(
            dx,
            elastic=g * psi_plus + psi_minus,
            dissipation=Gc / self.cw * w / ell,
            gradient=gradient_penalty(a, 2.0 * Gc * ell / self.cw),
        )

        # -- boundary conditions --------------------------------------------------------------------
        self.bcs_u, self.bcs_alpha = self._boundary_conditions()

        # -- solvers --------------------------------------------------------------------------------
        total = self.energy.form()
        F_u = ufl.derivative(total, self.u, ufl.TestFunction(self.V))
        F_a = ufl.derivative(total, self.alpha, ufl.TestFunction(self.A))
        # Without a split the u-problem is linear: one Newton step is the solution (ksponly).
        opts_u = {"snes_type": "ksponly"} if p["split"] == "none" else {}
        self.solver_u = NonlinearSolver(F_u, self.u, prefix="gpfem_displacement_", bcs=self.bcs_u,
                                        options=opts_u)
        if opts_u:  # ksponly has no line search: drop the default's option (PETSc warns at exit)
            PETSc.Options().delValue("gpfem_displacement_snes_linesearch_type")
        self.solver_alpha = NonlinearSolver(
            F_a, self.alpha, prefix="gpfem_damage_", bcs=self.bcs_alpha,
            bounds=(self.alpha_prev, self.alpha_ub),
            # The damage Hessian is a well-conditioned SPD operator (ell ~ h): CG + Jacobi to round-off is
            # cheaper than a new LU of each reduced (active-set) matrix, and far cheaper in parallel.
            options={"ksp_type": "cg", "pc_type": "jacobi", "ksp_rtol": 1e-12, "ksp_atol": 1e-14,
                     "ksp_max_it": 1000},
        )
        PETSc.Options().delValue("gpfem_damage_pc_factor_mat_solver_type")  # no LU for the damage
        self._F_u = fem.form(F_u)
        self._reaction_dir = self._reaction_indicator()
        self._values = self._measure()

    # -- setup helpers ---------------------------------------------------------------------------------
    def _boundary_conditions(self) -> tuple[list[Any], list[Any]]:
        p, b = self.p, self.bundle
        msh = b.mesh
        fdim = msh.topology.dim - 1
        bcs_u: list[Any] = []
        bcs_a: list[Any] = []
        if p["loading"] == "isotropic":
            facets = dmesh.exterior_facet_indices(msh.topology)
            self._u_bc = fem.Function(self.V)
            dofs = fem.locate_dofs_topological(self.V, fdim, facets)
            bcs_u.append(fem.dirichletbc(self._u_bc, dofs))
            self._loaded_facets = facets
            self._comp = 0
        else:
            comp = _COMPONENT[p["direction"]]
            if comp >= self.gdim:
                raise ParameterError("direction", f"'{p['direction']}' on a {self.gdim}D mesh")
            fixed, loaded = b.facets(p["fixed"]), b.facets(p["loaded"])
            nfix = self.comm.allreduce(len(fixed))
            nload = self.comm.allreduce(len(loaded))
            if nfix == 0 or nload == 0:
                raise MeshError(f"boundary groups '{p['fixed']}'/'{p['loaded']}' have no facets")
            dofs = fem.locate_dofs_topological(self.V, fdim, fixed)
            bcs_u.append(fem.dirichletbc(np.zeros(self.gdim), dofs, self.V))
            for i in range(self.gdim):
                Vi = self.V.sub(i)
                d = fem.locate_dofs_topological(Vi, fdim, loaded)
                value = self.load if i == comp else fem.Constant(msh, 0.0)
                bcs_u.append(fem.dirichletbc(value, d, Vi))
            self._loaded_facets = loaded
            self._comp = comp
            if p["damage_bc"]:
                for facets in (fixed, loaded):
                    d = fem.locate_dofs_topological(self.A, fdim, facets)
                    bcs_a.append(fem.dirichletbc(0.0, d, self.A))
        return bcs_u, bcs_a

    def _reaction_indicator(self) -> Any:
        """A vector that is 1 on the loaded dofs of the loaded component: reaction = residual . it."""
        fdim = self.bundle.mesh.topology.dim - 1
        ind = fem.Function(self.V)
        d = fem.locate_dofs_topological(self.V.sub(self._comp), fdim, self._loaded_facets)
        ind.x.array[d] = 1.0
        self._loaded_dofs = d
        return ind

    def set_load(self, value: float) -> None:
        """Impose the load (displacement, or strain for ``isotropic`` loading)."""
        self.load.value = value
        if self.p["loading"] == "isotropic":
            self._u_bc.interpolate(lambda x: value * x[: self.gdim])

    # -- measurements ----------------------------------------------------------------------------------
    def reaction_force(self) -> float:
        """Reaction on the loaded boundary in the load direction (consistent residual, all ranks)."""
        R = assemble_vector(self._F_u)
        R.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        val = R.dot(self._reaction_dir.x.petsc_vec)
        R.destroy()
        return float(val)

    def max_damage(self) -> float:
        """Largest damage value (PETSc global norm)."""
        return float(self.alpha.x.petsc_vec.max()[1])

    def _measure(self) -> dict[str, float]:
        v = self.energy.values()
        dissipated = v["dissipation"] + v["gradient"]
        return {"load": float(self.load.value), "reaction_force": self.reaction_force(),
                "elastic_energy": v["elastic"], "dissipated_energy": dissipated,
                "total_energy": v["elastic"] + dissipated, "max_damage": self.max_damage()}

    @property
    def values(self) -> dict[str, float]:
        """Load, reaction, energies and max damage of the last accepted state."""
        return dict(self._values)

    # -- alternate minimisation ------------------------------------------------------------------------
    def alternate_minimisation(self, max_increment: float | None = None) -> tuple[int, bool]:
        """Minimise in ``u`` and ``alpha`` in turn at the current load.

        Args:
            max_increment: If given, stop early (returning ``False``) as soon as the damage rose by more
                than this above ``alpha_prev`` anywhere: the caller refines the load step.

        Returns:
            ``(iterations, within_increment)``.

        Raises:
            ConvergenceError: After ``altmin_max_it`` iterations without convergence.
        """
        omega = self.p["relaxation"]
        delay = self.p["relaxation_after"]
        tol = self.p["altmin_tol"]
        a, a_it = self.alpha.x.petsc_vec, self.alpha_iter.x.petsc_vec
        lo, hi = self.alpha_prev.x.petsc_vec, self.alpha_ub.x.petsc_vec
        err = math.inf
        for k in range(1, self.p["altmin_max_it"] + 1):
            self.solver_u.solve()
            a.copy(a_it)
            self.solver_alpha.solve()
            # max-norm of the plain increment G(alpha_k) - alpha_k and the largest rise above alpha_prev,
            # in one reduction (fewer synchronisation points per iteration)
            new, it_ = a.getArray(readonly=True), a_it.getArray(readonly=True)
            lo_ = lo.getArray(readonly=True)
            local = np.array([np.max(np.abs(new - it_), initial=0.0),
                              np.max(new - lo_, initial=0.0)])
            glob = np.empty(2)
            self.comm.Allreduce(local, glob, op=_MPI_MAX())
            err, rise = float(glob[0]), float(glob[1])
            if max_increment is not None and rise > max_increment:
                return k, False
            if err < tol:
                return k, True
            if omega == 1.0 or k <= delay:
                continue
            # alpha <- P[alpha_k + omega (G(alpha_k) - alpha_k)], P: projection onto the bounds
            a.scale(omega)
            a.axpy(1.0 - omega, a_it)
            a.pointwiseMax(a, lo)
            a.pointwiseMin(a, hi)
            self.alpha.x.scatter_forward()
        raise ConvergenceError("gpfem_altmin_", iterations=self.p["altmin_max_it"],
                               detail=f"damage increment {err:.3g} > altmin_tol {tol:g}")

    # -- the Steppable protocol ------------------------------------------------------------------------
    def try_step(self, s: float, ds: float) -> StepResult:
        """Alternate minimisation at the load of pseudo-time ``s + ds``; reject where damage jumps."""
        self.set_load(self.path(s + ds))
        refine = ds > self.p["dload_min"] * (1.0 + 1e-9) and self.p["max_damage_increment"] < 1.0
        its, ok = self.alternate_minimisation(self.p["max_damage_increment"] if refine else None)
        if not ok:
            return StepResult(False, its, f"damage rose by more than {self.p['max_damage_increment']:g}")
        vals = self._measure()
        return StepResult(True, its, data={"alt_min_iterations": its, "_values": vals})

    def accept(self, s_new: float, ds: float, result: StepResult) -> None:
        """Commit: the damage becomes the new lower bound."""
        self._values = result.data.pop("_values")
        self.alpha.x.array[:] = np.minimum(self.alpha.x.array, 1.0)
        self.alpha_prev.x.array[:] = self.alpha.x.array
        self.u_prev.x.array[:] = self.u.x.array

    def reject(self) -> None:
        """Back to the last accepted state."""
        self.alpha.x.array[:] = self.alpha_prev.x.array
        self.u.x.array[:] = self.u_prev.x.array
        self.set_load(self._values["load"])

    # -- outputs ---------------------------------------------------------------------------------------
    def history_row(self) -> dict[str, Any]:
        """The ``history.csv`` row of the current state."""
        return {**self._values, "alt_min_iterations": 0}

    def output_functions(self) -> list[Any]:
        """``alpha`` and ``u`` (P1)."""
        return [self.alpha, self.u]

    def update_outputs(self) -> None:
        """Nothing to collapse: the fields are the unknowns."""

    def checkpoint_fields(self) -> dict[str, tuple[Any, int | None]]:
        """``u``, ``alpha`` and the bound ``alpha_prev``."""
        return {"u": (self.u, None), "alpha": (self.alpha, None), "alpha_prev": (self.alpha_prev, None)}

    def restarted(self) -> None:
        """Sync state and values after loading a checkpoint (the load is re-imposed by the next step)."""
        self.u_prev.x.array[:] = self.u.x.array
        if self.p["loading"] == "displacement":  # the imposed value, read back from the loaded dofs
            vals = self.u.x.array[self._loaded_dofs]
            local = float(vals[0]) if len(vals) else None
            self.set_load(next(v for v in self.comm.allgather(local) if v is not None))
        self._values = self._measure()

    def close(self) -> None:
        """Release the solver prefixes."""
        self.solver_u.close()
        self.solver_alpha.close()


def build_mesh(p: dict[str, Any], ctx: Any) -> MeshBundle:
    """The preset's geometry, or the user's mesh file."""
    if ctx.mesh_file is not None:
        return load_mesh(ctx.mesh_file, ctx.comm)
    if p["geometry"] == "strip":
        return rectangle(p["L"], p["H"], p["nx"], p["ny"], comm=ctx.comm)
    band = p["band"]
    if len(band) != 2 or not band[0] < band[1]:
        raise ParameterError("band", f"must be [lo, hi] with lo < hi, got {band}")
    return notched_plate(p["L"], p["notch_length"], p["notch_width"], p["h_fine"], p["h_coarse"],
                         band=(band[0] * p["L"], band[1] * p["L"]),
                         comm=ctx.comm)


def _check(p: dict[str, Any]) -> None:
    """Cross-parameter checks, before any mesh or form is built."""
    if not p["dload_min"] <= p["dload"] <= p["dload_max"]:
        raise ParameterError("dload", "need dload_min <= dload <= dload_max")
    path = p["load_path"] or [p["load_max"]]
    if LoadPath(path).s_end <= 0:
        raise ParameterError("load_max", "the load programme is empty (load_max = 0?)")


def run(p: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Run phase-field fracture with resolved parameters; return the summary's final values."""
    _check(p)
    t0 = time.perf_counter()
    bundle = build_mesh(p, ctx)
    h = mesh_size(bundle)
    if p["ell"] < 2.0 * h:
        ctx.log(f"warning: ell = {p['ell']:g} is smaller than about two elements (h = {h:.3g}): the "
                "crack is under-resolved and Gc is overestimated by about h/(c_w ell)")
    model = Fracture(p, bundle, ctx.log)
    ndofs_u = model.V.dofmap.index_map.size_global * model.V.dofmap.index_map_bs
    ndofs_a = model.A.dofmap.index_map.size_global
    ctx.log(f"fracture: {bundle.source}, {bundle.num_cells_global()} cells, {ndofs_u} u + {ndofs_a} "
            f"alpha DOFs, {p['model']}, split {p['split']}, {ctx.comm.size} rank(s); "
            f"setup {time.perf_counter() - t0:.1f} s")
    control = StepControl(dt=p["dload"], dt_min=p["dload_min"], dt_max=p["dload_max"],
                          grow=p["dload_grow"], easy_iterations=p["easy_iterations"], max_retries=60)
    settings = LoopSettings(t_end=model.path.s_end, max_steps=p["max_steps"],
                            stop_times=model.path.stops, field_interval=p["field_interval"],
                            checkpoint_interval=p["checkpoint_interval"],
                            output_format=p["output_format"])
    t1 = time.perf_counter()
    try:
        res = run_time_loop(model, control, settings, ctx, COLUMNS, restart=ctx.restart is not None)
    finally:
        model.close()
    wall = time.perf_counter() - t1
    summary = _summary(ctx.out_dir, ctx.comm, p, h)
    summary.update({
        "dofs_u": ndofs_u, "dofs_alpha": ndofs_a, "cells": bundle.num_cells_global(),
        "mesh": bundle.source, "h": h, "steps": res["steps"], "rejected_steps": res["rejected_steps"],
        "final_load": model.path(res["time"]), "field_file": res["field_file"],
        "loop_wall_time_s": wall,
    })
    if res["field_file"] and str(res["field_file"]).endswith(".pvd"):
        made = post(ctx.out_dir, ctx.comm, write_pngs=p["png"])
        summary.update(_crack_summary(ctx.out_dir, ctx.comm))
        summary["post_files"] = made
    return summary


def _summary(out: Path, comm: Any, p: dict[str, Any], h: float) -> dict[str, Any]:
    """Peak load, final energies and the energy-based crack length, from ``history.csv`` (rank 0)."""
    from gpfem.io.history import read_history

    data = None
    if comm.rank == 0:
        rows = read_history(Path(out) / "history.csv")
        f = [float(r["reaction_force"]) for r in rows]
        i = int(np.argmax(np.abs(f))) if f else 0
        last = rows[-1] if rows else {}
        cw = c_w(p["model"])
        diss = float(last.get("dissipated_energy", 0.0) or 0.0)
        gc_eff = p["Gc"] * (1.0 + h / (cw * p["ell"]))
        data = {
            "peak_force": f[i] if f else 0.0,
            "load_at_peak": float(rows[i]["load"]) if rows else 0.0,
            "final_dissipated_energy": diss,
            "final_elastic_energy": float(last.get("elastic_energy", 0.0) or 0.0),
            "max_damage": float(last.get("max_damage", 0.0) or 0.0),
            "alt_min_iterations_total": int(sum(int(float(r["alt_min_iterations"] or 0)) for r in rows)),
            "crack_length_energy": diss / p["Gc"],
            "crack_length_energy_corrected": diss / gc_eff,
            "Gc_eff": gc_eff,
        }
    return comm.bcast(data, root=0)


def _crack_summary(out: Path, comm: Any) -> dict[str, Any]:
    data = None
    if comm.rank == 0:
        f = Path(out) / "crack_path.json"
        if f.exists():
            import json

            data = json.loads(f.read_text())
    return comm.bcast(data or {}, root=0)


def post(out_dir: Any, comm: Any = None, write_pngs: bool = True) -> list[str]:
    """Crack path (VTP, CSV, JSON), damage PNG with the path, force-displacement PNG (rank 0 only).

    Reads only the run folder (``params.json``, ``history.csv``, the ``fields*.pvd`` series), so it works
    on a finished or a stopped run (``gpfem post RUN_DIR``).
    """
    import json

    from gpfem.io.crack_path import extract_crack_path
    from gpfem.io.history import read_history
    from gpfem.io.plots import field_png, line_plot

    out = Path(out_dir)
    made: list[str] = []
    if comm is not None:
        comm.barrier()
        if comm.rank != 0:
            return made
    params = json.loads((out / "params.json").read_text())["parameters"]
    pvds = sorted(out.glob("fields*.pvd"), key=lambda q: q.stat().st_mtime)
    if pvds:
        info, overlay = extract_crack_path(pvds[-1], "alpha", params.get("crack_level", 0.5), out)
        (out / "crack_path.json").write_text(json.dumps(info, indent=2))
        made += [v for k, v in info.items() if k.endswith("_file") and v] + ["crack_path.json"]
        if write_pngs:
            field_png(pvds[-1], "alpha", out / "damage.png", cmap="magma_r", clim=(0.0, 1.0),
                      title="damage alpha", overlay=overlay)
            made.append("damage.png")
    hist = out / "history.csv"
    if write_pngs and hist.exists():
        rows = read_history(hist)
        if rows:
            u = [float(r["load"]) for r in rows]
            f = [float(r["reaction_force"]) for r in rows]
            line_plot(u, {"gpfem": f}, out / "force_displacement.png", "imposed displacement",
                      "reaction force", title="force-displacement")
            made.append("force_displacement.png")
    return made
