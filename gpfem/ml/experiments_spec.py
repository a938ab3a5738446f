"""Registry specs of the ML experiments (``gpfem run wgan-gp``, ``gpfem run gp-...``).

Imports no torch: the run functions in :mod:`gpfem.ml.studies` are imported only when a run starts.
The training settings and their defaults come from :mod:`gpfem.ml.train_config` (one place).
"""

from __future__ import annotations

from gpfem.app.parameters import Parameter
from gpfem.app.registry import Spec, register
from gpfem.ml.train_config import WHERE, common_parameters, train_parameters

__all__ = ["SPECS"]

_RUN = "gpfem.ml.studies."


def _check_placements(value: str) -> str | None:
    bad = [w for w in value.split(",") if w.strip() not in WHERE]
    return f"unknown placement(s) {bad}; use {', '.join(WHERE)}" if bad else None


# 8 Gaussians: linear learning-rate decay to zero over 1500 iterations. Measured on CPU, seeds 0-2:
# 76.0 / 74.9 / 71.1 % high-quality samples, 8/8 modes each; the constant rate over 2500 iterations
# gave 83.1 / 68.0 / 43.2 % (the final samples jitter with the step size). ``ci`` is the same
# training with 2 seeds instead of 5.
_8G = {"dataset": "8gaussians", "iters": 1500, "lr_decay": True}
_DATA_PRESETS = {
    "8gaussians": {**_8G, "n_seeds": 5},
    "25gaussians": {"dataset": "25gaussians", "iters": 2000},
    "swissroll": {"dataset": "swissroll", "iters": 1000},
    "ci": {**_8G, "n_seeds": 2},
}

SPECS = [
    register(
        Spec(
            name="wgan-gp",
            description="WGAN-GP on the WGAN-GP paper's toy data, with VEEGAN/PacGAN mode metrics",
            parameters=train_parameters(),
            presets=_DATA_PRESETS,
            run=_RUN + "toy_wgan:run_wgan_gp",
            uses_mesh=False,
            preset_help={
                "8gaussians": "8 Gaussians on a ring, 5 seeds x 1500 iterations with lr decay (~3 min)",
                "25gaussians": "5x5 grid of Gaussians (2000 iterations per seed)",
                "swissroll": "swiss roll (1000 iterations per seed)",
                "ci": "8gaussians with 2 seeds (the test asserts >= 7 modes, >= 50% HQ in the mean)",
            },
        )
    ),
    register(
        Spec(
            name="gp-lambda-sweep",
            description="WGAN-GP for several lambda: gradient norms, mode coverage, critic flatness",
            parameters=[
                *train_parameters(),
                Parameter("lams", [0.001, 0.01, 0.1, 1.0, 10.0, 100.0], "penalty weights swept"),
            ],
            presets={
                "default": {"iters": 1500},
                "quick": {"iters": 300, "lams": [0.01, 1.0, 100.0], "n_seeds": 2},
            },
            run=_RUN + "toy_wgan:run_lambda_sweep",
            uses_mesh=False,
            preset_help={"default": "six lambdas x 3 seeds x 1500 iterations", "quick": "smoke test"},
        )
    ),
    register(
        Spec(
            name="gp-placement",
            description="penalty at interpolates / real / fake / both, from a collapsed generator",
            parameters=[*train_parameters(), Parameter("targets", [1.0, 0.0], "penalty centres tried")],
            presets={
                "default": {"iters": 1500},
                "recovery": {"iters": 500, "eval_every": 25},
                "quick": {"iters": 200, "targets": [1.0], "eval_every": 25, "n_seeds": 2},
            },
            run=_RUN + "toy_wgan:run_placement",
            uses_mesh=False,
            preset_help={
                "default": "4 placements x 2 centres x 3 seeds x 1500 iterations",
                "recovery": "500 iterations with mode metrics every 25 (recovery speed)",
                "quick": "smoke",
            },
        )
    ),
    register(
        Spec(
            name="gp-activations",
            description="critic activation ReLU vs LeakyReLU vs tanh under the gradient penalty",
            parameters=train_parameters(),
            presets={"default": {"iters": 1500}, "quick": {"iters": 200, "n_seeds": 2}},
            run=_RUN + "toy_wgan:run_activations",
            uses_mesh=False,
            preset_help={"default": "3 activations x 3 seeds x 1500 iterations", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-clipping",
            description="weight clipping (WGAN) at several bounds vs the gradient penalty",
            parameters=[
                *train_parameters(),
                Parameter("clips", [0.01, 0.1], "clipping bounds c"),
                Parameter("with_gp", True, "also train the gradient-penalty reference run"),
            ],
            presets={"default": {"iters": 1500}, "quick": {"iters": 200, "clips": [0.01], "n_seeds": 2}},
            run=_RUN + "toy_wgan:run_clipping",
            uses_mesh=False,
            preset_help={"default": "GP and 2 clipping bounds x 3 seeds x 1500 iterations", "quick": "smoke"},
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
                *common_parameters(),
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
                    "n_seeds": 2,
                },
            },
            run=_RUN + "stable_lr:run_stable_lr",
            uses_mesh=False,
            preset_help={
                "default": "8 gammas (deterministic); MLP critic: 4 lambdas x 3 seeds",
                "quick": "smoke",
            },
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
                *common_parameters(),
            ],
            presets={"default": {}, "quick": {"steps": 50, "n_seeds": 2}},
            run=_RUN + "adamw:run_adamw",
            uses_mesh=False,
            preset_help={"default": "softmax regression on digits, 500 steps, 3 seeds", "quick": "smoke"},
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
                *common_parameters(),
            ],
            presets={"default": {}, "quick": {"steps": 100, "n_seeds": 2}},
            run=_RUN + "manifold:run_manifold",
            uses_mesh=False,
            preset_help={"default": "3 placements x 3 seeds x 1500 critic steps", "quick": "smoke"},
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
                *common_parameters(),
            ],
            presets={
                "default": {},
                "quick": {"epochs": 3, "lams": [0.0, 0.1], "pgd_steps": 3, "n_seeds": 2},
            },
            run=_RUN + "robustness:run_robustness",
            uses_mesh=False,
            preset_help={"default": "6 lambdas x 2 datasets x 3 seeds", "quick": "smoke"},
        )
    ),
    register(
        Spec(
            name="gp-restoring-force",
            description="quadratic penalty mu g^2 on the unit circle: violation ~ 1/mu, cond ~ mu",
            parameters=[
                Parameter("mus", [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0], "penalty weights mu"),
                Parameter("threads", 1, "torch CPU threads", positive=True),
            ],
            presets={"default": {}},
            run=_RUN + "restoring_force:run_restoring_force",
            uses_mesh=False,
            preset_help={"default": "six mu, Newton solves (deterministic: no seeds)"},
        )
    ),
]
