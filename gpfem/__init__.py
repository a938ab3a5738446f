"""gpfem: finite elements for gradient-penalty energies.

A bulk energy plus a penalty on sharp change, (kappa/2)|grad phi|^2, written once as a UFL energy,
differentiated by UFL, solved by PETSc under MPI — for Cahn-Hilliard, Ginzburg-Landau martensite and
phase-field fracture; and the same penalty for ML critics in :mod:`gpfem.ml`.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
