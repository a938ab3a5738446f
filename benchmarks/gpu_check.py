"""Device check: Cahn-Hilliard (>= 1M DOFs) and the SENT fracture with ``--backend cuda`` against the same
runs on the host's CPU ranks; ``-log_view`` GPU flops and host-device copies; ``pytest tests/ml`` on CUDA.

Run by ``benchmarks/gpu_check.sh`` (which installs the offline payload first); every knob is an
environment variable:

- ``BACKEND`` (``cuda``; ``cpu`` for a dry run on a machine without a GPU), ``CPU_RANKS`` (16),
  ``SCALE`` (``full``: 720 x 720 grid, 1,039,682 DOFs; ``small``: 48 x 48, for dry runs),
  ``GPU_PC`` (``auto``: the fastest of the trial below; or ``jacobi`` | ``gamg`` | ``ilu-cusparse``),
  ``SENT_MESH`` (the payload's pre-generated ``sent.xdmf``), ``SKIP_ML`` (1: no ``pytest tests/ml``),
  ``OUT`` (``runs/gpu-check``), ``GPFEM`` (the ``gpfem`` command), ``MPIEXEC``.

Exit 0 when every run completed, each pair of histories agrees to <= 1e-6 relative, the device runs did
their Krylov flops on the GPU (``BACKEND=cuda``: KSPSolve GPU %F >= 50) and the ml tests passed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("BACKEND", "cuda")
CPU_RANKS = int(os.environ.get("CPU_RANKS", "16"))
SCALE = os.environ.get("SCALE", "full")
GPU_PC = os.environ.get("GPU_PC", "auto")
OUT = Path(os.environ.get("OUT", "runs/gpu-check")).resolve()
BIN = Path(sys.executable).parent
GPFEM = os.environ.get("GPFEM", str(BIN / "gpfem"))
MPIEXEC = os.environ.get("MPIEXEC", str(BIN / "mpiexec"))
SENT_MESH = os.environ.get("SENT_MESH", "")
TOL = 1e-6

#: Cahn-Hilliard grid per scale: P1 x P1 on an n x n square has 2 (n + 1)^2 DOFs.
CH_N = {"full": 720, "small": 48}
#: PFHub 1 physics and initial condition, fixed dt (the same steps on both sides), no files but history.
CH_SETS = ["Lx=200", "Ly=200", "initial=pfhub1", "dt=0.5", "dt_max=0.5", "dt_min=0.5", "png=false",
           "output_format=none", "checkpoint_interval=0", "stop_times=[]"]
#: Krylov on every side; rtol tight enough that two runs agree far below 1e-6.
CH_KSP = ["-gpfem_ch_ksp_type", "gmres", "-gpfem_ch_ksp_rtol", "1e-9", "-gpfem_ch_ksp_max_it", "3000",
          "-gpfem_ch_ksp_gmres_restart", "100"]
#: Preconditioners that run on the device (the trial measures which is fastest there).
GPU_PCS = {
    "jacobi": ["-gpfem_ch_pc_type", "jacobi"],
    "gamg": ["-gpfem_ch_pc_type", "gamg"],
    "ilu-cusparse": ["-gpfem_ch_pc_type", "ilu", "-gpfem_ch_pc_factor_mat_solver_type", "cusparse"],
}
#: The CPU ranks: gpfem's measured default above 33,000 DOFs (solver_defaults.py).
CPU_PC = ["-gpfem_ch_pc_type", "bjacobi", "-gpfem_ch_sub_pc_type", "ilu"]
#: SENT (Miehe 2010 geometry, sent-ci physics) on the full preset's mesh size, pre-peak, fixed load steps.
SENT_SETS = ["h_fine=0.0075", "h_coarse=0.025", "load_max=0.003", "dload=5e-4", "dload_max=5e-4",
             "dload_min=5e-4", "png=false", "output_format=none"]
SENT_KSP = ["-gpfem_displacement_ksp_type", "cg", "-gpfem_displacement_pc_type", "gamg",
            "-gpfem_displacement_ksp_rtol", "1e-10", "-gpfem_damage_ksp_type", "cg",
            "-gpfem_damage_pc_type", "gamg", "-gpfem_damage_ksp_rtol", "1e-10"]
#: -log_view events reported.
EVENTS = ("SNESSolve", "KSPSolve", "MatMult", "PCApply", "SNESJacobianEval")
#: History columns that count work rather than state: not compared.
SKIP_COLUMNS = ("step", "newton_iterations", "alt_min_iterations")


def sets(values: list[str]) -> list[str]:
    """``--set k=v`` arguments."""
    return [a for v in values for a in ("--set", v)]


def run(name: str, args: list[str], backend: str, ranks: int, log_view: bool = False,
        timeout: float = 400) -> dict:
    """One ``gpfem run``; returns status, wall times, summary and the parsed ``-log_view``."""
    out = OUT / name
    cmd = [GPFEM, "run", *args, "--backend", backend, "--out", str(out), "--quiet"]
    if log_view:
        cmd += ["-log_view", f"ascii:{out}.logview.txt", "-log_view_gpu_time"]
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
        rc, err = p.returncode, (p.stderr.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        rc, err = 124, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    (OUT / f"{name}.cmd").write_text(shlex.join(cmd) + "\n")
    res = {"name": name, "backend": backend, "ranks": ranks, "rc": rc, "error": err if rc else "",
           "wall": wall}
    sfile = out / "summary.json"
    if sfile.exists():
        s = json.loads(sfile.read_text())
        r = s["results"]
        dofs = r.get("dofs", (r.get("dofs_u") or 0) + (r.get("dofs_alpha") or 0) or None)
        res.update(status=s["status"], gpfem_wall=s["wall_time_s"], dofs=dofs, steps=r.get("steps"))
    if log_view and Path(f"{out}.logview.txt").exists():
        res["log"] = parse_log_view(Path(f"{out}.logview.txt"))
    return res


def parse_log_view(path: Path) -> dict[str, dict[str, float]]:
    """Events of a ``-log_view`` with device columns: flop, GPU Mflop/s, copies each way, GPU %F."""
    out: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        tok = line.split()
        if len(tok) < 20 or tok[0] not in EVENTS:
            continue
        if tok[0] in out:  # the first stage (Main Stage) only
            continue

        def num(s: str) -> float:
            return float("nan") if s == "n/a" else float(s)

        gpu_mflops, c2g, c2g_mb, g2c, g2c_mb, gpu_pct = (num(t) for t in tok[-6:])
        out[tok[0]] = {"flop": num(tok[5]), "gpu_mflops": gpu_mflops, "cpu_to_gpu": c2g,
                       "cpu_to_gpu_mb": c2g_mb, "gpu_to_cpu": g2c, "gpu_to_cpu_mb": g2c_mb,
                       "gpu_pct": gpu_pct}
    return out


def history_difference(a: Path, b: Path) -> tuple[float, str]:
    """Largest relative difference between two history.csv files (same rows), and where.

    Relative to the value; values below 1e-6 of their column's largest magnitude are compared against that
    floor (a pre-peak dissipated energy of 1e-12 is noise, not a result).
    """
    ra = list(csv.DictReader(a.open()))
    rb = list(csv.DictReader(b.open()))
    if len(ra) != len(rb):
        return math.inf, f"{len(ra)} vs {len(rb)} rows"
    worst, where = 0.0, ""
    for k in ra[0] if ra else []:
        if k in SKIP_COLUMNS:
            continue
        xa = [float(r[k] or 0) for r in ra]
        xb = [float(r[k] or 0) for r in rb]
        floor = 1e-6 * max(max(map(abs, xa)), 1e-300)
        for i, (x, y) in enumerate(zip(xa, xb, strict=True)):
            d = abs(x - y) / max(abs(x), floor)
            if d > worst:
                worst, where = d, f"{k} row {i}"
    return worst, where


def pc_trial(n: int) -> tuple[str, list[dict]]:
    """Two Cahn-Hilliard steps on the device with each candidate preconditioner; the fastest completed."""
    rows = []
    base = ["cahn-hilliard", "--preset", "ci", *sets([*CH_SETS, f"nx={n}", f"ny={n}", "t_end=1.0"]), *CH_KSP]
    for pc, opts in GPU_PCS.items():
        r = run(f"trial-{pc}", [*base, *opts], BACKEND, 1, timeout=180)
        r["pc"] = pc
        rows.append(r)
        print(f"  trial {pc:13s} {'completed' if r.get('status') == 'completed' else 'FAILED':9s} "
              f"wall {r['wall']:7.1f} s  {r['error'][:100]}", flush=True)
    ok = [r for r in rows if r.get("status") == "completed"]
    return (min(ok, key=lambda r: r["gpfem_wall"])["pc"] if ok else "jacobi"), rows


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def main() -> int:
    t_start = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    info = json.loads(subprocess.run([GPFEM, "info"], capture_output=True, text=True, check=True).stdout)
    (OUT / "info.json").write_text(json.dumps(info, indent=2))
    print(f"PETSc {info['petsc']} from {info['petsc_library']}; backends {info['backends']}; "
          f"CUDA device {info['cuda_device']}", flush=True)
    if not info["backends"].get(BACKEND, False):
        print(f"gpu_check: this PETSc has no {BACKEND} backend", file=sys.stderr)
        return 2
    if BACKEND == "cuda" and not info["cuda_device"]["usable"]:
        print(f"gpu_check: no usable CUDA device: {info['cuda_device'].get('reason')}", file=sys.stderr)
        return 2
    n = CH_N[SCALE]
    print(f"== Cahn-Hilliard {n} x {n} ({2 * (n + 1) ** 2:,} DOFs): preconditioner trial on {BACKEND}",
          flush=True)
    pc, _ = pc_trial(n) if GPU_PC == "auto" else (GPU_PC, [])
    print(f"  -> {pc}", flush=True)
    ch = ["cahn-hilliard", "--preset", "ci", *sets([*CH_SETS, f"nx={n}", f"ny={n}", "t_end=2.5"]), *CH_KSP]
    results = []
    pairs = []
    dev = run("ch-device", [*ch, *GPU_PCS[pc]], BACKEND, 1, log_view=True)
    cpu = run("ch-cpu", [*ch, *CPU_PC], "cpu", CPU_RANKS)
    results += [dev, cpu]
    pairs.append(("cahn-hilliard", dev, cpu))
    print("== SENT fracture", flush=True)
    mesh = ["--mesh", SENT_MESH] if SENT_MESH else []
    fr = ["fracture", "--preset", "sent-ci", *mesh, *sets(SENT_SETS), *SENT_KSP]
    dev = run("sent-device", fr, BACKEND, 1, log_view=True)
    cpu = run("sent-cpu", fr, "cpu", CPU_RANKS)
    results += [dev, cpu]
    pairs.append(("SENT", dev, cpu))

    ok = True
    print("\n| case | backend | ranks | DOFs | steps | wall s (gpfem) | wall s (command) | status |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['backend']} | {r['ranks']} | {fmt(r.get('dofs'), ',')} | "
              f"{fmt(r.get('steps'), 'd')} | {fmt(r.get('gpfem_wall'), '.2f')} | {r['wall']:.2f} | "
              f"{r.get('status', 'failed rc ' + str(r['rc']))} {r['error'][:80]} |")
        ok &= r.get("status") == "completed"
    print("\n| case | event | flop | GPU Mflop/s | GPU %F | CPU->GPU copies (MB) | GPU->CPU copies (MB) |")
    print("|---|---|---|---|---|---|---|")
    for name, dev, _ in pairs:
        for ev, e in dev.get("log", {}).items():
            print(f"| {name} | {ev} | {e['flop']:.3e} | {fmt(e['gpu_mflops'], '.0f')} | {e['gpu_pct']:.0f} | "
                  f"{e['cpu_to_gpu']:.0f} ({e['cpu_to_gpu_mb']:.1f}) | {e['gpu_to_cpu']:.0f} "
                  f"({e['gpu_to_cpu_mb']:.1f}) |")
        ksp = dev.get("log", {}).get("KSPSolve")
        if BACKEND == "cuda":
            on_gpu = bool(ksp) and ksp["gpu_pct"] >= 50
            print(f"{name}: KSPSolve GPU flops {ksp['flop'] * ksp['gpu_pct'] / 100:.3e} "
                  f"({ksp['gpu_pct']:.0f}%)" if ksp else f"{name}: no KSPSolve in -log_view")
            ok &= on_gpu
    print()
    for name, dev, cpu in pairs:
        if dev.get("status") == "completed" and cpu.get("status") == "completed":
            d, where = history_difference(OUT / dev["name"] / "history.csv",
                                          OUT / cpu["name"] / "history.csv")
            ratio = cpu["gpfem_wall"] / dev["gpfem_wall"]
            print(f"{name}: largest relative history difference {BACKEND} (1 rank) vs cpu "
                  f"({CPU_RANKS} ranks) {d:.2e} ({where}); wall {dev['gpfem_wall']:.2f} s vs "
                  f"{cpu['gpfem_wall']:.2f} s: cpu/{BACKEND} = {ratio:.2f}")
            ok &= d <= TOL
    if os.environ.get("SKIP_ML", "0") != "1":
        print("== pytest tests/ml", flush=True)
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tests/ml")], cwd=ROOT)
        ok &= p.returncode == 0
    print(f"gpu_check: {'PASSED' if ok else 'FAILED'} in {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
