r"""Phase-field brittle fracture: the model on a mesh — fields, boundary conditions, solvers, measures.

The energy is :func:`~gpfem.models.fracture_energy.phase_field_energy` (AT1/AT2, splits). Loads are imposed
displacements, so the external work is zero and the reaction force is the residual on the loaded dofs.
Boundary conditions come from the mesh's physical groups (parameters ``fixed``, ``loaded``, ``direction``,
``rollers``, ``roller_direction``, ``rollers_z``, ``loading``, ``damage_bc``) or from the caller as
plain DOLFINx ``DirichletBC`` s on their own Functions.

Solution: alternate minimisation (:class:`~gpfem.drivers.altmin.AlternateMinimisation`). ``u``-problem: SNES
``gpfem_displacement_`` (Newton; ``u_solver``: MUMPS, or CG + GAMG with the rigid-body modes as
near-nullspace and MUMPS as fallback, by size with ``auto``). ``alpha``-problem: SNES ``gpfem_damage_`` with
bounds ``alpha_prev <= alpha <= 1`` (``vinewtonrsls``): irreversibility without a history field.
Iterations stop when the max-norm of the damage change is below ``altmin_tol``; an over-relaxation
``relaxation`` of the damage update, projected onto the bounds, cuts the iterations of the step where the
crack runs.

Load stepping is :class:`~gpfem.drivers.quasistatic.QuasiStatic`: the pseudo-time is the cumulated imposed
displacement along ``load_path``, so the shared time loop gives adaptive increments, history, fields,
checkpoints and restart. A step whose damage rises by more than ``max_damage_increment`` is rejected while
the increment is above ``dload_min``: increments are refined where the crack runs, and the peak load is
resolved to ``dload_min``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem.petsc import assemble_vector
from petsc4py import PETSc

from gpfem.app.parameter_set import ParameterSet
from gpfem.base.errors import MeshError, ParameterError
from gpfem.drivers.altmin import AlternateMinimisation
from gpfem.drivers.anderson import AndersonMixing
from gpfem.drivers.hybrid import HybridMinimisation
from gpfem.drivers.quasistatic import LoadPath, QuasiStatic
from gpfem.drivers.stepping import StepResult
from gpfem.fe.constants import constants
from gpfem.fe.nullspace import RigidBodyModes
from gpfem.fe.solver import NonlinearSolver
from gpfem.fe.solver_defaults import DISPLACEMENT_KRYLOV_FROM
from gpfem.mesh import MeshBundle
from gpfem.models.fracture_crack import CRACK_COLUMNS, CrackTracker, crack_origin
from gpfem.models.fracture_energy import c_w, phase_field_energy
from gpfem.models.fracture_post import post as _post
from gpfem.models.fracture_spec import FractureParameters

__all__ = ["COLUMNS", "Fracture"]

COLUMNS = [
    "step", "load", "reaction_force", "elastic_energy", "dissipated_energy", "total_energy",
    "alt_min_iterations", "newton_iterations", "max_damage", *CRACK_COLUMNS,
]

_COMPONENT = {"x": 0, "y": 1, "z": 2}
#: ``u_solver`` -> global DOFs from which the displacement solve is CG + GAMG (auto: measured, by dimension).
_KRYLOV_FROM = {"auto": DISPLACEMENT_KRYLOV_FROM, "gamg": dict.fromkeys((2, 3), 0), "direct": {}}


class Fracture(QuasiStatic):
    """The phase-field fracture model on a mesh.

    Args:
        bundle: The mesh (with named boundary groups when the boundary conditions come from ``p``), or a
            plain ``dolfinx.mesh.Mesh`` (no groups: pass ``bcs_u``).
        p: The parameters: a :class:`~gpfem.models.fracture_spec.FractureParameters`, or a dict (validated
            into one; missing keys take their defaults). Kept as :attr:`p`.
        u: Your own displacement function (vector P1), or ``None`` to make one.
        alpha: Your own damage function (scalar P1), or ``None``.
        bcs_u: Your own ``DirichletBC`` s of the displacement (on ``u``'s space); ``None``: from the groups
            named by ``fixed``/``loaded``/``direction``/``rollers``/``loading`` in ``p``.
        bcs_alpha: ``DirichletBC`` s of the damage (default: none, or from ``damage_bc`` with group BCs).
        load: The ``fem.Constant`` your ``bcs_u`` impose (set to the load path's value at every step).
        reaction_dofs: Local indices into ``u.x.array`` whose residual sums to the reaction force (e.g.
            ``locate_dofs_topological(V.sub(1), fdim, facets)``); ``None`` with your own ``bcs_u``: the
            reaction force is not measured (NaN).
    """

    #: The history columns ``gpfem run fracture`` writes (``run_time_loop``'s ``columns``).
    COLUMNS: ClassVar[list[str]] = COLUMNS
    #: ``post(run_dir, comm=None, write_pngs=True) -> [file names]``: crack path, pictures and curves of a run
    #: folder, as ``gpfem post`` makes them.
    post = staticmethod(_post)

    def __init__(
        self,
        bundle: MeshBundle | dmesh.Mesh,
        p: ParameterSet | Mapping[str, Any],
        *,
        u: fem.Function | None = None,
        alpha: fem.Function | None = None,
        bcs_u: Sequence[fem.DirichletBC] | None = None,
        bcs_alpha: Sequence[fem.DirichletBC] | None = None,
        load: fem.Constant | None = None,
        reaction_dofs: np.ndarray | None = None,
    ):
        self.p = p = FractureParameters.of(p)
        self.bundle = bundle = MeshBundle.of(bundle)
        msh = bundle.mesh
        gdim = msh.geometry.dim
        self.gdim = gdim
        cell = msh.basix_cell()
        if u is None:
            V = fem.functionspace(msh, basix.ufl.element("Lagrange", cell, 1, shape=(gdim,)))
            u = fem.Function(V, name="u")
        if alpha is None:
            alpha = fem.Function(fem.functionspace(msh, basix.ufl.element("Lagrange", cell, 1)), name="alpha")
        self.u, self.alpha = u, alpha
        self.V, self.A = u.function_space, alpha.function_space
        self.alpha_prev = fem.Function(self.A, name="alpha_prev")  # last accepted: the lower bound
        self.alpha_ub = fem.Function(self.A)
        self.alpha_ub.x.array[:] = 1.0
        self.u_prev = fem.Function(self.V)
        self.load = load if load is not None else fem.Constant(msh, 0.0)
        self.cw = c_w(p["model"])

        # -- energy: every material parameter a fem.Constant ------------------------------------------
        names = ("E", "nu", "Gc", "ell", "k_res")
        self.constants = dict(zip(names, constants(msh, p, *names), strict=True))
        c = self.constants
        self.energy = phase_field_energy(
            self.u, self.alpha, c["E"], c["nu"], c["Gc"], c["ell"], c["k_res"], model=p["model"],
            split=p["split"], plane_stress=p["hypothesis"] == "plane_stress", dx=ufl.dx(domain=msh))

        # -- boundary conditions ----------------------------------------------------------------------
        self._u_bc: fem.Function | None = None
        if bcs_u is None:
            self.bcs_u, self.bcs_alpha, reaction_dofs = self._group_bcs()
        else:
            self.bcs_u, self.bcs_alpha = list(bcs_u), list(bcs_alpha or [])
        self._reaction_dofs = None if reaction_dofs is None else np.asarray(reaction_dofs, dtype=np.int32)

        # -- solvers ----------------------------------------------------------------------------------
        total = self.energy.form()
        F_u = ufl.derivative(total, self.u, ufl.TestFunction(self.V))
        F_a = ufl.derivative(total, self.alpha, ufl.TestFunction(self.A))
        # Without a split the u-problem is linear: one Newton step is the solution (ksponly).
        opts_u = {"snes_type": "ksponly"} if p["split"] == "none" else {}
        # u_solver: direct (MUMPS), gamg (CG + GAMG with the rigid-body modes, MUMPS fallback) or auto (gamg
        # from the measured size, gpfem.fe.solver_defaults.DISPLACEMENT_KRYLOV_FROM); the modes are made
        # where GAMG may run (also for a -gpfem_displacement_pc_type given on the command line)
        krylov_from = _KRYLOV_FROM[p.get("u_solver", "auto")].get(gdim, 2**62)
        ndofs_u = self.V.dofmap.index_map.size_global * self.V.dofmap.index_map_bs
        self.rigid_modes = RigidBodyModes(self.V) if gdim in (2, 3) and (
            ndofs_u >= krylov_from or PETSc.Options().hasName("gpfem_displacement_pc_type")) else None
        self.solver_u = NonlinearSolver(
            F_u, self.u, prefix="gpfem_displacement_", bcs=self.bcs_u, options=opts_u,
            near_nullspace=None if self.rigid_modes is None else self.rigid_modes.nullspace,
            krylov_from=krylov_from, symmetric=True)
        self.solver_alpha = NonlinearSolver(
            F_a, self.alpha, prefix="gpfem_damage_", bcs=self.bcs_alpha,
            bounds=(self.alpha_prev, self.alpha_ub),
            # The damage Hessian is a well-conditioned SPD operator (ell ~ h): CG + Jacobi to round-off is
            # cheaper than a new LU of each reduced (active-set) matrix, and far cheaper in parallel.
            options={"ksp_type": "cg", "pc_type": "jacobi", "ksp_rtol": 1e-12, "ksp_atol": 1e-14,
                     "ksp_max_it": 1000},
            # the damage energy is quadratic in alpha (degradation (1 - alpha)^2 + k_res, w = alpha or
            # alpha^2): its Hessian depends on u only (one assembly per solve) and its residual is affine
            # (after the first, F0 + J (alpha - alpha0): a matrix-vector product, no assembly)
            quadratic=True,
        )
        self.altmin = AlternateMinimisation(
            self.solver_u, self.solver_alpha, self.alpha, self.alpha_prev, self.alpha_ub,
            tol=p["altmin_tol"], max_iterations=p["altmin_max_it"], relaxation=p["relaxation"],
            relaxation_after=p["relaxation_after"],
            anderson=AndersonMixing(msh.comm, p["anderson_depth"]) if p["solver"] == "anderson" else None,
            u_one_step=p["solver"] == "anderson" and p["u_one_step"],
            u_reuse=p["u_reuse"] if p["solver"] == "anderson" else 1, u_reuse_below=p["u_reuse_below"])
        self.solver_coupled: NonlinearSolver | None = None
        self.hybrid: HybridMinimisation | None = None
        if p["solver"] == "hybrid":
            self._build_hybrid(F_u, F_a)
        self._newton_iterations = 0
        self._F_u = fem.form(F_u)
        if self._reaction_dofs is not None:
            self._reaction_dir = fem.Function(self.V)
            self._reaction_dir.x.array[self._reaction_dofs] = 1.0
        set_load = self._set_isotropic if self._u_bc is not None else self.load
        # crack centre line (length, tip) in every history row
        self.crack = CrackTracker(self.alpha, p["crack_level"], 2.0 * p["ell"],
                                  crack_origin(p, bundle.source), p["crack_grid"]) \
            if p.get("crack_track", True) else None
        super().__init__(
            LoadPath(p["load_path"] or [p["load_max"]]), set_load,
            states=[(self.alpha, self.alpha_prev), (self.u, self.u_prev)],
            energy=self.energy, iterations_key="alt_min_iterations", outputs=[self.alpha, self.u],
            checkpoint={"u": (self.u, None), "alpha": (self.alpha, None),
                        "alpha_prev": (self.alpha_prev, None)})
        self.prepare(0.0)

    def _build_hybrid(self, F_u: Any, F_a: Any) -> None:
        """``solver=hybrid``: alternate minimisation, then bounded Newton on ``[u, alpha]``.

        SNES ``gpfem_coupled_`` (MUMPS) in :class:`~gpfem.drivers.hybrid.HybridMinimisation`.
        """
        p, energy = self.p, self.energy
        assert energy is not None  # set in __init__ before the solvers
        u_lo, u_hi = fem.Function(self.V), fem.Function(self.V)
        u_lo.x.array[:] = PETSc.NINFINITY
        u_hi.x.array[:] = PETSc.INFINITY
        self._u_bounds = (u_lo, u_hi)
        # Jacobian of the coupled problem, its damage block shifted by mu Gc/ell M (M: damage mass matrix):
        # positive definite for mu large enough where the energy is not convex (HybridMinimisation sets mu)
        self.newton_shift = fem.Constant(self.bundle.mesh, 0.0)
        F = [F_u, F_a]
        J = [[ufl.derivative(Fi, w, ufl.TrialFunction(w.function_space)) for w in (self.u, self.alpha)]
             for Fi in F]
        k = self.constants
        J[1][1] = J[1][1] + self.newton_shift * k["Gc"] / k["ell"] * ufl.inner(
            ufl.TrialFunction(self.A), ufl.TestFunction(self.A)) * ufl.dx(domain=self.bundle.mesh)
        self.solver_coupled = NonlinearSolver(
            F, [self.u, self.alpha], prefix="gpfem_coupled_", bcs=self.bcs_u + self.bcs_alpha, J=J,
            bounds=([u_lo, self.alpha_prev], [u_hi, self.alpha_ub]),
            options={"snes_max_it": p["newton_max_it"], "snes_linesearch_type": "bt",
                     "snes_rtol": 1e-6, "snes_atol": 1e-9, "snes_stol": 1e-10},
            objective=energy.assemble)
        self.hybrid = HybridMinimisation(
            self.altmin, self.solver_coupled, [self.u, self.alpha], energy.assemble,
            altmin_first=p["newton_after"], shift=self.newton_shift, shift0=p["newton_shift"])

    # -- boundary conditions from the mesh's groups ----------------------------------------------------
    def _group_bcs(self) -> tuple[list[Any], list[Any], Any]:
        """``bcs_u``, ``bcs_alpha`` and the reaction dofs from the groups named in the parameters."""
        p, b = self.p, self.bundle
        msh = b.mesh
        fdim = msh.topology.dim - 1
        bcs_u: list[Any] = []
        bcs_a: list[Any] = []
        if p["loading"] == "isotropic":
            held = [n for n in ("rollers", "rollers_z") if str(p.get(n) or "").strip()]
            if held:
                raise ParameterError(held[0], "has no effect with loading=isotropic (u is imposed on the "
                                     "whole boundary)")
            facets = dmesh.exterior_facet_indices(msh.topology)
            self._u_bc = u_bc = fem.Function(self.V)
            dofs = fem.locate_dofs_topological(self.V, fdim, facets)
            bcs_u.append(fem.dirichletbc(u_bc, dofs))
            return bcs_u, bcs_a, fem.locate_dofs_topological(self.V.sub(0), fdim, facets)
        comp = _COMPONENT[p["direction"]]
        if comp >= self.gdim:
            raise ParameterError("direction", f"'{p['direction']}' on a {self.gdim}D mesh")
        fixed, loaded = b.facets(p["fixed"]), b.facets(p["loaded"])
        comm = msh.comm
        if comm.allreduce(len(fixed)) == 0 or comm.allreduce(len(loaded)) == 0:
            raise MeshError(f"boundary groups '{p['fixed']}'/'{p['loaded']}' have no facets")
        # rollers first: where a roller group meets the fixed or loaded group, their values win
        roller = _COMPONENT[p["roller_direction"]]
        if str(p.get("rollers") or "").strip() and roller >= self.gdim:
            raise ParameterError("roller_direction", f"'{p['roller_direction']}' on a {self.gdim}D mesh")
        bcs_u.extend(self._zero_component_bcs("rollers", roller))
        bcs_u.extend(self._zero_component_bcs("rollers_z", 2))
        dofs = fem.locate_dofs_topological(self.V, fdim, fixed)
        bcs_u.append(fem.dirichletbc(np.zeros(self.gdim), dofs, self.V))
        for i in range(self.gdim):
            Vi = self.V.sub(i)
            d = fem.locate_dofs_topological(Vi, fdim, loaded)
            value = self.load if i == comp else fem.Constant(msh, 0.0)
            bcs_u.append(fem.dirichletbc(value, d, Vi))
        if p["damage_bc"]:
            for facets in (fixed, loaded):
                d = fem.locate_dofs_topological(self.A, fdim, facets)
                bcs_a.append(fem.dirichletbc(0.0, d, self.A))
        return bcs_u, bcs_a, fem.locate_dofs_topological(self.V.sub(comp), fdim, loaded)

    def _zero_component_bcs(self, param: str, comp: int) -> list[Any]:
        """``u[comp] = 0`` on each boundary group named (comma-separated) by parameter ``param``.

        Raises:
            ParameterError: ``param`` names a group the mesh does not have or one without facets, or the
                mesh has no component ``comp``.
        """
        b = self.bundle
        names = [n.strip() for n in str(self.p.get(param) or "").split(",") if n.strip()]
        if not names:
            return []
        if comp >= self.gdim:
            raise ParameterError(param, f"holds component {'xyz'[comp]} at 0, but the mesh is {self.gdim}D")
        fdim = b.mesh.topology.dim - 1
        Vi = self.V.sub(comp)
        bcs = []
        for name in names:
            try:
                facets = b.facets(name)
            except MeshError as e:
                raise ParameterError(param, str(e)) from None
            if b.comm.allreduce(len(facets)) == 0:
                raise ParameterError(param, f"boundary group '{name}' has no facets")
            dofs = fem.locate_dofs_topological(Vi, fdim, facets)
            bcs.append(fem.dirichletbc(fem.Constant(b.mesh, 0.0), dofs, Vi))
        return bcs

    def _set_isotropic(self, value: float) -> None:
        """``loading=isotropic``: u = value * x on the whole boundary."""
        self.load.value = value  # type: ignore[assignment]  # (the stub types the setter as an array only)
        assert self._u_bc is not None  # set by _group_bcs for loading=isotropic
        self._u_bc.interpolate(lambda x: value * x[: self.gdim])

    # -- measurements ----------------------------------------------------------------------------------
    def reaction_force(self) -> float:
        """Reaction on the loaded dofs (consistent residual, summed over ranks); NaN if none were named."""
        if self._reaction_dofs is None:
            return float("nan")
        R = assemble_vector(self._F_u)
        R.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)  # type: ignore[arg-type]
        val = R.dot(self._reaction_dir.x.petsc_vec)
        R.destroy()
        return float(val.real)

    def max_damage(self) -> float:
        """Largest damage value (PETSc global norm)."""
        return float(self.alpha.x.petsc_vec.max()[1])

    def measure(self) -> dict[str, float]:
        """Load, reaction force, elastic/dissipated/total energy, the largest damage, crack length and tip."""
        assert self.energy is not None
        v = self.energy.values()
        dissipated = v["dissipation"] + v["gradient"]
        crack = self.crack.measure(self.alpha) if self.crack is not None else {}
        return {"load": self.load_value, "reaction_force": self.reaction_force(),
                "elastic_energy": v["elastic"], "dissipated_energy": dissipated,
                "total_energy": v["elastic"] + dissipated, "max_damage": self.max_damage(), **crack}

    # -- the load step -----------------------------------------------------------------------------------
    def solve(self, s: float, ds: float) -> tuple[int, str | None]:
        """Solve at the load already set (``solver``); reject where the damage jumps.

        Returns the nonlinear iterations of both kinds (they drive the increment) and why the step is
        rejected, or ``None``.
        """
        limit = self.p["max_damage_increment"]
        refine = ds > self.p["dload_min"] * (1.0 + 1e-9) and limit < 1.0
        if self.hybrid is None:
            its, ok = self.altmin.run(limit if refine else None)
            self._alt_min_iterations, self._newton_iterations = its, 0
        else:
            r = self.hybrid.run(limit if refine else None)
            its, ok = r.iterations, r.within_increment
            self._alt_min_iterations, self._newton_iterations = r.alt_min_iterations, r.newton_iterations
        return its, None if ok else f"damage rose by more than {limit:g}"

    def try_step(self, s: float, ds: float) -> StepResult:
        """The load step; its history row counts alternate minimisations and Newton iterations apart."""
        res = super().try_step(s, ds)
        if res.ok:
            res.data.update(alt_min_iterations=self._alt_min_iterations,
                            newton_iterations=self._newton_iterations)
            target = self.p["damage_increment_target"] * self.p["max_damage_increment"]
            if target > 0.0:
                # the damage rise of the step (reduced over ranks) sets the next increment
                rise = max(self.altmin.rise(), 1e-12)
                res.dt_next = ds * min(max(target / rise, 0.5), self.p["dload_grow"])
        return res

    def history_row(self) -> dict[str, Any]:
        """The measures of the current state, and 0 iterations (for a state not from a step)."""
        return {**super().history_row(), "newton_iterations": 0}

    def accept(self, s_new: float, ds: float, result: StepResult) -> None:
        """Commit: the damage (clipped to 1) becomes the new lower bound."""
        self.alpha.x.array[:] = np.minimum(self.alpha.x.array, 1.0)
        super().accept(s_new, ds, result)

    def solver_counts(self) -> dict[str, dict[str, int]]:
        """Solves, Newton and Krylov iterations of each SNES so far, by prefix (the same on every rank)."""
        solvers = [self.solver_u, self.solver_alpha, self.solver_coupled]
        return {s.prefix: dict(s.counts) for s in solvers if s is not None}

    def close(self) -> None:
        """Destroy the solvers' PETSc objects (collective: call on every rank, e.g. in ``finally``)."""
        self.solver_u.close()
        self.solver_alpha.close()
        if self.solver_coupled is not None:
            self.solver_coupled.close()
        if self.rigid_modes is not None:
            self.rigid_modes.destroy()
