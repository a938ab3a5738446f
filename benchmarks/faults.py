"""The fault table: each fault of issue 17 provoked on 1 and 2 ranks, with what gpfem does now.

Every case runs the real command line (``mpiexec -n R gpfem run cahn-hilliard --preset ci ...``, 24 x 24
elements) in a fresh folder and prints the exit code, the seconds until every rank had exited (a hang shows
as ``timeout``), the one ``gpfem:`` line (run folder shortened to ``RUN``) and what is left on disk. A clean
run of the same size is the reference row. Disk full and a read-only folder use a small tmpfs, which needs
root (skipped otherwise).

    .venv/bin/python benchmarks/faults.py            # 1 and 2 ranks
    .venv/bin/python benchmarks/faults.py --ranks 1  # one rank count
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIMEOUT = 120
CI = ["--preset", "ci", "--set", "png=false"]
SMALL = [*CI, "--set", "t_end=1", "--set", "checkpoint_interval=4"]


def gpfem(args: list[str], ranks: int) -> list[str]:
    cmd = [str(BIN / "gpfem"), *args, "--quiet"]
    return [str(BIN / "mpiexec"), "-n", str(ranks), *cmd] if ranks > 1 else cmd


def launch(args: list[str], ranks: int) -> tuple[int | str, float, str]:
    """Run ``gpfem ARGS`` on ``ranks`` ranks: exit code (or ``timeout``), seconds, its ``gpfem:`` lines."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(gpfem(args, ranks), capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0, "(hang)"
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("gpfem:")]
    if "Traceback" in p.stderr:
        lines.append("+ TRACEBACK")
    return p.returncode, time.perf_counter() - t0, " | ".join(lines) or "-"


def history(out: Path) -> str:
    """Rows of history.csv and whether every one is whole and every step appears once."""
    f = out / "history.csv"
    if not f.exists():
        return "no history.csv"
    raw = f.read_bytes()
    lines = raw.decode().splitlines()[1:]
    steps = [ln.split(",")[0] for ln in lines]
    whole = raw.endswith(b"\n") and all(len(ln.split(",")) == 8 for ln in lines)
    ok = whole and steps == [str(i) for i in range(len(steps))]
    return f"{len(steps)} rows {'whole' if ok else 'TORN/DUPLICATE'}"


def leftovers(out: Path) -> str:
    left = [p.name for p in out.rglob("*") if ".tmp" in p.name or p.name.startswith((".gpfem-probe",
                                                                                      ".gpfem.lock"))]
    return ", ".join(left) if left else "none"


class Disk:
    """A tmpfs of a given size (root only)."""

    def __init__(self, where: Path, size: str, ro: bool = False):
        self.path = where / "disk"
        self.path.mkdir()
        opts = f"size={size}" + (",ro" if ro else "")
        cmd = ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(self.path)]
        self.ok = os.geteuid() == 0 and subprocess.run(cmd, capture_output=True).returncode == 0

    def grow(self, size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True)

    def close(self) -> None:
        if self.ok:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


def damage(f: Path, how: str) -> None:
    data = f.read_bytes()
    f.write_bytes({"truncated": data[: len(data) // 2], "random": np.random.default_rng(0).bytes(4000),
                   "empty": b""}[how])


# Each case: (tmp folder, base run folder, ranks) -> (exit, seconds, line, what is on disk after).
Result = tuple[int | str, float, str, str]


def clean_run(tmp: Path, base: Path, ranks: int) -> Result:
    out = tmp / "run"
    code, s, line = launch(["run", "cahn-hilliard", *SMALL, "--out", str(out)], ranks)
    return code, s, line, history(out)


def disk_full_run(tmp: Path, base: Path, ranks: int) -> Result:
    disk = Disk(tmp, "200k")
    try:
        if not disk.ok:
            return "skip", 0.0, "needs root (tmpfs)", ""
        out = disk.path / "run"
        code, s, line = launch(["run", "cahn-hilliard", *CI, "--set", "checkpoint_interval=2", "--out",
                                str(out)], ranks)
        after = f"temp files: {leftovers(out)}; {history(out)}"
        disk.grow("4m")
        again, _, _ = launch(["run", "cahn-hilliard", "--restart", str(out)], ranks)
        return code, s, line, f"{after}; restart with space: exit {again}, {history(out)}"
    finally:
        disk.close()


def disk_full_history(tmp: Path, base: Path, ranks: int) -> Result:
    disk = Disk(tmp, "12k")
    try:
        if not disk.ok:
            return "skip", 0.0, "needs root (tmpfs)", ""
        out = disk.path / "run"
        code, s, line = launch(["run", "cahn-hilliard", *CI, "--set", "output_format=none", "--set",
                                "checkpoint_interval=0", "--set", "t_end=200", "--out", str(out)], ranks)
        return code, s, line, f"{history(out)}; temp files: {leftovers(out)}"
    finally:
        disk.close()


def out_readonly(tmp: Path, base: Path, ranks: int) -> Result:
    disk = Disk(tmp, "64k", ro=True)
    try:
        if not disk.ok:
            return "skip", 0.0, "needs root (tmpfs)", ""
        code, s, line = launch(["run", "cahn-hilliard", *SMALL, "--out", str(disk.path / "run")], ranks)
        return code, s, line, ""
    finally:
        disk.close()


def out_file(tmp: Path, base: Path, ranks: int) -> Result:
    (tmp / "afile").write_text("x")
    code, s, line = launch(["run", "cahn-hilliard", *SMALL, "--out", str(tmp / "afile")], ranks)
    return code, s, line, "file unchanged" if (tmp / "afile").read_text() == "x" else "FILE CHANGED"


def out_under_file(tmp: Path, base: Path, ranks: int) -> Result:
    (tmp / "afile").write_text("x")
    code, s, line = launch(["run", "cahn-hilliard", *SMALL, "--out", str(tmp / "afile" / "sub")], ranks)
    return code, s, line, ""


def restart_case(prepare: Callable[[Path], None], extra: tuple[str, ...] = ("--set", "t_end=2")) -> Callable:
    def case(tmp: Path, base: Path, ranks: int) -> Result:
        out = tmp / "run"
        shutil.copytree(base, out)
        prepare(out)
        code, s, line = launch(["run", "cahn-hilliard", "--restart", str(out), *extra], ranks)
        return code, s, line, history(out)

    return case


def edit_nx(out: Path) -> None:
    p = out / "params.json"
    saved = json.loads(p.read_text())
    saved["parameters"]["nx"] = 20
    p.write_text(json.dumps(saved))


def kill_during_rewrite(tmp: Path, base: Path, ranks: int) -> Result:
    out = tmp / "run"
    shutil.copytree(base, out)
    (out / "checkpoint.prev.npz").replace(out / "checkpoint.npz")  # from step 8: the rewrite drops row 9
    t0 = time.perf_counter()
    proc = subprocess.Popen(gpfem(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=50", "-v"],
                                  ranks)[:-1], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"), start_new_session=True)
    for line in proc.stdout:
        if "restarted from" in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    kept = history(out)
    code, s, line = launch(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2"], ranks)
    after = f"after the kill: {kept}; next restart: exit {code}, {history(out)}"
    return "killed", time.perf_counter() - t0 - s, line, after


def torn_row(out: Path) -> None:
    with (out / "history.csv").open("ab") as fh:
        fh.write(b"10,5.849999999999987,")


def two_runs(tmp: Path, base: Path, ranks: int, restart: bool = False) -> Result:
    out = tmp / "run"
    long_run = ["run", "cahn-hilliard", *CI, "--set", "t_end=100000", "--set", "dt_max=0.05", "--set",
                "output_format=none", "--out", str(out)]
    first = subprocess.Popen(gpfem(long_run, 1), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        t0 = time.perf_counter()
        while not (out / "history.csv").exists() and time.perf_counter() - t0 < TIMEOUT:
            time.sleep(0.2)
        args = ["run", "cahn-hilliard", "--restart", str(out)] if restart else \
            ["run", "cahn-hilliard", *SMALL, "--out", str(out)]
        code, s, line = launch(args, ranks)
        alive = first.poll() is None
    finally:
        first.kill()
        first.wait()
    return code, s, line, f"first run {'still running' if alive else 'DIED'}"


def stale_lock(tmp: Path, base: Path, ranks: int) -> Result:
    out = tmp / "run"
    out.mkdir()
    (out / ".gpfem.lock").write_text(json.dumps({"host": os.uname().nodename, "pid": 2**22 + 1,
                                                 "since": "2026-01-01T00:00:00"}))
    code, s, line = launch(["run", "cahn-hilliard", *SMALL, "--out", str(out)], ranks)
    return code, s, line, f"lock left: {leftovers(out)}"


CASES: list[tuple[str, Callable[..., Result]]] = [
    ("clean run (reference)", clean_run),
    ("disk full during a run (200 kB tmpfs)", disk_full_run),
    ("disk full while history.csv grows (12 kB)", disk_full_history),
    ("--out on a read-only file system", out_readonly),
    ("--out is an existing file", out_file),
    ("--out under a file", out_under_file),
    ("checkpoint.npz truncated", restart_case(lambda o: damage(o / "checkpoint.npz", "truncated"))),
    ("checkpoint.npz random bytes", restart_case(lambda o: damage(o / "checkpoint.npz", "random"))),
    ("checkpoint.npz empty", restart_case(lambda o: damage(o / "checkpoint.npz", "empty"))),
    ("both checkpoint generations damaged", restart_case(
        lambda o: (damage(o / "checkpoint.npz", "truncated"), damage(o / "checkpoint.prev.npz", "empty")))),
    ("params.json truncated", restart_case(
        lambda o: (o / "params.json").write_text((o / "params.json").read_text()[:100]))),
    ("--restart --set nx=20 (nx = 24 run)", restart_case(lambda o: None, ("--set", "nx=20"))),
    ("--restart, params.json edited to nx = 20", restart_case(edit_nx)),
    ("SIGKILL while a restart rewrites history", kill_during_rewrite),
    ("torn last history row, then --restart", restart_case(torn_row)),
    ("second run into a live folder", two_runs),
    ("--restart into a live folder", lambda t, b, r: two_runs(t, b, r, restart=True)),
    ("stale lock of a dead process", stale_lock),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--only", help="run the cases whose name contains this")
    opts = ap.parse_args()
    print("| fault | ranks | exit | s | gpfem's line | on disk after |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="gpfem-faults-") as root:
        bases = {}
        for ranks in opts.ranks:
            bases[ranks] = Path(root) / f"base{ranks}"
            code, _, line = launch(["run", "cahn-hilliard", *SMALL, "--out", str(bases[ranks])], ranks)
            assert code == 0, line
        for i, (name, case) in enumerate(CASES):
            if opts.only and opts.only not in name:
                continue
            for ranks in opts.ranks:
                tmp = Path(root) / f"case{i}-{ranks}"
                tmp.mkdir()
                code, s, line, after = case(tmp, bases[ranks], ranks)
                line = line.replace(str(tmp / "disk" / "run"), "RUN").replace(str(tmp / "disk"), "DISK")
                line = line.replace(str(tmp / "run"), "RUN").replace(str(tmp), "TMP")
                print(f"| {name} | {ranks} | {code} | {s:.1f} | {line} | {after} |", flush=True)


if __name__ == "__main__":
    main()
