r"""Cahn-Hilliard phase separation as a gradient-penalty energy.

Free energy

.. math:: F[c] = \int_\Omega f(c) + \frac{\kappa}{2}|\nabla c|^2 \,dx, \qquad
          f(c) = \rho_s (c - c_\alpha)^2 (c_\beta - c)^2,

and conserved gradient flow :math:`\partial_t c = \nabla\cdot(M \nabla\mu)`, :math:`\mu = \delta F/\delta c`.
Mixed P1 x P1 formulation in :math:`(c, \mu)`: the chemical-potential equation is the first variation of
``F`` (``ufl.derivative``), never expanded by hand; theta time stepping (Crank-Nicolson by default) on the
adaptive stepper. ``periodic`` axes (:mod:`gpfem.fe.periodic`) identify opposite sides of the domain;
the initial state is made periodic (slaves take their master's value) and mu is projected on the
periodic space.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import dolfinx_solver  # noqa: F401  (loads libmpi before dolfinx/petsc4py)

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem

from gpfem.app.parameter_set import ParameterSet
from gpfem.app.periodic_axes import periodic_axes
from gpfem.drivers.gradient_flow import GradientFlow
from gpfem.fe.constants import constants
from gpfem.fe.energy import Energy, double_well, gradient_penalty
from gpfem.fe.periodic import PeriodicMap
from gpfem.fe.solver import NonlinearSolver
from gpfem.mesh import MeshBundle
from gpfem.mesh.vertices import vertex_random
from gpfem.models.cahn_hilliard_post import post as _post
from gpfem.models.cahn_hilliard_spec import CahnHilliardParameters

if TYPE_CHECKING:
    from dolfinx import mesh as dmesh

__all__ = ["COLUMNS", "INIT_OPTIONS", "CahnHilliard", "initial_condition"]

COLUMNS = [
    "step", "time", "dt", "free_energy", "bulk_energy", "gradient_energy", "mass",
    "newton_iterations",
]

#: The initial chemical-potential projection (prefix ``gpfem_ch_init_``).
INIT_OPTIONS = {"ksp_type": "cg", "pc_type": "jacobi", "ksp_rtol": 1e-12, "ksp_atol": 1e-30,
                "ksp_max_it": 2000}


def _pfhub1d(x: np.ndarray) -> np.ndarray:
    """PFHub 1d's perturbation in theta = arccos(z/r) and phi = arctan(y/x).

    phi lies in [-pi/2, pi/2], as PFHub's own figure computes it (``np.arctan(y / x)``); 0 on the z axis.
    """
    r = np.sqrt(x[0] ** 2 + x[1] ** 2 + x[2] ** 2)
    theta = np.arccos(np.clip(x[2] / np.where(r > 0, r, 1.0), -1.0, 1.0))
    phi = np.arctan2(x[1], x[0])
    phi = np.where(phi > np.pi / 2, phi - np.pi, np.where(phi < -np.pi / 2, phi + np.pi, phi))
    return (np.cos(8 * theta) * np.cos(15 * phi) + (np.cos(12 * theta) * np.cos(10 * phi)) ** 2
            + np.cos(2.5 * theta - 1.5 * phi) * np.cos(7 * theta - 2 * phi))


def initial_condition(p: Mapping[str, Any], V: Any) -> Any:
    """The initial composition as a function of coordinates (or of vertex input indices for noise).

    ``pfhub1``: PFHub benchmark 1's ``c0 + eps [cos(0.105x)cos(0.11y) + (cos(0.13x)cos(0.087y))^2
    + cos(0.025x - 0.15y)cos(0.07x - 0.02y)]``; ``pfhub1d``: PFHub 1d's ``c0 + eps [cos(8 theta)cos(15 phi)
    + (cos(12 theta)cos(10 phi))^2 + cos(2.5 theta - 1.5 phi)cos(7 theta - 2 phi)]`` on a sphere;
    ``cosine``: ``c0 + eps cos(k x)``; ``random``:
    ``c0 + eps (1 - 2r)`` with r uniform per mesh vertex, seeded and independent of the partition.
    """
    c0, eps = p["c0"], p["epsilon"]
    f = fem.Function(V)
    kind = p["initial"]
    if kind == "pfhub1":
        f.interpolate(lambda x: c0 + eps * (
            np.cos(0.105 * x[0]) * np.cos(0.11 * x[1])
            + (np.cos(0.13 * x[0]) * np.cos(0.087 * x[1])) ** 2
            + np.cos(0.025 * x[0] - 0.15 * x[1]) * np.cos(0.07 * x[0] - 0.02 * x[1])))
    elif kind == "pfhub1d":
        f.interpolate(lambda x: c0 + eps * _pfhub1d(x))
    elif kind == "cosine":
        k = p["wavenumber"]
        f.interpolate(lambda x: c0 + eps * np.cos(k * x[0]))
    else:
        r = vertex_random(V, np.random.default_rng(p["seed"]))[0]
        f.x.array[:] = c0 + eps * (1.0 - 2.0 * r)
    f.x.scatter_forward()
    return f


class CahnHilliard(GradientFlow):
    """The Cahn-Hilliard model on a mesh: a :class:`~gpfem.drivers.gradient_flow.GradientFlow`.

    Every parameter that enters a form (``rho_s``, ``c_alpha``, ``c_beta``, ``kappa``, ``mobility``,
    ``theta``) is a ``fem.Constant`` (:attr:`constants`): a new value compiles no new form.

    Args:
        bundle: The mesh: a :class:`~gpfem.mesh.MeshBundle` or a plain ``dolfinx.mesh.Mesh``.
        p: The parameters: a :class:`~gpfem.models.cahn_hilliard_spec.CahnHilliardParameters`, or a dict
            (validated into one; missing keys take their defaults). Kept as :attr:`p`.
        initial: ``initial(V) -> c`` (a Function on the composition space ``V``); ``None``: the initial
            condition of the parameters. Mesh adaptation passes the composition moved from the old mesh.
        solver_options: PETSc options of the ``gpfem_ch_`` solver (without prefix) over its defaults.
    """

    #: The history columns ``gpfem run cahn-hilliard`` writes (``run_time_loop``'s ``columns``).
    COLUMNS: ClassVar[list[str]] = COLUMNS
    #: ``post(run_dir, comm=None) -> [png names]``: the pictures of a run folder, as ``gpfem post`` makes
    #: them.
    post = staticmethod(_post)

    def __init__(self, bundle: MeshBundle | dmesh.Mesh, p: ParameterSet | Mapping[str, Any],
                 initial: Callable[[fem.FunctionSpace], fem.Function] | None = None,
                 solver_options: Mapping[str, object] | None = None):
        self.p = p = CahnHilliardParameters.of(p)
        self.bundle = bundle = MeshBundle.of(bundle)
        mesh = bundle.mesh
        P1 = basix.ufl.element("Lagrange", mesh.basix_cell(), 1)
        self.W = fem.functionspace(mesh, basix.ufl.blocked_element(P1, shape=(2,)))
        axes = periodic_axes(p["periodic"], mesh.geometry.dim)
        self.periodic = PeriodicMap(self.W, axes) if axes else None
        self.V, self._map_c = self.W.sub(0).collapse()
        _, self._map_mu = self.W.sub(1).collapse()
        self.u = fem.Function(self.W, name="u")
        self.u_n = fem.Function(self.W, name="u_n")
        dt = fem.Constant(mesh, 1.0)
        names = ("rho_s", "c_alpha", "c_beta", "kappa", "mobility", "theta")
        self.constants = dict(zip(names, constants(mesh, p, *names), strict=True))
        rho, ca, cb, kappa, M, theta = self.constants.values()

        c, mu = ufl.split(self.u)
        c_n, mu_n = ufl.split(self.u_n)
        q, v = ufl.TestFunctions(self.W)
        dx = ufl.dx(domain=mesh)
        self.energy = Energy(dx, bulk=double_well(c, rho, ca, cb), gradient=gradient_penalty(c, kappa))
        mu_mid = (1.0 - theta) * mu_n + theta * mu
        # dF/dc in the direction v: the chemical-potential equation, by ufl.derivative.
        dF_dc = ufl.derivative(self.energy.form(), self.u, ufl.as_vector([v, 0]))
        residual = (
            (c - c_n) / dt * q * dx
            + M * ufl.inner(ufl.grad(mu_mid), ufl.grad(q)) * dx
            + mu * v * dx
            - dF_dc
        )
        # BAIJ: 2x2 blocks per vertex, half the assembly time of AIJ (AIJ where periodic: PtAP needs it)
        solver = NonlinearSolver(residual, self.u, prefix="gpfem_ch_", options=solver_options,
                                 mat_type="baij", constraint=self.periodic)
        super().__init__(solver, self.u, self.u_n, dt, self.energy, energy_key="free_energy",
                         energy_tol=1e-9, check_energy=bool(p["energy_check"]),
                         outputs={"c": 0, "mu": 1}, checkpoint={"c": (self.u, 0), "mu": (self.u, 1)})
        self._mass = fem.form(c * dx)
        self.set_initial(initial_condition(p, self.V) if initial is None else initial(self.V))

    # -- state -----------------------------------------------------------------------------------
    def set_initial(self, c_init: Any) -> None:
        """Set c and the consistent mu = f'(c) - kappa lap c (an L2 projection of dF/dc).

        With periodic axes, c is first made periodic (each slave takes its master's value) and mu is the
        projection on the periodic space.
        """
        c = fem.Function(self.V)
        c.x.array[:] = c_init.x.array
        k = self.constants
        E = Energy(ufl.dx(domain=self.V.mesh),
                   bulk=double_well(c, k["rho_s"], k["c_alpha"], k["c_beta"]),
                   gradient=gradient_penalty(c, k["kappa"]))
        # A mass-matrix solve: CG + Jacobi to 1e-12 exists in every PETSc (no MUMPS needed) and is cheap: the
        # P1 mass matrix scaled by its diagonal has a condition number bounded independently of h (graded
        # adapted meshes included), where a MUMPS factorisation took 1.6 s at 41,000 DOFs (measured; every
        # mesh adaptation does this projection). -gpfem_ch_init_* options on the command line win over these.
        # One linear solve (ksponly) of the solver layer: its reasons on failure, periodic spaces included.
        v = ufl.TestFunction(self.V)
        Vmap = None
        if self.periodic is not None:
            Vmap = PeriodicMap(self.V, self.periodic.axes)
            Vmap.enforce(c)
        mu_h = fem.Function(self.V)
        proj = NonlinearSolver(mu_h * v * ufl.dx - E.residual(c, v), mu_h, prefix="gpfem_ch_init_",
                               options={"snes_type": "ksponly", **INIT_OPTIONS}, constraint=Vmap)
        try:
            proj.solve()
        finally:
            proj.close()
        self.u.x.array[self._map_c] = c.x.array
        self.u.x.array[self._map_mu] = mu_h.x.array
        self.u.x.scatter_forward()
        self.prepare(0.0)

    def measure(self) -> dict[str, float]:
        """Free energy, its bulk and gradient parts, and the mass (reduced over ranks)."""
        assert self.energy is not None
        vals = self.energy.values()
        mass = self.comm.allreduce(fem.assemble_scalar(self._mass))
        return {"free_energy": vals["total"], "bulk_energy": vals["bulk"],
                "gradient_energy": vals["gradient"], "mass": float(mass)}

    def propose_dt(self, new: float, old: float, dt: float) -> float | None:
        """``dt_policy=energy``: dt_max / sqrt(1 + alpha |dF/dt|^2) (else the iteration rule)."""
        if self.p["dt_policy"] != "energy":
            return None
        rate = (new - old) / dt
        return self.p["dt_max"] / (1.0 + self.p["dt_alpha"] * rate**2) ** 0.5

    @property
    def c_out(self) -> Any:
        """The P1 output function ``c`` (refreshed by :meth:`update_outputs`)."""
        return self.output_functions()[0]

    @property
    def mu_out(self) -> Any:
        """The P1 output function ``mu``."""
        return self.output_functions()[1]
