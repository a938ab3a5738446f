"""What a model plugs into: typed parameters, the ``periodic`` parameter, the registry of specs.

Parameters are resolved preset <- TOML <- ``--set``; a run gets a
:class:`~gpfem.app.registry.RunContext`. This package sits below the models and ML studies that
register here (the registry loads them by name, it does not import them); the ``gpfem`` command
(:mod:`gpfem.cli`) sits on top.
"""
