"""Parameters and presets of the Allen-Cahn plug-in (imports no DOLFINx: ``gpfem list`` stays fast)."""

from gpfem import OUTPUT_PARAMETERS, TIME_PARAMETERS, Parameter, Spec

PARAMETERS = [
    Parameter("W", 1.0, "double-well height W in W phi^2 (1 - phi)^2", positive=True),
    Parameter("kappa", 1.0, "gradient-penalty coefficient: (kappa/2)|grad phi|^2", positive=True),
    Parameter("mobility", 1.0, "L in d phi/dt = -L dF/d phi", positive=True),
    Parameter("initial", "random", "random | step (a wall at x = Lx/2) | disk (radius R0)",
              choices=("random", "step", "disk")),
    Parameter("R0", 10.0, "disk: initial radius", positive=True),
    Parameter("seed", 0, "random: seed", nonnegative=True),
    Parameter("Lx", 40.0, "domain length in x", positive=True),
    Parameter("Ly", 40.0, "domain length in y", positive=True),
    Parameter("nx", 80, "elements in x", positive=True),
    Parameter("ny", 80, "elements in y", positive=True),
    *TIME_PARAMETERS,
    *OUTPUT_PARAMETERS,
]

SPEC = Spec(
    name="allen-cahn",
    description="Allen-Cahn: a non-conserved order parameter relaxing under a gradient penalty",
    parameters=PARAMETERS,
    presets={
        "coarsening": dict(t_end=50.0, dt=0.05, dt_max=2.0, field_interval=5),
        "wall": dict(initial="step", Lx=20.0, Ly=0.4, nx=200, ny=2, t_end=50.0, dt=0.05, dt_max=10.0,
                     field_interval=0, png=False),
        "disk": dict(initial="disk", R0=12.0, Lx=40.0, Ly=40.0, nx=160, ny=160, t_end=40.0, dt=0.05,
                     dt_max=1.0, stop_times=[10.0, 20.0, 30.0], field_interval=0),
    },
    preset_help={
        "coarsening": "random start on a 40 x 40 square: domains form and coarsen",
        "wall": "one flat wall in a strip: energy per length -> sqrt(2 kappa W)/6",
        "disk": "a shrinking disk: area falls at -2 pi L kappa",
    },
    hooks="allen_cahn.model:HOOKS",
)
