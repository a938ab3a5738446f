"""The field series of a run that is killed: readable as it stands, and continued by ``--restart``."""

import json
import signal
import subprocess
import time

import numpy as np
import pytest
from helpers import BIN, ROOT, read_csv, run_cli

from gpfem.io.pvd import read_pvd, vtk_piece_files


def _series(pvd):
    """Times and the integral of c (the mass) at every entry, read with pyvista (every piece must open)."""
    import pyvista as pv

    reader = pv.get_reader(str(pvd))
    out = []
    for t in reader.time_values:
        reader.set_active_time_value(t)
        data = reader.read()
        while isinstance(data, pv.MultiBlock):
            data = data.combine() if data.n_blocks > 1 else data[0]
        out.append((float(t), float(data.integrate_data().point_data["c"][0])))
    return out


def test_killed_run_leaves_a_readable_series_and_restart_continues_it(tmp_path):
    out = tmp_path / "killed"
    cmd = [str(BIN / "gpfem"), "run", "cahn-hilliard", "--preset", "ci", "--out", str(out), "--quiet",
           "--set", "t_end=1e6", "--set", "dt_max=0.05", "--set", "png=false",
           "--set", "field_interval=1", "--set", "checkpoint_interval=4"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Freeze the run once it has written 11 outputs and some after its last checkpoint, then kill it.
    deadline, wanted = time.time() + 300, 11
    while time.time() < deadline and proc.poll() is None:
        pvd, ckpt = out / "fields.pvd", out / "checkpoint.npz"
        if pvd.exists() and ckpt.exists() and len(read_pvd(pvd)) >= wanted:
            proc.send_signal(signal.SIGSTOP)
            with np.load(ckpt) as z:
                t_ckpt = json.loads(str(z["__meta__"]))["time"]
            if read_pvd(pvd)[-1][0] > t_ckpt:
                break
            proc.send_signal(signal.SIGCONT)
            wanted = len(read_pvd(pvd)) + 1
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # Every entry of the index opens, at the times of the history rows (fields every step).
    entries = read_pvd(out / "fields.pvd")
    series = _series(out / "fields.pvd")
    assert len(series) == len(entries) >= 11
    rows = read_csv(out / "history.csv")
    hist_times = [r["time"] for r in rows]
    assert [t for t, _ in series] == pytest.approx(hist_times[: len(series)], rel=1e-12)
    mass = np.array([m for _, m in series])  # every written piece holds a whole, conserved field
    assert np.abs(mass / rows[0]["mass"] - 1).max() < 1e-10
    assert series[-1][0] > t_ckpt  # outputs after the last checkpoint: the restart must drop them

    # A piece whose entry never reached the index (the kill fell between the two): the restart removes it.
    (out / "fields" / "fields999999.pvtu").write_text("<VTKFile/>")
    (out / "fields" / "fields999999_p0_0.vtu").write_text("<VTKFile/>")
    # Restart on 2 ranks to 0.2 past the checkpoint: one series from 0 to the new t_end.
    t_end = round(t_ckpt + 0.2, 6)
    run_cli(["run", "cahn-hilliard", "--restart", str(out), "--set", f"t_end={t_end}", "--quiet"], np=2)
    after = _series(out / "fields.pvd")
    times = [t for t, _ in after]
    assert times[0] == 0.0 and times[-1] == pytest.approx(t_end, rel=1e-12)
    assert np.all(np.diff(times) > 0)  # the killed run's entries after the checkpoint are gone
    kept = [t for t, _ in series if t <= t_ckpt]
    assert 0 < len(kept) < len(series)
    assert times[: len(kept)] == kept
    assert all(t > t_ckpt for t in times[len(kept):])
    mass = np.array([m for _, m in after])
    assert np.abs(mass / rows[0]["mass"] - 1).max() < 1e-10
    # no orphaned pieces: every .pvtu in the folder is in the index
    on_disk = sorted(p.relative_to(out).as_posix() for p in (out / "fields").glob("*.pvtu"))
    assert on_disk == sorted(f for _, f in read_pvd(out / "fields.pvd"))
    named = {q.name for f in on_disk for q in vtk_piece_files(out / f)}
    assert sorted(p.name for p in (out / "fields").glob("*.vtu")) == sorted(named)
    assert sorted(p.name for p in out.glob("*.pvd")) == ["fields.pvd"]


def test_a_new_run_in_an_old_folder_keeps_none_of_its_pieces(tmp_path):
    """A new series (no --restart) in a folder with an earlier run's pieces: only the new pieces remain."""
    out = tmp_path / "again"
    (out / "fields").mkdir(parents=True)
    stale = [out / "fields" / n for n in ("fields000042.pvtu", "fields000042_p0_0.vtu", "fields.pvd")]
    for f in stale:
        f.write_text("<VTKFile/>")
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out), "--quiet", "--set", "t_end=0.2",
             "--set", "png=false"])
    assert not any(f.exists() for f in stale)
    named = sorted(f for _, f in read_pvd(out / "fields.pvd"))
    assert named and sorted(p.relative_to(out).as_posix() for p in (out / "fields").glob("*.pvtu")) == named
