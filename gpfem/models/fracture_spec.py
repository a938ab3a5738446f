"""Phase-field brittle fracture: parameters and presets (cheap to import: no DOLFINx).

Parameters are named as in the formulas of :mod:`gpfem.models.fracture`: ``E, nu, Gc, ell, model, split,
k_res``, then the geometry, the load programme and the alternate-minimisation controls.

Units of the ``sent``/``shear`` presets follow Miehe et al. (2010): mm and kN, so ``E`` in kN/mm^2,
``Gc`` in kN/mm, reaction forces in kN per mm of thickness.
"""

from __future__ import annotations

from gpfem.core.parameters import Parameter
from gpfem.models.common import AMR_PARAMETERS, OUTPUT_PARAMETERS
from gpfem.registry import Spec, register

__all__ = ["PARAMETERS", "PRESETS", "PRESET_HELP", "SPEC"]


def _check_path(value: list) -> str | None:
    if any(not isinstance(v, int | float) for v in value):
        return "must be a list of numbers (load turning points), e.g. [0.01, 0.0, 0.02]"
    return None


def _check_fraction(value: float) -> str | None:
    return "must be < 1 (a fraction of the peak force; 0 turns the stop off)" if value >= 1.0 else None


def _check_point(value: list) -> str | None:
    if len(value) not in (0, 2) or any(not isinstance(v, int | float) for v in value):
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
    Parameter("geometry", "notched", "built-in geometry: notched (SENT square) | strip (bar)",
              choices=("notched", "strip")),
    Parameter("L", 1.0, "side of the notched square / length of the strip", positive=True),
    Parameter("H", 0.1, "height of the strip", positive=True),
    Parameter("nx", 100, "strip: elements along the length", positive=True),
    Parameter("ny", 2, "strip: elements across", positive=True),
    Parameter("notch_length", 0.5, "notched: notch depth from the left edge", positive=True),
    Parameter("notch_width", 1e-3, "notched: width of the notch slot", positive=True),
    Parameter("h_fine", 0.0075, "notched: element size in the band where the crack runs", positive=True),
    Parameter("h_coarse", 0.025, "notched: element size elsewhere", positive=True),
    Parameter("band", [0.45, 0.55], "notched: y-range [lo, hi] of the refined band, as fractions of L",
              type=list),
    # -- boundary conditions and load programme ----------------------------------------------------
    Parameter("fixed", "bottom", "boundary group clamped (u = 0)"),
    Parameter("loaded", "top", "boundary group with the imposed displacement"),
    Parameter("direction", "y", "component of the imposed displacement on 'loaded' (others are 0)",
              choices=("x", "y", "z")),
    Parameter("loading", "displacement",
              "displacement: fixed/loaded groups | isotropic: u = load * x on the whole boundary",
              choices=("displacement", "isotropic")),
    Parameter("damage_bc", False, "alpha = 0 on the fixed and loaded groups (keeps a bar's crack inside)"),
    Parameter("load_max", 0.0065, "final imposed displacement (when load_path is empty)"),
    Parameter("load_path", [], "turning points of the imposed displacement, from 0, e.g. [0.01, 0, 0.02]",
              type=list, check=_check_path),
    Parameter("dload", 2e-4, "first load increment", positive=True),
    Parameter("dload_min", 1e-5, "smallest load increment (where the crack runs)", positive=True),
    Parameter("dload_max", 5e-4, "largest load increment", positive=True),
    Parameter("dload_grow", 1.5, "growth factor of the increment after an easy step", bounds=(1.0, 10.0)),
    Parameter("easy_iterations", 8, "a step with at most this many alternate minimisations is easy",
              nonnegative=True),
    Parameter("max_damage_increment", 0.25,
              "largest damage increase in one step before it is cut and retried (refines where the "
              "crack runs; 1 disables)", bounds=(0.0, 1.0), open_bounds=False),
    Parameter("max_steps", 0, "stop after this many accepted load steps (0: no limit)", nonnegative=True),
    Parameter("stop_when_broken", 0.0,
              "stop once the reaction force has fallen below this fraction of its peak, after the peak "
              "(e.g. 0.05; 0: off; load_max stays the limit)", bounds=(0.0, 1.0), check=_check_fraction),
    # -- solver of the coupled problem at each load ---------------------------------------------------
    Parameter("solver", "hybrid",
              "altmin: alternate minimisation only | hybrid: alternate minimisation, then bounded Newton on "
              "the coupled (u, alpha) problem (MUMPS, energy line search) once the damage change contracts, "
              "back to alternate minimisation when Newton fails; a step converges on the altmin_tol test "
              "either way", choices=("altmin", "hybrid")),
    Parameter("newton_after", 3, "hybrid: alternate minimisations in a step before Newton may be tried (it "
              "is tried once the damage change fell in 3 of them in a row; 6, 12, ... after a failed try)",
              positive=True),
    Parameter("newton_shift", 1.0, "hybrid: shift mu of the damage block of the Newton Jacobian, in units "
              "of Gc/ell times the mass matrix, times the residual norm relative to the try's first (a "
              "descent direction where the energy is not convex; 0: plain Newton)", nonnegative=True),
    Parameter("newton_max_it", 15, "hybrid: Newton iterations of one try before it is given up",
              positive=True),
    # -- alternate minimisation ---------------------------------------------------------------------
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
    Parameter("crack_origin", [], "[x, y] where the crack starts, for the tip (default: the notch tip of "
              "the built-in notched plate; none for other meshes)", type=list, check=_check_point),
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
              notch_width=1e-3, h_fine=0.0075, h_coarse=0.025, field_interval=0, checkpoint_interval=20)

PRESETS = {
    # solver=altmin: the crack runs through in one step past saddle points, where the hybrid's Newton does
    # not help (benchmarks/fracture_solvers.py: the same iterations within 16%, 6% more CPU time)
    "sent": dict(_MIEHE, model="AT2", split="none", band=[0.45, 0.55], fixed="bottom", loaded="top",
                 direction="y", load_max=0.0065, dload=2e-4, dload_max=5e-4, dload_min=1e-5, solver="altmin"),
    "shear": dict(_MIEHE, model="AT2", split="spectral", band=[0.1, 0.55], h_fine=0.0075,
                  fixed="bottom", loaded="top", direction="x", load_max=0.015, dload=5e-4,
                  dload_max=5e-4, dload_min=2e-5),
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
# SENT from a uniform mesh of h = 0.06 (no band): three 4-way splits bring the crack's cells to h_K <= ell/2
# (measured: at most 0.00749; the largest base cells, h_K 0.063, could reach 0.00788, hence a warning).
PRESETS["sent-amr"] = dict(PRESETS["sent"], h_fine=0.06, h_coarse=0.06, amr=True, amr_max_levels=3)
# Tests: SENT with ell = 0.05 on a uniform h = 0.1 mesh, refined twice to ell/2 = 0.025.
PRESETS["sent-ci-amr"] = dict(PRESETS["sent-ci"], ell=0.05, h_fine=0.1, load_max=0.009, amr=True,
                              amr_max_levels=2, checkpoint_interval=3)

PRESET_HELP = {
    "sent": "single-edge-notched tension (Miehe et al. 2010), AT2, ell = 0.015 mm, h = 0.0075 mm in the band",
    "shear": "the same specimen under shear, spectral split, refined below the notch",
    "bar": "a strip under uniform traction (AT1, E = Gc = 1): analytic peak stress and Gc checks",
    "sent-ci": "coarse SENT for tests (ell = 0.03, h = 0.015 in the band, fixed steps)",
    "sent-amr": "SENT on an adapted mesh: uniform h = 0.06 refined where the crack is and ahead of it, "
                "h <= ell/2 on the crack (no band given in advance)",
    "sent-ci-amr": "a coarse SENT on an adapted mesh for tests (ell = 0.05, h = 0.1 refined to ell/2)",
}

SPEC = register(
    Spec(
        name="fracture",
        description="phase-field brittle fracture (AT1/AT2, energy splits, bounds for irreversibility)",
        parameters=PARAMETERS,
        presets=PRESETS,
        run="gpfem.models.fracture_run:run",
        post="gpfem.models.fracture_post:post",
        preset_help=PRESET_HELP,
    )
)
