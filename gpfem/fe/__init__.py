"""Finite-element numerics: energies, constants, the solver layer, periodicity, PETSc backends.

Energies from named terms, ``fem.Constant`` parameters, the solver layer over SNES (option
prefixes, bounds, defaults by size, a direct fallback), periodic constraints and the reduced
problem, PETSc backends and the loaded PETSc build. Imports :mod:`gpfem.base` and
:mod:`gpfem.mesh` only; writes no files (that is :mod:`gpfem.io`).
"""
