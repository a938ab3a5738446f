"""Physics models, each in files of one concern.

``<name>_spec`` (parameters, presets; cheap to import), ``<name>`` (the model on a mesh: fields, energy,
boundary conditions, solvers, measures), ``<name>_run`` (its :class:`~gpfem.app.runner.RunHooks`: mesh,
model, summary values; the shared runner does the loop) and ``<name>_post`` (pictures from a run
folder). They use only the public API of :mod:`gpfem` — the same a plug-in uses (``docs/extending.md``).
"""
