"""Physics models.

Each model has a ``<name>_spec`` module (parameters, presets; cheap to import) and an implementation
module (fields, energy, stepping) imported only to run.
"""
