"""The settings of the toy WGAN training, declared once.

:func:`train_parameters` is the one list of training settings (name, default, check, meaning): the
command-line specs (:mod:`gpfem.ml.experiments_spec`) declare it, :func:`gpfem.ml.train.train_wgan`
fills missing keys from :data:`TRAIN_DEFAULTS` (built from the same list) and the studies pick the
training keys of their parameters with :func:`train_settings`. Imports no torch.

Defaults follow the WGAN-GP toy script (3 ReLU layers, noise dimension 2, 5 critic steps per
generator step, batch 256, Adam betas (0.5, 0.9), lambda 0.1) except width 128 (not 512) and
lr 1e-3 (not 1e-4), so that a run fits a CPU minute.
"""

from __future__ import annotations

from typing import Any

from gpfem.app.parameters import Parameter

__all__ = ["DATASETS", "TRAIN_DEFAULTS", "common_parameters", "train_parameters", "train_settings"]

DATASETS = ("8gaussians", "25gaussians", "swissroll")
WHERE = ("interpolates", "real", "fake", "both")


def common_parameters(n_seeds: int = 3) -> list[Parameter]:
    """Seeds, device and threads: every ML study has them.

    Args:
        n_seeds: Default number of seeds of the study.
    """
    return [
        Parameter("seed", 0, "first random seed (torch and numpy)", nonnegative=True),
        Parameter(
            "n_seeds",
            n_seeds,
            "number of seeds (seed, seed+1, ...): results are the mean, std, min and max over them",
            positive=True,
        ),
        Parameter("device", "cpu", "torch device", choices=("cpu", "cuda")),
        Parameter("threads", 1, "torch CPU threads", positive=True),
    ]


def train_parameters(n_seeds: int = 3) -> list[Parameter]:
    """The training settings of :func:`gpfem.ml.train.train_wgan`, then :func:`common_parameters`."""
    return [
        Parameter("dataset", "8gaussians", "toy data of the WGAN-GP toy script", choices=DATASETS),
        Parameter("iters", 2500, "generator iterations", positive=True),
        Parameter("critic_iters", 5, "critic steps per generator step", positive=True),
        Parameter("batch", 256, "batch size", positive=True),
        Parameter("dim", 128, "hidden width of both MLPs", positive=True),
        Parameter("depth", 3, "hidden layers of both MLPs", positive=True),
        Parameter("activation", "relu", "critic activation", choices=("relu", "leakyrelu", "tanh")),
        Parameter("lam", 0.1, "penalty weight lambda (the toy script uses 0.1)", nonnegative=True),
        Parameter("where", "interpolates", "where the penalty is taken", choices=WHERE),
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
        *common_parameters(n_seeds),
    ]


#: Defaults of every training setting (one seed: ``n_seeds`` is the studies' business).
TRAIN_DEFAULTS: dict[str, Any] = {
    p.name: p.default for p in train_parameters() if p.name != "n_seeds"
}


def train_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The training settings among a study's resolved parameters (``n_seeds`` excluded)."""
    return {k: params[k] for k in TRAIN_DEFAULTS if k in params}
