"""Errors, the ``gpfem`` logger and graceful stop: what every other package may use.

Imports no other gpfem package, and no DOLFINx or PETSc at import time.
"""
