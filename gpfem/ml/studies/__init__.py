"""Run functions of the ML studies (``gpfem run wgan-gp``, ``gpfem run gp-...``), one family per module.

* :mod:`~gpfem.ml.studies.toy_wgan`: WGAN training on the toy data: one run with the published
  baselines, and the sweeps over lambda, penalty placement, critic activation and weight clipping;
* :mod:`~gpfem.ml.studies.training_runs`: what those share: one setting trained for several seeds,
  the history rows tagged with run and seed, the sweep over settings;
* :mod:`~gpfem.ml.studies.stable_lr`: largest stable step vs penalty weight (Dirac-GAN, MLP critic);
* :mod:`~gpfem.ml.studies.adamw`: Adam + L2 in the loss vs AdamW, per-weight effective decay;
* :mod:`~gpfem.ml.studies.manifold`: normal vs tangential critic gradient on data on a circle;
* :mod:`~gpfem.ml.studies.robustness`: input-gradient penalty vs FGSM/PGD accuracy;
* :mod:`~gpfem.ml.studies.restoring_force`: the quadratic penalty as a restoring force.

Every run function has the signature ``run(params, ctx) -> results``: it writes ``history.csv`` and
PNGs into ``ctx.out_dir`` and returns its measured values only. ``summary.json`` (parameters,
versions, wall time, status and these results) is written once, by :func:`gpfem.app.run_command.cmd_run`.
Values measured over several seeds are reported by :func:`gpfem.ml.seeds.over_seeds` (mean, std,
min, max, per seed).
"""

__all__: list[str] = []
