"""Registry specs of the ML experiments (``gpfem run wgan-gp``, ``gpfem run gp-...``).

Imports no torch: the run functions in :mod:`gpfem.ml.studies` are imported only when a run starts.
"""

from __future__ import annotations

from gpfem.core.parameters import Parameter
from gpfem.registry import Spec, register

__all__ = ["SPECS"]

_RUN = "gpfem.ml.studies:"
_WHERE = ("interpolates", "real", "fake", "both")


def _check_placements(value: str) -> str | None:
    bad = [w for w in value.split(",") if w.strip() not in _WHERE]
    return f"unknown placement(s) {bad}; use {', '.join(_WHERE)}" if bad else None


def _common() -> list[Parameter]:
    return [
        Parameter("seed", 0, "random seed (torch and numpy)", nonnegative=True),
        Parameter("device", "cpu", "torch device", choices=("cpu", "cuda")),
        Parameter("threads", 1, "torch CPU threads", positive=True),
    ]


def _train() -> list[Parameter]:
    return [
        Parameter(
            "dataset",
            "8gaussians",
            "toy data of the WGAN-GP toy script",
            choices=("8gaussians", "25gaussians", "swissroll"),
        ),
        Parameter("iters", 2500, "generator iterations", positive=True),
        Parameter("critic_iters", 5, "critic steps per generator step", positive=True),
        Parameter("batch", 256, "batch size", positive=True),
        Parameter("dim", 128, "hidden width of both MLPs", positive=True),
        Parameter("depth", 3, "hidden layers of both MLPs", positive=True),
        Parameter("activation", "relu", "critic activation", choices=("relu", "leakyrelu", "tanh")),
        Parameter("lam", 0.1, "penalty weight lambda (the toy script uses 0.1)", nonnegative=True),
        Parameter(
            "where",
            "interpolates",
            "where the penalty is taken",
            choices=("interpolates", "real", "fake", "both"),
        ),
        Parameter("target", 1.0, "penalty centre: 1 (WGAN-GP) or 0 (zero-centred)", nonnegative=True),
        Parameter("one_sided", False, "penalise only gradient norms above the target"),
        Parameter(
            "regularizer",
            "gp",
            "critic constraint: gradient penalty, weight clipping, none",
            choices=("gp", "clip", "none"),
        ),
        Parameter("clip", 0.01, "weight-clipping bound c (regularizer=clip)", positive=True),
        Parameter("lr", 1e-3, "Adam learning rate (both networks)", positive=True),
        Parameter("beta1", 0.5, "Adam beta1", bounds=(0.0, 1.0)),
        Parameter("beta2", 0.9, "Adam beta2", bounds=(0.0, 1.0)),
        Parameter("lr_decay", False, "decay learning rates linearly to zero"),
        Parameter("collapse_init", False, "start from a generator collapsed to the origin"),
        Parameter("log_every", 25, "history.csv row interval (iterations)", positive=True),
        Parameter("eval_every", 0, "mode-metric interval in history.csv (0: off)", nonnegative=True),
        Parameter("n_eval", 2500, "generated samples for the mode metrics", positive=True),
        *_common(),
    ]


_DATA_PRESETS = {
    "8gaussians": {"dataset": "8gaussians"},
    "25gaussians": {"dataset": "25gaussians", "iters": 2000},
    "swissroll": {"dataset": "swissroll", "iters": 1000},
    "ci": {"dataset": "8gaussians", "iters": 2500},
}

SPECS = [
    register(
        Spec(
            name="wgan-gp",
            description="WGAN-GP on the WGAN-GP paper's toy data, with VEEGAN/PacGAN mode metrics",
            parameters=_train(),
            presets=_DATA_PRESETS,
            run=_RUN + "run_wgan_gp",
            uses_mesh=False,
            preset_help={
                "8gaussians": "8 Gaussians on a ring (2500 iterations, ~1-2 min on one core)",
                "25gaussians": "5x5 grid of Gaussians (2000 iterations)",
                "swissroll": "swiss roll (1000 iterations)",
                "ci": "CI-sized 8-Gaussians run (the test asserts >= 7 modes, >= 50% high quality)",
            },
        )
    ),
    register(
        Spec(
            name="gp-lambda-sweep",
            description="WGAN-GP for several lambda: gradient norms, mode coverage, critic flatness",
            parameters=[
                *_train(),
                Parameter("lams", [0.001, 0.01, 0.1, 1.0, 10.0, 100.0], "penalty weights swept"),
            ],
            presets={
                "default": {"iters": 1500},
                "quick": {"iters": 300, "lams": [0.01, 1.0, 100.0]},
            },
            run=_RUN + "run_lambda_sweep",
            uses_mesh=False,
            preset_help={"default": "six lambdas x 1500 iterations", "quick": "smoke test"},
        )
    ),
    register(
        Spec(
            name="gp-placement",
            description="penalty at interpolates / real / fake / both, from a collapsed generator",
            parameters=[*_train(), Parameter("targets", [1.0, 0.0], "penalty centres tried")],
            presets={
                "default": {"iters": 1500},
                "recovery": {"iters": 500, "eval_every": 25},
                "quick": {"iters": 200, "targets": [1.0], "eval_every": 25},
            },
            run=_RUN + "run_placement",
            uses_mesh=False,
            preset_help={
                "default": "4 placements x 2 centres x 1500 iterations",
                "recovery": "500 iterations with mode metrics every 25 (recovery speed)",
                "quick": "smoke",
            },
        )
    ),
    register(
        Spec(
            name="gp-activations",
            description="critic activation ReLU vs LeakyReLU vs tanh under the gradient penalty",
            parameters=_train(),
            presets={"default": {"iters": 1500}, "quick": {"iters": 200}},
            run=_RUN + "run_activations",
            uses_mesh=False,
            preset_help={"default": "3 activations x 1500 iterations", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-clipping",
            description="weight clipping (WGAN) at several bounds vs the gradient penalty",
            parameters=[
                *_train(),
                Parameter("clips", [0.01, 0.1], "clipping bounds c"),
                Parameter("with_gp", True, "also train the gradient-penalty reference run"),
            ],
            presets={"default": {"iters": 1500}, "quick": {"iters": 200, "clips": [0.01]}},
            run=_RUN + "run_clipping",
            uses_mesh=False,
            preset_help={"default": "GP and 2 clipping bounds x 1500 iterations", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-stable-lr",
            description="largest stable step vs penalty weight on the Dirac-GAN, vs h_max ~ 2/gamma",
            parameters=[
                Parameter(
                    "gammas",
                    [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                    "zero-centred penalty weights gamma (weight = gamma/2)",
                ),
                Parameter("steps", 3000, "SGD steps per stability test", positive=True),
                Parameter("bisections", 20, "bisection steps on log h", positive=True),
                Parameter("mlp_lams", [1.0, 10.0, 100.0, 1000.0], "WGAN-GP weights for the MLP-critic test"),
                Parameter("steps_mlp", 200, "SGD steps per MLP stability test", positive=True),
                Parameter("bisections_mlp", 12, "bisection steps on log h (MLP)", positive=True),
                *_common(),
            ],
            presets={
                "default": {},
                "quick": {
                    "gammas": [1.0, 8.0],
                    "steps": 500,
                    "bisections": 8,
                    "mlp_lams": [10.0, 100.0],
                    "steps_mlp": 50,
                    "bisections_mlp": 6,
                },
            },
            run=_RUN + "run_stable_lr",
            uses_mesh=False,
            preset_help={"default": "8 gammas", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-adamw",
            description="Adam with L2 in the loss vs AdamW on the same model: per-weight decay",
            parameters=[
                Parameter("lr", 1e-2, "learning rate", positive=True),
                Parameter("weight_decay", 1e-2, "L2 coefficient / decoupled decay", positive=True),
                Parameter("steps", 500, "full-batch steps on scikit-learn digits", positive=True),
                *_common(),
            ],
            presets={"default": {}, "quick": {"steps": 50}},
            run=_RUN + "run_adamw",
            uses_mesh=False,
            preset_help={"default": "softmax regression on digits, 500 steps", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-manifold",
            description="data on a circle: normal vs tangential critic gradient per penalty placement",
            parameters=[
                Parameter(
                    "placements",
                    "interpolates,real,fake",
                    "comma-separated placements (interpolates, real, fake, both)",
                    check=_check_placements,
                ),
                Parameter("lam", 10.0, "penalty weight", nonnegative=True),
                Parameter("steps", 1500, "critic steps", positive=True),
                Parameter("dim", 128, "critic width", positive=True),
                Parameter("depth", 3, "critic hidden layers", positive=True),
                Parameter("lr", 1e-3, "Adam learning rate", positive=True),
                Parameter("fake_radius", 1.5, "radius of the collapsed fake cluster", positive=True),
                Parameter("fake_spread", 0.2, "angular std of the fake cluster (rad)", positive=True),
                Parameter("probe_radii", [0.9, 1.0, 1.1], "radii where the gradient is probed"),
                *_common(),
            ],
            presets={"default": {}, "quick": {"steps": 100}},
            run=_RUN + "run_manifold",
            uses_mesh=False,
            preset_help={"default": "3 placements x 1500 critic steps", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-robustness",
            description="input-gradient penalty on two moons and digits: FGSM/PGD accuracy vs lambda",
            parameters=[
                Parameter("lams", [0.0, 0.01, 0.03, 0.1, 0.3, 1.0], "input-gradient penalty weights"),
                Parameter("eps_moons", 0.15, "L_inf attack radius on two moons", positive=True),
                Parameter(
                    "eps_digits",
                    0.1,
                    "L_inf attack radius on digits (pixels in [0, 1])",
                    positive=True,
                ),
                Parameter("epochs", 60, "training epochs", positive=True),
                Parameter("hidden", 64, "classifier width (2 hidden layers)", positive=True),
                Parameter("lr", 3e-3, "Adam learning rate", positive=True),
                Parameter("pgd_steps", 20, "PGD iterations", positive=True),
                *_common(),
            ],
            presets={"default": {}, "quick": {"epochs": 3, "lams": [0.0, 0.1], "pgd_steps": 3}},
            run=_RUN + "run_robustness",
            uses_mesh=False,
            preset_help={"default": "6 lambdas x 2 datasets", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-restoring-force",
            description="quadratic penalty mu g^2 on the unit circle: violation ~ 1/mu, cond ~ mu",
            parameters=[
                Parameter("mus", [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0], "penalty weights mu"),
                *_common(),
            ],
            presets={"default": {}},
            run=_RUN + "run_restoring_force",
            uses_mesh=False,
            preset_help={"default": "six mu, Newton solves"},
        )
    ),
]
