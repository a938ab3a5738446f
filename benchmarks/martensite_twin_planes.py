"""The {110} twin-plane statistics of a finished 3D martensite run (its checkpoint), beside isotropic normals.

Rebuilds the run's model from ``params.json``, reads ``checkpoint.npz`` (the last accepted state) and prints,
for all walls and per pair of variants, the fraction of the wall weight whose normal lies within 5 and 10
degrees of a {110} normal (and of the pair's own two compatible planes) beside what isotropic normals give,
and the cubic moment <n_x^4 + n_y^4 + n_z^4> (1/2 on {110}, 3/5 isotropic). Also the share of vertices that
are clearly one variant, parent, or a mixture. Serial or under mpiexec (the sums are reduced over ranks).

    .venv/bin/mpiexec -n 2 .venv/bin/python benchmarks/martensite_twin_planes.py runs/m3d
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mpi4py import MPI

import numpy as np

from gpfem.app.parameters import resolve
from gpfem.io.checkpoint import load_checkpoint
from gpfem.mesh import box
from gpfem.models.martensite import Martensite
from gpfem.models.martensite_spec import PARAMETERS


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    a = ap.parse_args()
    comm = MPI.COMM_WORLD
    rdir = Path(a.run_dir)
    p = resolve(PARAMETERS, json.loads((rdir / "params.json").read_text())["parameters"])
    if p["dim"] != 3:
        print("a 3D run is needed (dim = 3)", file=sys.stderr)
        return 2
    grid = (p["nx"], p["ny"], p["nz"], p["Lx"], p["Ly"], p["Lz"])
    model = Martensite(box(p["Lx"], p["Ly"], p["Lz"], p["nx"], p["ny"], p["nz"], comm=comm), p, grid)
    try:
        meta = load_checkpoint(rdir / "checkpoint.npz", model.checkpoint_fields())
        model.prepare(float(meta["time"]))
        tp = model.twin_planes()
        vals = model.values
        n_own = model.S.dofmap.index_map.size_local
        eta = np.abs(np.array([model.w.x.array[np.ravel(m)[:n_own]] for m in model._eta_maps]))
        top = np.sort(eta, axis=0)
        es = abs(model.eta_star)
        counts = comm.allreduce(np.array([
            np.sum((top[-1] > es / 3) & (top[-1] > top[-2] + es / 10)),  # one variant (the fraction rule)
            np.sum(top[-1] <= es / 3),  # parent
            eta.shape[1]], dtype=float))
    finally:
        model.solver.close()
    if comm.rank != 0:
        return 0
    print(f"{rdir}: t = {meta['time']:g}, step {meta['step']}, {p['nx']}x{p['ny']}x{p['nz']} box "
          f"{p['Lx']:g}x{p['Ly']:g}x{p['Lz']:g}, {comm.size} rank(s)")
    print(f"energy {vals['total_energy']:.6f} (Landau {vals['landau_energy']:.4f}, walls "
          f"{vals['gradient_energy']:.4f}, elastic {vals['elastic_energy']:.4f}); vertices: one variant "
          f"{counts[0] / counts[2]:.3f}, parent {counts[1] / counts[2]:.3f}, "
          f"mixture or wall {1 - (counts[0] + counts[1]) / counts[2]:.3f}")
    print("| walls | weight | within 5 deg of {110} | within 10 deg | cubic moment | within 5 / 10 deg of "
          "the pair's planes |")
    print("|---|---|---|---|---|---|")
    for key, st in tp.items():
        if "within_110" not in st:
            print(f"| {key} | {st['weight']:.3g} | | | | |")
            continue
        w, r = st["within_110"], st["random_within_110"]
        pair = ""
        if key != "all":
            wp, rp = st["within_pair"], st["random_within_pair"]
            pair = (f"{wp['5']:.3f} / {wp['10']:.3f} (isotropic {rp['5']:.4f} / {rp['10']:.4f})")
        print(f"| {key} | {st['weight']:.2f} | {w['5']:.3f} (isotropic {r['5']:.3f}) | {w['10']:.3f} "
              f"(isotropic {r['10']:.3f}) | {st['cubic_moment']:.3f} | {pair} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
