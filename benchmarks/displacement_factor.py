"""MUMPS LU against MUMPS ``L D L^T`` on fracture's displacement Jacobian, side by side in one process.

The displacement Jacobian of a preset (``sent`` by default: 7,950 DOFs) is assembled at a damaged state
(alpha uniform random in [0, 0.3], fixed seed), then factorised and solved ``--repeat`` times by each
factorisation, interleaved (the matrix is re-assembled before each so PETSc factorises it anew). The table
gives the median time per numeric factorisation and per solve, and the residual of the last solve; the
ratio line is LU over ``L D L^T``. ``L D L^T`` (``pc_type cholesky``) is the direct default of the
displacement (``NonlinearSolver(symmetric=True)``).

    .venv/bin/python benchmarks/displacement_factor.py [--preset sent] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="sent")
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args(argv)

    from mpi4py import MPI

    import numpy as np
    from helpers import fracture_model
    from petsc4py import PETSc

    m = fracture_model(a.preset, MPI.COMM_WORLD)
    try:
        m.alpha.x.array[:] = np.random.default_rng(0).random(m.alpha.x.array.size) * 0.3
        snes = m.solver_u.snes
        A = snes.getJacobian()[0]
        snes.computeJacobian(m.u.x.petsc_vec, A)
        b = A.createVecLeft()
        b.set(1.0)
        kinds = ("lu", "cholesky")
        ksps, xs = {}, {}
        for kind in kinds:
            ksp = PETSc.KSP().create(MPI.COMM_WORLD)
            ksp.setType("preonly")
            ksp.getPC().setType(kind)
            ksp.getPC().setFactorSolverType("mumps")
            ksp.setOperators(A)
            ksps[kind], xs[kind] = ksp, A.createVecRight()
            ksp.solve(b, xs[kind])  # analysis and a first factorisation, not timed
        times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in kinds}
        for _ in range(a.repeat):
            for kind in kinds:
                A.assemble()  # a new matrix state: the next set-up factorises anew
                ksp = ksps[kind]
                ksp.setOperators(A)
                t0 = time.perf_counter()
                ksp.getPC().setUp()
                t1 = time.perf_counter()
                ksp.solve(b, xs[kind])
                t2 = time.perf_counter()
                times[kind][0].append(t1 - t0)
                times[kind][1].append(t2 - t1)
        print(f"{a.preset}: {A.getSize()[0]} DOFs, {MPI.COMM_WORLD.size} rank(s), medians of {a.repeat}")
        print(f"{'factorisation':14s} {'factor ms':>10s} {'solve ms':>9s} {'residual':>9s}")
        med = {}
        for kind in kinds:
            r = A.createVecLeft()
            A.mult(xs[kind], r)
            r.axpy(-1.0, b)
            med[kind] = (statistics.median(times[kind][0]), statistics.median(times[kind][1]))
            name = "LU" if kind == "lu" else "L D L^T"
            print(f"{name:14s} {1e3 * med[kind][0]:10.2f} {1e3 * med[kind][1]:9.2f} {r.norm():9.1e}")
        print(f"LU / L D L^T: factorisation {med['lu'][0] / med['cholesky'][0]:.2f}, "
              f"solve {med['lu'][1] / med['cholesky'][1]:.2f}")
        for ksp in ksps.values():
            ksp.destroy()
    finally:
        m.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
