"""SENT (and shear) benchmark: gpfem beside the plain alternate-minimisation scheme, same mesh and loads.

The reference is the scheme of the well-known FEniCSx phase-field tutorial, ported to DOLFINx 0.11 and made
MPI-correct (allreduced L2 error, ghosts updated): AT2, no split, plane strain; per load step, solve the
linear elasticity problem with the damage fixed, then the (quadratic) damage problem with the displacement
fixed, project onto ``alpha_prev <= alpha <= 1``, until ``||alpha - alpha_old||_L2 < 1e-6``; fixed load
steps: 0 -> 0.005 mm by 1e-4, then to 0.0064 mm by 2e-5 (121 steps).

gpfem solves the same energy on the same mesh to the same final load with its defaults but
``solver=altmin`` (bounds by SNES
``vinewtonrsls``, adaptive load increments refined where the crack runs, max-norm test on the damage
increment). Published values (digitised Miehe et al. 2010): tension peak ~0.701 kN at u ~0.00555 mm; shear
peak ~0.531 kN at u ~0.0094 mm.

Usage::

    .venv/bin/python benchmarks/fracture_sent.py                 # 1 and 2 ranks, gpfem and reference
    .venv/bin/python benchmarks/fracture_sent.py --ranks 1 --quick  # coarse mesh, a minute
    .venv/bin/python benchmarks/fracture_sent.py --shear          # also gpfem's shear preset (long)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import launch_worker  # noqa: E402

__all__ = ["main", "reference_scheme", "run_gpfem"]

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = {"sent": (0.701, 0.00555), "shear": (0.531, 0.0094)}


def _loads(quick: bool) -> list[float]:
    import numpy as np

    if quick:
        return [float(v) for v in np.round(np.concatenate([np.arange(1, 11) * 5e-4,
                                                          0.005 + np.arange(1, 26) * 1e-4]), 12)]
    return [float(v) for v in np.round(np.concatenate([np.arange(1, 51) * 1e-4,
                                                      0.005 + np.arange(1, 71) * 2e-5]), 12)]


def _params(quick: bool, preset: str = "sent") -> dict:
    from gpfem.app.parameters import resolve
    from gpfem.models.fracture_spec import PARAMETERS, PRESETS

    # the alternate minimisation these tables were measured with (benchmarks/fracture_solvers.py compares
    # it with the default hybrid solver)
    over = {"output_format": "none", "png": False, "checkpoint_interval": 0, "solver": "altmin"}
    if preset == "sent":
        over["load_max"] = _loads(quick)[-1]
    if quick:
        over.update(ell=0.03, h_fine=0.015, h_coarse=0.05, band=[0.4, 0.6], dload_min=5e-5)
    return resolve(PARAMETERS, PRESETS[preset], over)


def reference_scheme(p: dict, loads: list[float], comm) -> dict:
    """The plain alternate minimisation of the tutorial (fixed steps, L2 stopping test 1e-6)."""
    import basix.ufl
    import numpy as np
    import ufl
    from dolfinx import fem
    from dolfinx.fem.petsc import LinearProblem, assemble_vector
    from petsc4py import PETSc

    from gpfem.app.registry import RunContext
    from gpfem.models.fracture_run import build_mesh

    bundle = build_mesh(p, RunContext(out_dir=Path("."), comm=comm))
    msh = bundle.mesh
    V = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), 1, shape=(2,)))
    A = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), 1))
    u, alpha, alpha_old, alpha_prev = fem.Function(V), fem.Function(A), fem.Function(A), fem.Function(A)
    E, nu, Gc, ell, k_res = p["E"], p["nu"], p["Gc"], p["ell"], p["k_res"]
    mu, lmbda = E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))

    def sigma(v):
        eps = ufl.sym(ufl.grad(v))
        return 2 * mu * eps + lmbda * ufl.tr(eps) * ufl.Identity(2)

    def psi(v):
        eps = ufl.sym(ufl.grad(v))
        return 0.5 * lmbda * ufl.tr(eps) ** 2 + mu * ufl.inner(eps, eps)

    du, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    da, b = ufl.TrialFunction(A), ufl.TestFunction(A)
    g = (1 - alpha) ** 2 + k_res
    zero = fem.Constant(msh, np.zeros(2))
    a_u = g * ufl.inner(sigma(du), ufl.sym(ufl.grad(v))) * ufl.dx
    L_u = ufl.inner(zero, v) * ufl.dx
    # AT2: Gc/2 (alpha^2/ell + ell |grad alpha|^2) + (1 - alpha)^2 psi, quadratic in alpha
    a_a = (Gc / ell + 2 * psi(u)) * da * b * ufl.dx + Gc * ell * ufl.inner(ufl.grad(da), ufl.grad(b)) * ufl.dx
    L_a = 2 * psi(u) * b * ufl.dx
    fdim = msh.topology.dim - 1
    load = fem.Constant(msh, 0.0)
    bot = fem.locate_dofs_topological(V, fdim, bundle.facets("bottom"))
    top_y = fem.locate_dofs_topological(V.sub(1), fdim, bundle.facets("top"))
    top_x = fem.locate_dofs_topological(V.sub(0), fdim, bundle.facets("top"))
    bcs = [fem.dirichletbc(np.zeros(2), bot, V), fem.dirichletbc(load, top_y, V.sub(1)),
           fem.dirichletbc(fem.Constant(msh, 0.0), top_x, V.sub(0))]
    opts = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
    prob_u = LinearProblem(a_u, L_u, bcs=bcs, u=u, petsc_options_prefix="ref_u_", petsc_options=opts)
    prob_a = LinearProblem(a_a, L_a, u=alpha, petsc_options_prefix="ref_alpha_", petsc_options=opts)
    err_form = fem.form((alpha - alpha_old) ** 2 * ufl.dx)
    ind = fem.Function(V)
    ind.x.array[top_y] = 1.0
    F_u = fem.form(ufl.derivative(0.5 * g * ufl.inner(sigma(u), ufl.sym(ufl.grad(u))) * ufl.dx, u, v))
    forces, its = [], []
    for load_value in loads:
        load.value = load_value
        k = 0
        while True:
            k += 1
            alpha_old.x.array[:] = alpha.x.array
            prob_u.solve()
            prob_a.solve()
            alpha.x.array[:] = np.clip(alpha.x.array, alpha_prev.x.array, 1.0)
            err = np.sqrt(comm.allreduce(fem.assemble_scalar(err_form)))
            if err < 1e-6 or k >= 10000:
                break
        alpha_prev.x.array[:] = alpha.x.array
        R = assemble_vector(F_u)
        R.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        forces.append(float(R.dot(ind.x.petsc_vec)))
        R.destroy()
        its.append(k)
    ndofs = (V.dofmap.index_map.size_global * 2, A.dofmap.index_map.size_global)
    return {"forces": forces, "loads": loads, "its": its, "dofs": ndofs}


def run_gpfem(p: dict, comm) -> dict:
    """gpfem's fracture model, defaults of the preset, to the same final load, no field output."""
    from gpfem.app.registry import RunContext
    from gpfem.io.history import read_history
    from gpfem.models.fracture_run import run

    out = None
    if comm.rank == 0:
        out = tempfile.mkdtemp(prefix="gpfem-bench-")
    out = Path(comm.bcast(out, root=0))
    res = run(p, RunContext(out_dir=out, comm=comm))
    data = {}
    if comm.rank == 0:
        rows = read_history(out / "history.csv")
        data = {"forces": [float(r["reaction_force"]) for r in rows[1:]],
                "loads": [float(r["load"]) for r in rows[1:]],
                "its": [int(r["alt_min_iterations"]) for r in rows[1:]],
                "dofs": (res["dofs_u"], res["dofs_alpha"]), "rejected": res["rejected_steps"]}
    return data


def worker(args: argparse.Namespace) -> None:
    """One measurement on the current communicator; rank 0 prints one JSON line."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    p = _params(args.quick, args.case)
    t0 = time.perf_counter()
    if args.scheme == "reference":
        data = reference_scheme(p, _loads(args.quick), comm)
    else:
        data = run_gpfem(p, comm)
    comm.barrier()
    wall = time.perf_counter() - t0
    if comm.rank == 0:
        data.update(wall=wall, ranks=comm.size, scheme=args.scheme, case=args.case)
        print("RESULT " + json.dumps(data), flush=True)


def _launch(scheme: str, ranks: int, quick: bool, case: str) -> dict:
    args = ["--scheme", scheme, "--case", case, *(["--quick"] if quick else [])]
    return launch_worker(__file__, args, ranks)


def main(argv: list[str] | None = None) -> int:
    """Run the table (or one worker measurement with ``--worker``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quick", action="store_true", help="coarse mesh (ell = 0.03, h = 0.015)")
    ap.add_argument("--shear", action="store_true", help="also run gpfem's shear preset")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scheme", default="gpfem", help=argparse.SUPPRESS)
    ap.add_argument("--case", default="sent", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    rows = []
    for n in args.ranks:
        for scheme in ("reference", "gpfem"):
            r = _launch(scheme, n, args.quick, "sent")
            rows.append(r)
            _print_row(r, header=len(rows) == 1)
    if args.shear:
        for n in args.ranks[:1]:
            r = _launch("gpfem", n, args.quick, "shear")
            rows.append(r)
            _print_row(r)
    print()
    for n in args.ranks:
        ref = next(r for r in rows if r["scheme"] == "reference" and r["ranks"] == n)
        gp = next(r for r in rows if r["scheme"] == "gpfem" and r["ranks"] == n and r["case"] == "sent")
        pr, pg = max(ref["forces"]), max(gp["forces"])
        same = abs(pg - pr) / pr < 0.01
        print(f"{n} rank(s): peak {pg:.4f} vs {pr:.4f} kN ({100 * (pg - pr) / pr:+.2f}%, "
              f"{'equal within 1%' if same else 'NOT within 1%'}); wall-time ratio reference/gpfem = "
              f"{ref['wall'] / gp['wall']:.2f}")
    return 0


def _print_row(r: dict, header: bool = False) -> None:
    import numpy as np

    if header:
        print(f"{'case':6s} {'scheme':10s} {'ranks':>5s} {'u DOFs':>7s} {'a DOFs':>7s} {'steps':>5s} "
              f"{'alt-min':>7s} {'max/step':>8s} {'peak kN':>8s} {'u@peak':>8s} {'published':>16s} "
              f"{'wall s':>7s}")
    f = np.array(r["forces"])
    i = int(f.argmax())
    pub = PUBLISHED[r["case"]]
    print(f"{r['case']:6s} {r['scheme']:10s} {r['ranks']:5d} {r['dofs'][0]:7d} {r['dofs'][1]:7d} "
          f"{len(f):5d} {sum(r['its']):7d} {max(r['its']):8d} {f[i]:8.4f} {r['loads'][i]:8.5f} "
          f"{pub[0]:7.3f} @ {pub[1]:.5f} {r['wall']:7.1f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
