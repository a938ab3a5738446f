"""SENT under shear (the ``shear`` preset, Miehe et al. 2010 shear test): gpfem's runs beside the references.

Runs (or reads) gpfem runs of the single-edge-notched square under shear (top edge moved in x with
u_y = 0, bottom clamped, left and right edges u_y = 0 as published, or free in older runs; AT2, spectral
split, plane strain; E = 210 kN/mm^2, nu = 0.3, Gc = 2.7e-3 kN/mm) and prints one table: the lateral
boundary condition, peak force, displacement at the peak, force at u = 0.015 mm, the crack's kink angle
(direction from the notch tip to the centre line's point 0.1 mm along it), its direction further on (how
it curves), where it ends (its lowest point, the load at which its tip reaches the bottom edge, the
stretch of the bottom edge that is broken in the last field output), each beside a reference value and
where that value comes from.

References:

* peak about 0.53 kN near u = 0.0095 mm: Miehe, Hofacker & Welschinger (2010), shear test, ell = 0.015 mm,
  AT2 with the spectral split, plane strain, left and right edges at u_y = 0 (read off their
  load-displacement figure); a deal.II reproduction of the same set-up gives 0.528 kN.
* kink angle -70.5 deg: linear elastic fracture mechanics, pure mode II at the notch tip, maximum
  tangential stress criterion (Erdogan & Sih 1963: K_I sin t + K_II (3 cos t - 1) = 0 with K_I = 0 gives
  cos t = 1/3). The shear specimen is mode II dominated, not pure mode II.
* crack path: Miehe et al. 2010 (their figure of the shear test) show the crack curving down from the notch
  tip and running to the bottom edge near the lower-right corner; qualitative only.

Usage::

    .venv/bin/python benchmarks/fracture_shear.py --from runs/shear_full     # a run (done or stopped)
    .venv/bin/python benchmarks/fracture_shear.py --coarse                   # free edges (test_shear), 1 min
    .venv/bin/python benchmarks/fracture_shear.py --ci                       # shear-ci to broken, ~20 min
    .venv/bin/python benchmarks/fracture_shear.py --run --ranks 2 --out DIR  # the preset: hours here
    .venv/bin/python benchmarks/fracture_shear.py --from A --from B          # runs side by side
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from gpfem.crack import path_angle, point_at

__all__ = ["COARSE", "REFERENCES", "analyse", "bottom_damage", "bottom_end", "main", "table"]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: The coarse free-edge version (tests/fracture/test_shear.py runs it): ell = 0.04 mm, h = 0.02 mm in the
#: band, left and right edges free (not the published boundary conditions).
COARSE = {"ell": 0.04, "h_fine": 0.02, "h_coarse": 0.1, "band": "[0.15,0.55]", "band_x": "[0,1]",
          "rollers": "", "stop_when_broken": 0, "load_max": 0.013,
          "dload": 5e-4, "dload_max": 5e-4, "dload_min": 5e-4, "dload_grow": 1.0,
          "max_damage_increment": 1.0, "checkpoint_interval": 0, "field_interval": 0}

#: quantity -> (reference value, source)
REFERENCES = {
    "lateral": ("u_y = 0", "Miehe et al. 2010 (left and right edges)"),
    "peak_force": (0.53, "Miehe et al. 2010, ell = 0.015 (figure); deal.II reproduction 0.528"),
    "u_at_peak": (0.0095, "Miehe et al. 2010 (figure, about)"),
    "kink_angle": (-70.5, "LEFM, pure mode II, max. tangential stress (Erdogan & Sih 1963)"),
    "reaches_bottom": ("yes", "Miehe et al. 2010 figure: runs to the bottom edge"),
    "bottom_damage": ("near x = 1", "same (near the lower-right corner; qualitative)"),
}

#: the crack "meets the bottom edge" when its lowest point is within this many ell of y = 0 (the centre
#: line ends where alpha falls below crack_level, about ell ln 2 short of a sharp AT2 crack's end)
BOTTOM_ELLS = 2.0


def bottom_end(path: np.ndarray, ell: float) -> tuple[tuple[float, float], bool]:
    """The lowest point of a crack path and whether it is within ``BOTTOM_ELLS * ell`` of y = 0."""
    P = np.asarray(path, dtype=float)
    low = P[int(np.argmin(P[:, 1]))]
    return (float(low[0]), float(low[1])), bool(low[1] <= BOTTOM_ELLS * ell)


def bottom_damage(run: Path, level: float) -> tuple[tuple[float, float], float] | None:
    """``((x_lo, x_hi), u)``: the stretch of the bottom edge where alpha >= level in the last field output
    (at load u), or ``None`` when no field was written or the bottom edge is undamaged."""
    from gpfem.io.plots import field_series, read_series

    pvd = field_series(run)
    if pvd is None:
        return None
    grid, t = read_series(pvd)
    pts, alpha = np.asarray(grid.points), np.asarray(grid.point_data["alpha"])
    on = (np.abs(pts[:, 1]) < 1e-9) & (alpha >= level)
    if not on.any():
        return None
    return (float(pts[on, 0].min()), float(pts[on, 0].max())), t


def _rows(path: Path) -> list[dict[str, float]]:
    with path.open() as fh:
        return [{k: float(v) if v not in ("", None) else math.nan for k, v in r.items()}
                for r in csv.DictReader(fh)]


def analyse(run: Path) -> dict:
    """The table's quantities from a run folder (``history.csv``, ``crack_path.csv``, ``params.json``)."""
    run = Path(run)
    p = json.loads((run / "params.json").read_text())["parameters"]
    rows = _rows(run / "history.csv")
    u = np.array([r["load"] for r in rows])
    f = np.array([r["reaction_force"] for r in rows])
    i = int(np.nanargmax(f))
    out = {"run": str(run), "ell": p["ell"], "h_fine": p["h_fine"], "steps": len(rows) - 1,
           "lateral": "u_y = 0" if str(p.get("rollers", "")).strip() else "free",
           "final_load": float(u[-1]), "peak_force": float(f[i]), "u_at_peak": float(u[i]),
           "force_at_0.015": float(np.interp(0.015, u, f)) if u[-1] >= 0.015 else math.nan,
           "alt_min_iterations": int(np.nansum([r["alt_min_iterations"] for r in rows]))}
    summary = run / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        out["wall_s"] = s.get("wall_time_s")
        out["ranks"] = s.get("mpi_size") or s.get("ranks")
        res = s.get("results", {})
        out["dofs"] = (res.get("dofs_u"), res.get("dofs_alpha"))
    line = run / "crack_path.csv"
    if line.exists():
        pts = [r for r in _rows(line) if r["branch"] == 0]
        main = np.array([[r["x"], r["y"]] for r in pts])
        tip0 = np.array([p["notch_length"], 0.5 * p["L"]])
        q = point_at(main, 0.1)
        out.update({"kink_angle": math.degrees(math.atan2(q[1] - tip0[1], q[0] - tip0[0])),
                    "angle_0.1_to_0.2": path_angle(main, 0.1, 0.2),
                    "angle_0.2_to_end": path_angle(main, 0.2),
                    "overall_angle": path_angle(main),
                    "tip": tuple(float(v) for v in main[-1]),
                    "lowest_point": bottom_end(main, p["ell"])[0],
                    "reaches_bottom": "yes" if bottom_end(main, p["ell"])[1] else "no",
                    "point_at_0.1": tuple(float(v) for v in point_at(main, 0.1)),
                    "crack_length": float(np.linalg.norm(np.diff(main, axis=0), axis=1).sum())})
    edge = bottom_damage(run, p.get("crack_level", 0.5))
    if edge is not None:
        out["bottom_damage"], out["bottom_damage_u"] = edge
    if "crack_tip_x" in rows[0]:
        tips = [(r["load"], r["crack_tip_x"], r["crack_tip_y"]) for r in rows
                if not math.isnan(r["crack_tip_x"])]
        if tips:
            out["tip_last_step"] = (tips[-1][1], tips[-1][2])
            out["lowest_tip_y"] = min(t[2] for t in tips)
            down = [t for t in tips if t[2] <= BOTTOM_ELLS * p["ell"]]
            if down:
                out["u_at_bottom"], out["tip_at_bottom"] = down[0][0], (down[0][1], down[0][2])
                out["force_at_bottom"] = float(f[[r["load"] for r in rows].index(down[0][0])])
        k = int(np.nanargmin(f[i:])) + i
        out["min_force_after_peak"], out["u_at_min_force"] = float(f[k]), float(u[k])
    if "crack_tip_x" in rows[0] and u[-1] >= 0.015:
        j = int(np.argmin(np.abs(u - 0.015)))
        out["tip_at_0.015"] = (rows[j]["crack_tip_x"], rows[j]["crack_tip_y"])
        out["length_at_0.015"] = rows[j]["crack_length"]
    return out


def table(results: list[dict]) -> str:
    """The runs' quantities side by side with the references."""
    def fmt(v, spec=".4g"):
        if isinstance(v, tuple):
            return "(" + ", ".join(format(x, ".3f") if isinstance(x, float) else str(x) for x in v) + ")"
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        return format(v, spec) if isinstance(v, float | int) else str(v)

    names = [f"ell={r['ell']:g} h={r['h_fine']:g}" for r in results]
    head = f"{'quantity':<22}" + "".join(f"{n:>22}" for n in names) + f"  {'reference':<24} source"
    lines = [head, "-" * len(head)]
    quantities = [("lateral", "left/right edges"), ("peak_force", "peak force (kN)"),
                  ("u_at_peak", "u at peak (mm)"),
                  ("force_at_0.015", "force at u=0.015 (kN)"), ("kink_angle", "kink: tip->arc 0.1 (deg)"),
                  ("angle_0.1_to_0.2", "angle, arc 0.1-0.2"), ("angle_0.2_to_end", "angle, arc 0.2-end"),
                  ("overall_angle", "path start -> tip"),
                  ("point_at_0.1", "path at arc 0.1 mm"), ("tip", "path end (fields)"),
                  ("lowest_point", "lowest point of path"), ("reaches_bottom", "path within 2 ell of y=0"),
                  ("bottom_damage", "y=0: alpha>=0.5 on x in"), ("bottom_damage_u", "  (fields at u =)"),
                  ("u_at_bottom", "u: tip reaches y<2 ell"), ("tip_at_bottom", "  tip there"),
                  ("force_at_bottom", "  force there (kN)"),
                  ("min_force_after_peak", "min force after peak"), ("u_at_min_force", "  at u (mm)"),
                  ("tip_last_step", "tip, last step (hist.)"), ("lowest_tip_y", "lowest tip y (hist.)"),
                  ("tip_at_0.015", "tip at u=0.015"), ("crack_length", "crack length (mm)"),
                  ("final_load", "final u (mm)"), ("steps", "load steps"),
                  ("alt_min_iterations", "alternate minimisations"), ("dofs", "u + alpha DOFs"),
                  ("ranks", "ranks"), ("wall_s", "wall time (s)")]
    for key, label in quantities:
        ref, src = REFERENCES.get(key, ("", ""))
        lines.append(f"{label:<22}" + "".join(f"{fmt(r.get(key)):>22}" for r in results)
                     + f"  {fmt(ref) if ref != '' else '':<24} {src}")
    return "\n".join(lines)


def _run(out: Path, ranks: int, sets: dict, preset: str = "shear") -> Path:
    cmd = [str(BIN / "gpfem"), "run", "fracture", "--preset", preset, "--out", str(out)]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    if ranks > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(ranks), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="runs", action="append", default=[], help="an existing run folder")
    ap.add_argument("--coarse", action="store_true", help="run the coarse free-edge version (minutes)")
    ap.add_argument("--ci", action="store_true", help="run shear-ci until broken (tens of minutes)")
    ap.add_argument("--run", action="store_true", help="run the shear preset until broken (hours)")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench_shear"))
    ap.add_argument("--load-max", type=float, default=None, help="limit of the imposed displacement "
                    "(default: the preset's)")
    args = ap.parse_args(argv)
    runs = [Path(r) for r in args.runs]
    if args.coarse:
        runs.append(_run(Path(args.out) / "coarse", args.ranks, COARSE))
    limit = {} if args.load_max is None else {"load_max": args.load_max}
    if args.ci:
        runs.append(_run(Path(args.out) / "ci", args.ranks, {**limit, "field_interval": 10}, "shear-ci"))
    if args.run:
        runs.append(_run(Path(args.out) / "preset", args.ranks,
                         {**limit, "field_interval": 10, "checkpoint_interval": 5}))
    if not runs:
        ap.error("give --from RUN, --coarse, --ci or --run")
    print(table([analyse(r) for r in runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
