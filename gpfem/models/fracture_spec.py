"""Phase-field brittle fracture: parameters and presets (cheap to import: no DOLFINx).

Parameters are named as in the formulas of :mod:`gpfem.models.fracture`: ``E, nu, Gc, ell, model, split,
k_res``, then the geometry, the load programme and the alternate-minimisation controls.

Units of the ``sent``/``shear`` presets follow Miehe et al. (2010): mm and kN, so ``E`` in kN/mm^2,
``Gc`` in kN/mm, reaction forces in kN per mm of thickness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from gpfem.app.parameters import Parameter
from gpfem.app.registry import Spec, register
from gpfem.app.size_check import SizeEstimate
from gpfem.models.common import AMR_PARAMETERS, OUTPUT_PARAMETERS, step_bound_problems

__all__ = ["PARAMETERS", "PRESETS", "PRESET_HELP", "SPEC", "check", "estimate_size"]


def _check_fraction(value: float) -> str | None:
    return "must be < 1 (a fraction of the peak force; 0 turns the stop off)" if value >= 1.0 else None


def _check_point(value: list) -> str | None:
    if len(value) not in (0, 2):
        return "must be [] or [x, y]"
    return None


PARAMETERS = [
    # -- material and phase-field model --------------------------------------------------------------
    Parameter("E", 210.0, "Young's modulus (kN/mm^2 in the sent/shear presets)", positive=True),
    Parameter("nu", 0.3, "Poisson's ratio", bounds=(-1.0, 0.5), open_bounds=True),
    Parameter("Gc", 2.7e-3, "fracture toughness (critical energy release rate)", positive=True),
    Parameter("ell", 0.015, "regularisation length of the phase field", positive=True),
    Parameter("model", "AT2", "dissipation: AT1 (w = alpha, c_w = 8/3) | AT2 (w = alpha^2, c_w = 2)",
              choices=("AT1", "AT2")),
    Parameter("split", "none", "energy split: none | voldev (Amor) | spectral (Miehe)",
              choices=("none", "voldev", "spectral")),
    Parameter("k_res", 1e-6, "residual stiffness in g(alpha) = (1 - alpha)^2 + k_res", nonnegative=True),
    Parameter("hypothesis", "plane_strain", "2D hypothesis: plane_strain | plane_stress (3D: ignored)",
              choices=("plane_strain", "plane_stress")),
    # -- geometry (built-in; --mesh replaces it) -------------------------------------------------------
    Parameter("geometry", "notched", "built-in geometry: notched (SENT square) | notched_slab (the SENT "
              "square extruded in z, 3D) | strip (bar)", choices=("notched", "notched_slab", "strip")),
    Parameter("L", 1.0, "side of the notched square / length of the strip", positive=True),
    Parameter("H", 0.1, "height of the strip", positive=True),
    Parameter("nx", 100, "strip: elements along the length", positive=True),
    Parameter("ny", 2, "strip: elements across", positive=True),
    Parameter("thickness", 0.0075, "notched_slab: extent in z", positive=True),
    Parameter("layers", 1, "notched_slab: element layers through the thickness", positive=True),
    Parameter("notch_length", 0.5, "notched: notch depth from the left edge", positive=True),
    Parameter("notch_width", 1e-3, "notched: width of the notch slot", positive=True),
    Parameter("h_fine", 0.0075, "notched: element size in the band where the crack runs", positive=True),
    Parameter("h_coarse", 0.025, "notched: element size elsewhere", positive=True),
    Parameter("band", [0.45, 0.55], "notched: y-range [lo, hi] of the refined band, as fractions of L",
              type=list, item=float),
    Parameter("band_x", [0.0, 1.0], "notched: x-range [lo, hi] of the refined band, as fractions of L",
              type=list, item=float),
    # -- boundary conditions and load programme ----------------------------------------------------
    Parameter("fixed", "bottom", "boundary group clamped (u = 0)"),
    Parameter("loaded", "top", "boundary group with the imposed displacement"),
    Parameter("direction", "y", "component of the imposed displacement on 'loaded' (others are 0)",
              choices=("x", "y", "z")),
    Parameter("rollers", "", "boundary groups (comma-separated) on which the component 'roller_direction' "
              "of u is held at 0, the others free (e.g. 'left,right'; empty: none)"),
    Parameter("roller_direction", "y", "component of u held at 0 on the 'rollers' groups",
              choices=("x", "y", "z")),
    Parameter("loading", "displacement",
              "displacement: fixed/loaded groups | isotropic: u = load * x on the whole boundary",
              choices=("displacement", "isotropic")),
    Parameter("damage_bc", False, "alpha = 0 on the fixed and loaded groups (keeps a bar's crack inside)"),
    Parameter("rollers_z", "", "boundary groups (comma-separated) on which u_z is held at 0, the other "
              "components free (3D plane strain: 'front,back'; empty: none)"),
    Parameter("load_max", 0.0065, "final imposed displacement (when load_path is empty)"),
    Parameter("load_path", [], "turning points of the imposed displacement, from 0, e.g. [0.01, 0, 0.02]",
              type=list, item=float),
    Parameter("dload", 2e-4, "first load increment", positive=True),
    Parameter("dload_min", 1e-5, "smallest load increment (where the crack runs)", positive=True),
    Parameter("dload_max", 5e-4, "largest load increment", positive=True),
    Parameter("dload_grow", 1.5, "growth factor of the increment after an easy step", bounds=(1.0, 10.0)),
    Parameter("dload_cut", 0.5, "factor of the increment after a rejected try", bounds=(0.01, 0.9),
              open_bounds=False),
    Parameter("easy_iterations", 8, "a step with at most this many alternate minimisations is easy",
              nonnegative=True),
    Parameter("damage_increment_target", 0.0, "next load increment from the damage rise of the accepted "
              "step: times target * max_damage_increment / rise, within [1/2, dload_grow] (fewer rejected "
              "tries while a crack grows; 0: off, the increment grows after easy steps)",
              bounds=(0.0, 1.0), open_bounds=False),
    Parameter("max_damage_increment", 0.25,
              "largest damage increase in one step before it is cut and retried (refines where the "
              "crack runs; 1 disables)", bounds=(0.0, 1.0), open_bounds=False),
    Parameter("max_steps", 0, "stop after this many accepted load steps (0: no limit)", nonnegative=True),
    Parameter("stop_when_broken", 0.0,
              "stop once the reaction force has fallen below this fraction of its peak, after the peak "
              "(e.g. 0.05; 0: off; load_max stays the limit)", bounds=(0.0, 1.0), check=_check_fraction),
    Parameter("stop_at_edge", 0.0,
              "stop once the crack tip is within this distance (length unit) of the domain's bounding box: "
              "the crack ran through (2D with crack_track; 0: off)", nonnegative=True),
    # -- solver of the coupled problem at each load ---------------------------------------------------
    Parameter("solver", "anderson",
              "anderson (default): alternate minimisation with Anderson acceleration of the damage update "
              "(anderson_depth differences, relaxed by 'relaxation', restarted when the damage residual "
              "grows), projected onto the bounds | altmin: alternate minimisation only | hybrid: alternate "
              "minimisation, then bounded Newton on the coupled (u, alpha) problem (MUMPS, energy line "
              "search) once the damage change contracts, back to alternate minimisation when Newton fails; "
              "a step converges on the altmin_tol test in every case",
              choices=("altmin", "hybrid", "anderson")),
    Parameter("u_one_step", True, "anderson: one Newton step of a nonlinear displacement problem (a split) "
              "per alternate minimisation, a converged one before the stopping test is accepted (false: "
              "converge every displacement solve)"),
    Parameter("u_reuse", 4, "anderson: a one-step displacement update may reuse the Jacobian of u and its "
              "factorisation (a modified Newton step) in up to this many alternate minimisations in a row, "
              "while the damage changed by less than u_reuse_below in the last one; a converged "
              "displacement solve (before the stopping test) always computes it anew (1: never reuse)",
              bounds=(1, 100), open_bounds=False, type=int),
    Parameter("u_reuse_below", 0.03, "anderson: reuse the displacement Jacobian only while the max damage "
              "change of the last alternate minimisation is below this (where a crack runs through, the "
              "stiffness changes too much for an old factorisation)", positive=True),
    Parameter("anderson_depth", 3, "anderson: differences of past damage iterates kept by the Anderson "
              "acceleration", bounds=(1, 10), open_bounds=False, type=int),
    Parameter("newton_after", 3, "hybrid: alternate minimisations in a step before Newton may be tried (it "
              "is tried once the damage change fell in 3 of them in a row; 6, 12, ... after a failed try)",
              positive=True),
    Parameter("newton_shift", 1.0, "hybrid: shift mu of the damage block of the Newton Jacobian, in units "
              "of Gc/ell times the mass matrix, times the residual norm relative to the try's first (a "
              "descent direction where the energy is not convex; 0: plain Newton)", nonnegative=True),
    Parameter("newton_max_it", 15, "hybrid: Newton iterations of one try before it is given up",
              positive=True),
    # -- alternate minimisation ---------------------------------------------------------------------
    Parameter("u_solver", "auto", "linear solve of the displacement: direct (MUMPS L D L^T) | gamg (CG + "
              "GAMG with the rigid-body modes, MUMPS where it fails) | auto (gamg from the measured size, "
              "gpfem.fe.solver_defaults)", choices=("auto", "direct", "gamg")),
    Parameter("altmin_tol", 1e-4, "tolerance on the max-norm of the damage increment between two "
              "alternate minimisations (reduced over ranks)", positive=True),
    Parameter("altmin_max_it", 2000, "alternate minimisations per step before ConvergenceError",
              positive=True),
    Parameter("relaxation", 1.9, "over-relaxation omega of the damage update (1: plain alternate "
              "minimisation), projected onto the bounds", bounds=(1.0, 1.95)),
    Parameter("relaxation_after", 10, "plain iterations in a step before the over-relaxation starts (easy "
              "steps converge faster without it)", nonnegative=True),
    # -- post-processing ----------------------------------------------------------------------------
    Parameter("crack_level", 0.5, "damage level of the extracted crack path", bounds=(0.0, 1.0),
              open_bounds=True),
    Parameter("crack_track", True, "measure the crack centre line (length, tip) at every load step (2D)"),
    Parameter("crack_grid", 0.0, "sampling-grid spacing of the crack centre line (0: half the element "
              "size of the refined zone)", nonnegative=True),
    Parameter("length_unit", "", "unit of lengths and displacements, for plot labels (the Miehe presets: "
              "mm; '': none)"),
    Parameter("force_unit", "", "unit of forces, for plot labels (the Miehe presets: kN, per mm of "
              "thickness in 2D; '': none)"),
    Parameter("crack_origin", [], "[x, y] where the crack starts, for the tip (default: the notch tip of "
              "the built-in notched plate; none for other meshes)", type=list, item=float,
              check=_check_point),
    # -- adaptive mesh refinement (docs/amr.md) ------------------------------------------------------
    *AMR_PARAMETERS,
    Parameter("amr_alpha", 0.1, "amr: refine cells whose damage exceeds this", bounds=(0.0, 1.0),
              open_bounds=True),
    Parameter("amr_psi_fraction", 0.25, "amr: refine cells whose tensile energy density exceeds this "
              "fraction of Gc/(c_w ell) (AT1 damage starts at 0.5)", positive=True),
    Parameter("amr_h", 0.0, "amr: target cell size h_K = (d!|K|)^(1/d) on the crack; marked cells are "
              "refined while larger (0: ell/2)", nonnegative=True),
    Parameter("amr_bisect", False, "amr: split a marked cell by its longest edge (h_K / sqrt 2 per level: "
              "fewer DOFs, but on sent-amr the crack stopped at the edge of the refined zone; docs/amr.md) "
              "instead of into four (h_K / 2)"),
    Parameter("amr_check_every", 10, "amr: alternate minimisations between two checks of the mesh during "
              "a load step", positive=True),
    *OUTPUT_PARAMETERS,
]

_MIEHE = dict(E=210.0, nu=0.3, Gc=2.7e-3, ell=0.015, geometry="notched", notch_length=0.5,
              notch_width=1e-3, h_fine=0.0075, h_coarse=0.025, field_interval=0, checkpoint_interval=20,
              length_unit="mm", force_unit="kN")

PRESETS = {
    # solver=anderson: the crack runs through in one step past saddle points, where the hybrid's Newton does
    # not help (benchmarks/fracture_solvers.py: 6% more CPU time than altmin) and Anderson acceleration does
    # (about 0.6x the alternate minimisations and CPU time of altmin; docs/fracture.md)
    # dload_cut = 0.25: every try past the critical load fails (the crack runs through in one step), so the
    # increment is cut by 4 instead of 2 per rejected try: 4 instead of 6 rejected tries, 649 instead of 763
    # damage solves (anderson, 1 rank), peak 0.7023 kN at u = 0.005540 instead of 0.7027 at 0.005554
    "sent": dict(_MIEHE, model="AT2", split="none", band=[0.45, 0.55], fixed="bottom", loaded="top",
                 direction="y", load_max=0.0065, dload=2e-4, dload_max=5e-4, dload_min=1e-5,
                 dload_cut=0.25, solver="anderson"),
    # Miehe, Hofacker & Welschinger (2010): bottom clamped, top moved in x with u_y = 0, left and right
    # edges u_y = 0; refined where the crack runs, from the notch tip down to the bottom edge. The crack
    # reaches the bottom edge at u = 0.0127 mm on shear-ci, after which the force rises again (the faces of
    # the curved crack are pressed together): stop_when_broken does not fire; stop_at_edge (one fine element)
    # ends the run there.
    "shear": dict(_MIEHE, model="AT2", split="spectral", band=[0.0, 0.55], band_x=[0.45, 1.0],
                  h_fine=0.0075, fixed="bottom", loaded="top", direction="x", rollers="left,right",
                  roller_direction="y", load_max=0.02, stop_when_broken=0.05, stop_at_edge=0.0075,
                  dload=5e-4,
                  dload_max=5e-4, dload_min=2e-5, easy_iterations=50, damage_increment_target=0.8,
                  checkpoint_interval=5),
    "bar": dict(E=1.0, nu=0.0, Gc=1.0, ell=0.05, geometry="strip", L=1.0, H=0.02, nx=100, ny=2,
                model="AT1", split="none", hypothesis="plane_stress", fixed="left", loaded="right",
                direction="x", k_res=1e-8, damage_bc=True, load_max=10.0, stop_when_broken=0.05,
                dload=0.01, dload_max=0.01, dload_min=2.5e-4,
                dload_grow=1.0, max_damage_increment=1.0, altmin_tol=1e-6, relaxation=1.0,
                field_interval=0, checkpoint_interval=0),
    "sent-ci": dict(_MIEHE, model="AT2", split="none", ell=0.03, h_fine=0.015, h_coarse=0.1,
                    band=[0.4, 0.6], load_max=0.0075, dload=5e-4, dload_max=5e-4, dload_min=1e-4,
                    dload_grow=1.0, max_damage_increment=1.0, checkpoint_interval=0),
}
# easy_iterations = 50: while the crack grows stably each step takes 20-50 alternate minimisations, so the
# default 8 kept the increment at dload_min; shear-ci to u = 0.0102 mm: 945 instead of 1,375 alternate
# minimisations (30 instead of 40 steps), force and crack tip the same within 0.1% and 0.003 mm.
# damage_increment_target = 0.8: the next increment from the damage rise of the step instead of growing after
# every easy one; the coarse shear of benchmarks/fracture_solvers.py (anderson, 1 rank): 10 instead of 23
# rejected tries, 1,394 instead of 1,702 damage solves, the same peak (0.5363 kN at u = 0.009125 mm), crack
# end x 0.837 vs 0.841 (h = 0.015). On sent it changes nothing (the crack runs through in one step).
# Tests: the shear set-up at ell = 0.03, h = 0.015 in the refined zone.
PRESETS["shear-ci"] = dict(PRESETS["shear"], ell=0.03, h_fine=0.015, h_coarse=0.05, dload_min=5e-5,
                           checkpoint_interval=0)
# SENT from a uniform mesh of h = 0.06 (no band): three 4-way splits bring the crack's cells to h_K <= ell/2
# (measured: at most 0.00749; the largest base cells, h_K 0.063, could reach 0.00788, hence a warning).
PRESETS["sent-amr"] = dict(PRESETS["sent"], h_fine=0.06, h_coarse=0.06, amr=True, amr_max_levels=3)
# Tests: SENT with ell = 0.05 on a uniform h = 0.1 mesh, refined twice to ell/2 = 0.025.
PRESETS["sent-ci-amr"] = dict(PRESETS["sent-ci"], ell=0.05, h_fine=0.1, load_max=0.009, amr=True,
                              amr_max_levels=2, checkpoint_interval=3)

# SENT in 3D: the sent square extruded in z, u_z = 0 on both z-faces (plane strain). Force per thickness =
# the 2D sent's (docs/fracture.md, 3D). A thin slab of one element layer by default.
PRESETS["sent-3d"] = dict(PRESETS["sent"], geometry="notched_slab", thickness=0.0075, layers=1,
                          rollers_z="front,back")
# Tests: the sent-ci sizes in one layer of h_fine.
PRESETS["sent-3d-ci"] = dict(PRESETS["sent-ci"], geometry="notched_slab", thickness=0.015, layers=1,
                             rollers_z="front,back")

PRESET_HELP = {
    "sent": "single-edge-notched tension (Miehe et al. 2010), AT2, ell = 0.015 mm, h = 0.0075 mm in the band",
    "shear": "the same specimen under shear as published (left/right edges u_y = 0), spectral split, "
             "refined from the notch tip to the bottom edge, to u = 0.02 mm",
    "shear-ci": "coarse shear for tests (ell = 0.03, h = 0.015 in the refined zone, same boundary "
                "conditions)",
    "bar": "a strip under uniform traction (AT1, E = Gc = 1): analytic peak stress and Gc checks",
    "sent-ci": "coarse SENT for tests (ell = 0.03, h = 0.015 in the band, fixed steps)",
    "sent-amr": "SENT on an adapted mesh: uniform h = 0.06 refined where the crack is and ahead of it, "
                "h <= ell/2 on the crack (no band given in advance)",
    "sent-3d": "the sent specimen extruded in z (one layer of 0.0075 mm), u_z = 0 on front and back: "
               "plane strain in 3D (tetrahedra)",
    "sent-3d-ci": "coarse sent-3d for tests (the sent-ci sizes, one layer of 0.015 mm)",
    "sent-ci-amr": "a coarse SENT on an adapted mesh for tests (ell = 0.05, h = 0.1 refined to ell/2)",
}

#: Peak bytes per DOF above BASE_BYTES, 1 rank (mesh, u and alpha spaces, two Jacobians, MUMPS LU of the
#: elasticity), one load step of sent-ci meshes: 3.9, 2.9, 3.1 kB at 37,041, 50,802, 146,145 DOFs.
_BYTES_PER_DOF = 4000.0


def check(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Checks across parameters that need no mesh (run by ``resolve``, before anything is built)."""
    problems = step_bound_problems(p, "dload", "dload_min", "dload_max")
    path = p["load_path"] or [p["load_max"]]
    if sum(abs(b - a) for a, b in pairwise([0.0, *path])) <= 0:
        name = "load_path" if p["load_path"] else "load_max"
        problems.append((name, "the load programme is empty (load_max = 0?)"))
    for name in ("band", "band_x"):
        band = p[name]
        if len(band) != 2 or not 0.0 <= band[0] < band[1] <= 1.0:
            problems.append((name, f"must be [lo, hi] with 0 <= lo < hi <= 1 (fractions of L), got {band}"))
    if p["geometry"] == "notched":
        if p["h_fine"] > p["h_coarse"]:
            problems.append(("h_fine", f"must be <= h_coarse ({p['h_coarse']:g}), got {p['h_fine']:g}"))
        if p["notch_length"] >= p["L"]:
            problems.append(("notch_length", f"must be < L ({p['L']:g}), got {p['notch_length']:g}"))
    return problems


def estimate_size(p: Mapping[str, Any]) -> SizeEstimate:
    """Cells and DOFs of the built-in 2D mesh (3 DOFs per vertex: u_x, u_y, alpha).

    Strip: exact (``2 nx ny`` triangles). Notched plate: the band ``(hi - lo) L x L`` at ``h_fine``, the
    rest of the ``L x L`` square at ``h_coarse``, each counted as area / (sqrt(3)/4 h^2) triangles, half as
    many vertices; approximate (within 20% of gmsh's counts on sent-ci-like meshes; a factor of about 2 at
    worst). An adaptive run counts ``amr_max_dofs`` when that is larger (the base mesh otherwise).
    """
    if p["geometry"] == "strip":
        cells, vertices, name = 2.0 * p["nx"] * p["ny"], (p["nx"] + 1.0) * (p["ny"] + 1.0), "nx"
    else:
        lo, hi = (p["band"] + [0.0, 0.0])[:2]
        band = max(hi - lo, 0.0) * p["L"] ** 2
        per = math.sqrt(3.0) / 4.0
        cells = band / (per * p["h_fine"] ** 2) + (p["L"] ** 2 - band) / (per * p["h_coarse"] ** 2)
        vertices, name = cells / 2.0, "h_fine"
    dofs = 3.0 * vertices
    if p["amr"] and p["amr_max_dofs"] > dofs:
        dofs, name = float(p["amr_max_dofs"]), "amr_max_dofs"
    return SizeEstimate(name, cells, dofs, _BYTES_PER_DOF)


SPEC = register(
    Spec(
        name="fracture",
        description="phase-field brittle fracture (AT1/AT2, energy splits, bounds for irreversibility)",
        parameters=PARAMETERS,
        presets=PRESETS,
        hooks="gpfem.models.fracture_run:HOOKS",
        post="gpfem.models.fracture_post:post",
        preset_help=PRESET_HELP,
        mesh_parameters=("geometry", "L", "H", "nx", "ny", "notch_length", "notch_width", "h_fine",
                         "h_coarse", "band", "band_x", "thickness", "layers"),
        check=check,
        estimate=estimate_size,
    )
)

#: The parameters from Python: a frozen dataclass checked as ``gpfem run`` checks them, e.g.
#: ``FractureParameters.from_preset("sent-ci", ell=0.02)``; ``params.replace(...)`` makes a changed copy.
FractureParameters = SPEC.parameters_class("FractureParameters", __name__)
__all__ += ["FractureParameters"]
