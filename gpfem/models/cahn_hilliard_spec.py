"""Cahn-Hilliard: parameters and presets (cheap to import: no DOLFINx)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gpfem.app.parameters import Parameter
from gpfem.app.periodic_axes import periodic_axes, periodic_parameter
from gpfem.app.registry import Spec, register
from gpfem.app.run_parameters import AMR_PARAMETERS, OUTPUT_PARAMETERS, TIME_PARAMETERS, time_problems
from gpfem.app.size_check import SizeEstimate

__all__ = ["PARAMETERS", "PRESETS", "SPEC", "check", "estimate_size"]

PARAMETERS = [
    Parameter("rho_s", 5.0, "double-well height rho_s in f = rho_s (c - c_alpha)^2 (c_beta - c)^2",
              positive=True),
    Parameter("c_alpha", 0.3, "first well (composition of phase alpha)"),
    Parameter("c_beta", 0.7, "second well (composition of phase beta)"),
    Parameter("kappa", 2.0, "gradient-penalty coefficient: energy (kappa/2)|grad c|^2", positive=True),
    Parameter("mobility", 5.0, "mobility M in dc/dt = div(M grad mu)", positive=True),
    Parameter("initial", "pfhub1", "initial condition: pfhub1 (PFHub 1a-1c, in x and y) | pfhub1d (PFHub "
              "1d, in the polar and azimuthal angles) | random | cosine",
              choices=("pfhub1", "pfhub1d", "random", "cosine")),
    Parameter("c0", 0.5, "mean composition of the initial condition"),
    Parameter("epsilon", 0.01, "amplitude of the initial perturbation", nonnegative=True),
    Parameter("wavenumber", 0.3, "k of the 'cosine' initial condition c0 + epsilon cos(k x)",
              positive=True),
    Parameter("seed", 0, "random seed of the 'random' initial condition", nonnegative=True),
    Parameter("geometry", "rectangle", "built-in domain: rectangle (Lx x Ly, nx x ny elements) | tshape "
              "(PFHub 1c's T: stem [0,20]x[0,100], bar [-40,60]x[100,120]) | sphere (the surface of a "
              "sphere of the given radius, PFHub 1d); tshape and sphere: triangles of size h",
              choices=("rectangle", "tshape", "sphere")),
    Parameter("h", 1.0, "element size of the built-in T-shape and sphere surface", positive=True),
    Parameter("radius", 100.0, "radius of the built-in sphere surface (geometry=sphere)", positive=True),
    Parameter("Lx", 200.0, "domain length in x (built-in rectangle)", positive=True),
    Parameter("Ly", 200.0, "domain length in y (built-in rectangle)", positive=True),
    Parameter("nx", 200, "elements in x (built-in rectangle)", positive=True),
    Parameter("ny", 200, "elements in y (built-in rectangle)", positive=True),
    periodic_parameter(),
    Parameter("theta", 0.5, "time-stepping theta: 0.5 Crank-Nicolson, 1 backward Euler",
              bounds=(0.5, 1.0)),
    Parameter("energy_check", True, "reject (and cut) a step that increases the free energy"),
    Parameter("dt_policy", "newton", "time-step rule: newton (grow after easy Newton solves) | energy "
              "(dt = dt_max / sqrt(1 + dt_alpha |dF/dt|^2), Qiao-Zhang-Tang)", choices=("newton", "energy")),
    Parameter("dt_alpha", 1e3, "dt_policy=energy: sensitivity alpha to the free-energy rate", positive=True),
    *TIME_PARAMETERS,
    *OUTPUT_PARAMETERS,
    # -- adaptive mesh refinement (docs/amr.md) ------------------------------------------------------
    *AMR_PARAMETERS,
    Parameter("amr_theta", 0.1, "amr: a cell is on an interface when its normalised composition "
              "(c - c_alpha)/(c_beta - c_alpha) spans a value in [amr_theta, 1 - amr_theta]",
              bounds=(0.0, 0.5), open_bounds=True),
    Parameter("amr_interval", 1, "amr: check the mesh every this many accepted steps", positive=True),
    Parameter("amr_coarsen_fraction", 0.2, "amr: rebuild when this fraction of the refined cells is no "
              "longer on an interface or its buffer", bounds=(0.0, 1.0)),
]

_PFHUB_TIMES = [1.0, 10.0, 100.0, 1000.0, 3000.0, 10000.0]
# PFHub benchmark 1 (a: periodic square, b: no-flux square, c: T-shape): physics and initial condition
# are the parameter defaults; these are the run controls shared by the three.
_PFHUB = dict(t_end=10000.0, dt=0.05, dt_max=200.0, easy_iterations=5, stop_times=_PFHUB_TIMES,
              field_interval=0, checkpoint_interval=100)

PRESETS = {
    "demo": dict(Lx=100.0, Ly=100.0, nx=100, ny=100, t_end=300.0, dt=0.05, dt_max=4.0,
                 stop_times=[1.0, 10.0, 100.0], field_interval=10, checkpoint_interval=50),
    "pfhub-1a": dict(_PFHUB, periodic="x,y"),
    "pfhub-1b": dict(_PFHUB),
    "pfhub-1c": dict(_PFHUB, geometry="tshape", h=1.0),
    "pfhub-1d": dict(_PFHUB, geometry="sphere", radius=100.0, h=1.0, initial="pfhub1d", epsilon=0.05),
    "spinodal": dict(initial="random", c0=0.5, epsilon=0.05, Lx=100.0, Ly=100.0, nx=100, ny=100,
                     t_end=500.0, dt=0.01, dt_max=5.0, field_interval=10),
    "ci": dict(Lx=40.0, Ly=40.0, nx=24, ny=24, t_end=20.0, dt=0.05, dt_max=2.0,
               stop_times=[1.0, 10.0], field_interval=5, checkpoint_interval=10),
}
# PFHub 1b (no-flux square, the pfhub-1b preset) from a 50 x 50 base mesh (h = 4), interfaces
# refined twice (h = 1, the uniform preset's size).
PRESETS["pfhub-1b-amr"] = dict(PRESETS["pfhub-1b"], nx=50, ny=50, amr=True, amr_max_levels=2)
# Tests: one cosine period on a 10 x 10 base (h = 4), two levels; the wave sharpens into two interfaces and
# the bulk between them is coarsened again.
PRESETS["ci-amr"] = dict(PRESETS["ci"], nx=10, ny=10, amr=True, amr_max_levels=2, initial="cosine",
                         wavenumber=0.15707963267948966, epsilon=0.2, t_end=40.0, field_interval=2,
                         checkpoint_interval=5)

PRESET_HELP = {
    "demo": "PFHub 1 physics and initial condition on a 100x100 square to t = 300 (20,402 DOFs: minutes)",
    "pfhub-1a": "PFHub benchmark 1a: 200x200 square, periodic in x and y, to t = 10,000",
    "pfhub-1b": "PFHub benchmark 1b: 200x200 square, no-flux, to t = 10,000",
    "pfhub-1c": "PFHub benchmark 1c: T-shape (100 wide, 120 high, bar and stem 20), no-flux, h = 1, "
                "to t = 10,000",
    "pfhub-1d": "PFHub benchmark 1d: surface of a sphere of radius 100, h = 1 (about 300,000 DOFs), "
                "to t = 10,000",
    "spinodal": "random perturbation of c0 = 0.5 on a 100x100 square",
    "ci": "tiny run for tests",
    "pfhub-1b-amr": "pfhub-1b on an adapted mesh: 50x50 base, interfaces refined to h = 1",
    "ci-amr": "tiny adaptive run for tests",
}

#: Area of the built-in T-shape (stem 20 x 100, bar 100 x 20).
_T_AREA = 4000.0
#: Peak bytes per DOF above BASE_BYTES, 1 rank (mesh, P1^2 space, Jacobian, GMRES + ASM/ILU(1) above 2,000
#: DOFs), two steps of the ci preset: 0.6 kB at 80,802 DOFs (nx = 200), 1.0 kB at 321,602 (nx = 400).
_BYTES_PER_DOF = 1200.0


def check(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Checks across parameters that need no mesh (run by ``resolve``, before anything is built)."""
    problems = time_problems(p)
    if p["c_alpha"] == p["c_beta"]:
        problems.append(("c_beta", f"must differ from c_alpha ({p['c_alpha']:g}): the wells coincide"))
    if p["amr"] and periodic_axes(p["periodic"], 3):
        problems.append(("amr", f"adaptive refinement does not support periodic boundaries (periodic = "
                                f"{p['periodic']!r}); set amr = false or periodic = none"))
    if p["amr"] and p["geometry"] == "sphere":
        problems.append(("amr", "adaptive refinement does not support the sphere surface (a manifold "
                                "mesh); set amr = false or geometry = rectangle"))
    return problems


def estimate_size(p: Mapping[str, Any]) -> SizeEstimate:
    """Cells and DOFs of the built-in mesh (2 DOFs per vertex: c and mu).

    Rectangle: exact (``2 nx ny`` triangles). T-shape and sphere: unstructured triangles of size ``h``,
    counted as area / (sqrt(3)/4 h^2) with half as many vertices; approximate, within a factor of about 2.
    An adaptive run counts ``amr_max_dofs`` when that is larger (the base mesh otherwise).
    """
    if p["geometry"] == "rectangle":
        cells = 2.0 * p["nx"] * p["ny"]
        vertices = (p["nx"] + 1.0) * (p["ny"] + 1.0)
        name = "nx"
    else:
        area = _T_AREA if p["geometry"] == "tshape" else 4.0 * math.pi * p["radius"] ** 2
        cells = area / (math.sqrt(3.0) / 4.0 * p["h"] ** 2)
        vertices = cells / 2.0
        name = "h"
    dofs = 2.0 * vertices
    if p["amr"] and p["amr_max_dofs"] > dofs:
        dofs, name = float(p["amr_max_dofs"]), "amr_max_dofs"
    return SizeEstimate(name, cells, dofs, _BYTES_PER_DOF)


SPEC = register(
    Spec(
        name="cahn-hilliard",
        description="Cahn-Hilliard spinodal decomposition (PFHub benchmark 1)",
        parameters=PARAMETERS,
        presets=PRESETS,
        hooks="gpfem.models.cahn_hilliard_run:HOOKS",
        post="gpfem.models.cahn_hilliard_post:post",
        preset_help=PRESET_HELP,
        mesh_parameters=("geometry", "h", "radius", "Lx", "Ly", "nx", "ny"),
        preset_aliases={"pfhub-bm1a": "pfhub-1b"},
        check=check,
        estimate=estimate_size,
    )
)

#: The parameters from Python: a frozen dataclass checked as ``gpfem run`` checks them, e.g.
#: ``CahnHilliardParameters.from_preset("ci", kappa=1.0)``; ``params.replace(...)`` makes a changed copy.
CahnHilliardParameters = SPEC.parameters_class("CahnHilliardParameters", __name__)
__all__ += ["CahnHilliardParameters"]
