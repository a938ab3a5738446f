"""Ginzburg-Landau martensite: parameters and presets (cheap to import: no DOLFINx).

Formulas the names refer to (see :mod:`gpfem.models.martensite` and ``docs/martensite.md``)::

    F = int  f_landau(eta) + sum_p (kappa/2)|grad eta_p|^2 + (1/2)(eps(u) - eps_t) : C : (eps(u) - eps_t)
    234:         f = A2/2 sum eta_p^2 + A3/3 sum eta_p^3 + A4/4 (sum eta_p^2)^2
    246:         f = sum [A2/2 eta_p^2 + A4/4 eta_p^4 + A6/6 eta_p^6] + coupling/2 sum_{p<q} eta_p^2 eta_q^2
    double-well: f = W sum eta_p^2 (1 - eta_p)^2 + coupling/2 sum_{p<q} eta_p^2 eta_q^2
    A2(T) = A2 + alpha_T (temperature - T0)
    eps_t = sum_p phi(eta_p) eps_p^00,  phi(eta) = eta (linear) or eta^2 (quadratic)
    eps_p^00 = bain_axial along axis p, bain_transverse along the other axes
    d eta_p / dt = -mobility dF/d eta_p,   div sigma = 0 (monolithic, every step)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpfem.app.parameters import Parameter, raise_first
from gpfem.app.periodic_axes import periodic_axes, periodic_parameter
from gpfem.app.registry import Spec, register
from gpfem.app.run_parameters import OUTPUT_PARAMETERS, TIME_PARAMETERS, time_problems
from gpfem.app.size_check import SizeEstimate

__all__ = ["PARAMETERS", "PRESETS", "PRESET_HELP", "SIDES", "SPEC", "check", "check_consistency",
           "clamped_sides", "estimate_size"]


SIDES = ("left", "right", "bottom", "top", "back", "front")


def clamped_sides(value: str, gdim: int, periodic: tuple[int, ...] = ()) -> list[str]:
    """The sides named by ``clamped`` (``all`` or a comma-separated list of side names).

    ``all`` means every side of an axis that is not ``periodic`` (axis indices); the result may be empty.
    """
    names = [s.strip() for s in value.split(",") if s.strip()]
    if "all" in names:
        return [s for i, s in enumerate(SIDES[: 2 * gdim]) if i // 2 not in periodic]
    return names


def _sides(v: Any) -> str | None:
    names = [s.strip() for s in str(v).split(",") if s.strip()]
    bad = [s for s in names if s not in ("all", *SIDES)]
    if not names:
        return "name at least one side (a free body has rigid-body modes)"
    return f"unknown side(s) {bad}; use all or {', '.join(SIDES)}" if bad else None


PARAMETERS = [
    # -- Landau polynomial ------------------------------------------------------------------------
    Parameter("landau", "234", "Landau polynomial: 234 | 246 | double-well",
              choices=("234", "246", "double-well")),
    Parameter("A2", 0.2, "quadratic Landau coefficient at temperature = T0"),
    Parameter("A3", -12.6, "cubic Landau coefficient (234)"),
    Parameter("A4", 12.4, "quartic Landau coefficient (234, 246)"),
    Parameter("A6", 1.0, "sextic Landau coefficient (246)", positive=True),
    Parameter("W", 1.0, "double-well height W in W eta^2 (1 - eta)^2", positive=True),
    Parameter("coupling", 10.0, "cross term coupling/2 sum_{p<q} eta_p^2 eta_q^2 (246, double-well): "
              "large enough that variants exclude each other", nonnegative=True),
    Parameter("temperature", 0.0, "temperature T in A2(T) = A2 + alpha_T (T - T0)"),
    Parameter("T0", 0.0, "reference temperature of A2"),
    Parameter("alpha_T", 0.1, "dA2/dT: slope of the temperature-like coefficient", nonnegative=True),
    Parameter("variants", 0, "number of order parameters eta_p (0: the space dimension)",
              bounds=(0, 6)),
    # -- gradient penalty and kinetics ------------------------------------------------------------
    Parameter("kappa", 1.0, "gradient-penalty (twin-wall) coefficient: (kappa/2)|grad eta_p|^2",
              positive=True),
    Parameter("mobility", 1.0, "L in d eta/dt = -L dF/d eta", positive=True),
    # -- elasticity -------------------------------------------------------------------------------
    Parameter("elastic", True, "couple to linear elasticity (mechanical equilibrium every step)"),
    Parameter("C11", 700.0, "cubic stiffness C11", positive=True),
    Parameter("C12", 300.0, "cubic stiffness C12"),
    Parameter("C44", 300.0, "cubic stiffness C44", positive=True),
    Parameter("bain_axial", 0.1, "Bain strain of variant p along axis p"),
    Parameter("bain_transverse", -0.1, "Bain strain of variant p along the other axes"),
    Parameter("strain_coupling", "linear", "phi in eps_t = sum phi(eta_p) eps_p^00: linear | quadratic",
              choices=("linear", "quadratic")),
    Parameter("clamped", "all", "sides with u = 0: all, or comma-separated left,right,bottom,top,"
              "back,front (all: every side of a non-periodic axis; fully periodic: one point is pinned)",
              check=_sides),
    # -- geometry -------------------------------------------------------------------------------
    Parameter("dim", 2, "space dimension of the built-in domain (2: rectangle, 3: box)", bounds=(2, 3)),
    Parameter("cell", "quadrilateral", "2D cells: quadrilateral | triangle",
              choices=("quadrilateral", "triangle")),
    Parameter("Lx", 50.0, "domain length in x", positive=True),
    Parameter("Ly", 50.0, "domain length in y", positive=True),
    Parameter("Lz", 10.0, "domain length in z (3D)", positive=True),
    Parameter("nx", 100, "elements in x", positive=True),
    Parameter("ny", 100, "elements in y", positive=True),
    Parameter("nz", 10, "elements in z (3D)", positive=True),
    periodic_parameter(),
    # -- initial condition ------------------------------------------------------------------------
    Parameter("initial", "random", "random: eta0 + epsilon r per vertex; step: one wall at x = Lx/2",
              choices=("random", "step")),
    Parameter("eta0", 0.0, "mean offset of the random initial condition"),
    Parameter("epsilon", 0.1, "amplitude of the random initial condition (uniform in [0, epsilon])",
              nonnegative=True),
    Parameter("seed", 0, "random seed (noise indexed by grid position: partition-independent)",
              nonnegative=True),
    Parameter("mirror", False, "mirror image of the run: noise transposed (x <-> y), variants 1, 2 "
              "swapped; the energy history must not change"),
    Parameter("energy_check", True, "reject (and cut) a step that increases the free energy"),
    # -- stop rule --------------------------------------------------------------------------------
    Parameter("stop_rate", 0.0, "stop before t_end once |F(t) - F(t - stop_window)| / (stop_window |F|) "
              "< stop_rate (the energy has settled; 0: off)", nonnegative=True),
    Parameter("stop_window", 50.0, "trailing time window of the stop_rate rule (make it longer than "
              "any plateau the flow may pass through)", positive=True),
    *TIME_PARAMETERS,
    *OUTPUT_PARAMETERS,
]

_TWINS = dict(Lx=50.0, Ly=50.0, nx=100, ny=100, t_end=200.0, dt=0.01, dt_max=5.0, easy_iterations=5,
              stop_times=[1.0, 10.0, 50.0], field_interval=0, checkpoint_interval=50)

PRESETS: dict[str, dict[str, Any]] = {
    "twins-2d": _TWINS,
    "wall-1d": dict(elastic=False, initial="step", dim=2, cell="triangle", Lx=20.0, Ly=0.2, nx=400,
                    ny=2, t_end=200.0, dt=0.01, dt_max=50.0, field_interval=0,
                    checkpoint_interval=0),
    "cubic-tetragonal-3d": dict(dim=3, Lx=10.0, Ly=10.0, Lz=10.0, nx=12, ny=12, nz=12,
                                bain_transverse=-0.05, temperature=-12.0, eta0=-0.05,
                                t_end=2000.0, dt=0.01, dt_max=50.0, easy_iterations=5,
                                stop_rate=1e-6, stop_window=100.0,
                                stop_times=[10.0, 20.0, 60.0, 100.0, 200.0, 500.0, 1000.0],
                                field_interval=0, checkpoint_interval=20),
    "ci": dict(_TWINS, Lx=20.0, Ly=20.0, nx=40, ny=40, t_end=20.0, stop_times=[], png=False),
}

PRESET_HELP = {
    "twins-2d": "square-to-rectangle, clamped square, random start -> twinned laminate "
                "(MOOSE LandauPhaseTrans coefficients)",
    "wall-1d": "one wall between two variants in a long strip, no elasticity (analytic check)",
    "cubic-tetragonal-3d": "three variants in a small clamped box, until the energy has settled "
                           "(stop_rate 1e-6 over stop_window 100); run it under mpiexec",
    "ci": "a small twins run for tests (40x40)",
}


def _model_problems(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if p["mirror"] and p["initial"] != "random":
        problems.append(("mirror", "needs initial = random"))
    if p["landau"] == "234" and p["A4"] <= 0:
        problems.append(("A4", f"the 234 polynomial needs A4 > 0, got {p['A4']}"))
    return problems


def check(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Checks across parameters that need no mesh (run by ``resolve``, before anything is built)."""
    return time_problems(p) + _model_problems(p)


#: Peak memory of the mesh, mixed space, monolithic Jacobian and its MUMPS LU, 1 rank, one step, above
#: BASE_BYTES: ``factor * dofs**exponent`` per space dimension. 2D: 4.0 kB per DOF at 161,604 DOFs (ci,
#: 200 x 200 quadrilaterals; 3.0 kB at 40,804). 3D (cubic-tetragonal-3d, n^3 boxes): 152, 487 and 1,220 MB
#: at 13,182, 29,478 and 55,566 DOFs, fitted by 580 dofs^(4/3) (180, 526, 1,220 MB).
_MEMORY = {2: (4000.0, 1.0), 3: (580.0, 4.0 / 3.0)}


def estimate_size(p: Mapping[str, Any]) -> SizeEstimate:
    """Cells and DOFs of the built-in rectangle or box, and their memory.

    Counts are exact for the structured grid (``nx ny`` quadrilaterals or ``2 nx ny`` triangles;
    ``6 nx ny nz`` tetrahedra), ``variants`` (+ ``dim`` with ``elastic``) DOFs per vertex, periodic
    identifications not subtracted. The memory per DOF is a fit of measured runs (the LU fill grows faster
    than the DOFs in 3D): approximate, within a factor of about 2.
    """
    dim = p["dim"]
    if dim == 3:
        cells = 6.0 * p["nx"] * p["ny"] * p["nz"]
        vertices = (p["nx"] + 1.0) * (p["ny"] + 1.0) * (p["nz"] + 1.0)
    else:
        cells = (1.0 if p["cell"] == "quadrilateral" else 2.0) * p["nx"] * p["ny"]
        vertices = (p["nx"] + 1.0) * (p["ny"] + 1.0)
    per_vertex = (p["variants"] or dim) + (dim if p["elastic"] else 0)
    return SizeEstimate("nx", cells, per_vertex * vertices, *_MEMORY[dim])


def check_consistency(p: Mapping[str, Any], gdim: int) -> None:
    """Checks across parameters, once the space dimension is known (before any solve).

    The ones that need no mesh (:func:`check`, which ``resolve`` runs already) again here, for callers that
    built ``p`` by hand.

    Raises:
        ParameterError: Naming the offending parameter.
    """
    from gpfem.base.errors import ParameterError

    raise_first(_model_problems(p))
    n = p["variants"] or gdim
    if p["elastic"] and n != gdim:
        raise ParameterError("variants", f"with elastic=true the Bain strains need variants = {gdim} "
                             f"(one per axis), got {n}")
    if p["mirror"]:
        if gdim != 2 or n != 2:
            raise ParameterError("mirror", "needs a 2D run with two variants")
        if p["Lx"] != p["Ly"] or p["nx"] != p["ny"]:
            raise ParameterError("mirror", "needs a square domain (Lx = Ly, nx = ny)")
    axes = periodic_axes(p["periodic"], gdim)
    on_periodic = [s for s in clamped_sides(p["clamped"], gdim) if s in SIDES and SIDES.index(s) // 2 in axes]
    if axes and on_periodic and "all" not in p["clamped"]:
        raise ParameterError("clamped", f"side(s) {on_periodic} lie on a periodic axis ({p['periodic']}); "
                             "clamp only sides of non-periodic axes, or use clamped=all")


SPEC = register(
    Spec(
        name="martensite",
        description="Ginzburg-Landau martensite: variants, twin walls, elastic coupling",
        parameters=PARAMETERS,
        presets=PRESETS,
        hooks="gpfem.models.martensite_run:HOOKS",
        post="gpfem.models.martensite_post:post",
        preset_help=PRESET_HELP,
        mesh_parameters=("dim", "cell", "Lx", "Ly", "Lz", "nx", "ny", "nz"),
        check=check,
        estimate=estimate_size,
    )
)

#: The parameters from Python: a frozen dataclass checked as ``gpfem run`` checks them, e.g.
#: ``MartensiteParameters.from_preset("ci", kappa=0.5)``; ``params.replace(...)`` makes a changed copy.
MartensiteParameters = SPEC.parameters_class("MartensiteParameters", __name__)
__all__ += ["MartensiteParameters"]
