"""End to end through the CLI: outputs, read-back with pyvista, restart, serial vs mpiexec -n 2."""

import json

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli

COLUMNS = ["step", "time", "dt", "free_energy", "bulk_energy", "gradient_energy", "mass",
           "newton_iterations"]


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch") / "serial"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out)])
    return out


def test_outputs_exist_and_are_consistent(ci_run):
    rows = read_csv(ci_run / "history.csv")
    assert list(rows[0]) == COLUMNS
    assert rows[0]["step"] == 0 and rows[-1]["time"] == pytest.approx(20.0)
    # lands exactly on the requested stop times
    times = [r["time"] for r in rows]
    assert 1.0 in times and 10.0 in times
    m0 = rows[0]["mass"]
    assert max(abs(r["mass"] - m0) for r in rows) / m0 < 1e-10
    e = np.array([r["free_energy"] for r in rows])
    assert np.all(np.diff(e) <= 1e-9 * e[0])
    s = read_json(ci_run / "summary.json")
    assert s["status"] == "completed" and s["mpi_size"] == 1
    assert s["parameters"]["kappa"] == 2.0 and "dolfinx" in s["versions"]
    assert s["results"]["final_free_energy"] == pytest.approx(rows[-1]["free_energy"], rel=1e-12)
    assert s["results"]["steps"] == len(rows) - 1
    for f in ("fields.pvd", "c.png", "free_energy.png", "checkpoint.npz", "params.json"):
        assert (ci_run / f).stat().st_size > 0, f


def test_pvd_series_reads_back_with_pyvista(ci_run):
    from gpfem.io.plots import read_series

    grid, t = read_series(ci_run / "fields.pvd", -1)
    assert t == pytest.approx(20.0)
    c_vtk = np.sort(np.asarray(grid.point_data["c"]))
    with np.load(ci_run / "checkpoint.npz") as z:
        c_ckpt = np.sort(z["c"].ravel())
    assert c_vtk.shape == c_ckpt.shape
    assert np.max(np.abs(c_vtk - c_ckpt)) < 1e-12
    # The first time in the series is the initial condition.
    grid0, t0 = read_series(ci_run / "fields.pvd", 0)
    assert t0 == 0.0 and abs(float(np.mean(grid0.point_data["c"])) - 0.5025) < 5e-3


def test_restart_continues_the_same_history(ci_run, tmp_path):
    out = tmp_path / "stopped"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out), "--set", "max_steps=7"])
    assert len(read_csv(out / "history.csv")) == 8
    run_cli(["run", "cahn-hilliard", "--restart", str(out), "--set", "max_steps=0"])
    full = read_csv(ci_run / "history.csv")
    cont = read_csv(out / "history.csv")
    assert len(cont) == len(full)
    for a, b in zip(full, cont, strict=True):
        for k in COLUMNS:
            assert b[k] == pytest.approx(a[k], rel=1e-9, abs=1e-12), k
    s = read_json(out / "summary.json")
    assert s["restarted"] is True and s["status"] == "completed"
    # one field series over the whole run, the same times as the uninterrupted run
    from gpfem.io.pvd import read_pvd

    times = [t for t, _ in read_pvd(out / "fields.pvd")]
    assert times == pytest.approx([t for t, _ in read_pvd(ci_run / "fields.pvd")], rel=1e-9)
    assert times[0] == 0.0 and times[-1] == 20.0 and all(np.diff(times) > 0)
    assert sorted(p.name for p in out.glob("*.pvd")) == ["fields.pvd"]


def test_serial_and_two_ranks_agree(ci_run, tmp_path):
    out = tmp_path / "np2"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out)], np=2)
    a = read_csv(ci_run / "history.csv")
    b = read_csv(out / "history.csv")
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        for k in COLUMNS:
            assert abs(ra[k] - rb[k]) <= 1e-8 * max(1.0, abs(ra[k])), (k, ra[k], rb[k])
    assert read_json(out / "summary.json")["mpi_size"] == 2


def test_user_mesh_with_a_preset(tmp_path):
    from helpers import ROOT

    out = tmp_path / "tshape"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--mesh", str(ROOT / "meshes/pfhub_1c_tshape.geo"),
             "--set", "t_end=5", "--set", "png=false", "--out", str(out)])
    rows = read_csv(out / "history.csv")
    s = json.loads((out / "summary.json").read_text())
    assert s["results"]["cells"] > 1000 and s["mesh"].endswith("pfhub_1c_tshape.geo")
    # PFHub 1c's T (area 4000): the integral of c(0) is 2007.9491 (quadrature), conserved
    assert rows[0]["mass"] == pytest.approx(2007.9491, rel=1e-4)
    assert abs(rows[-1]["mass"] - rows[0]["mass"]) / rows[0]["mass"] < 1e-10


def test_post_remakes_plots(ci_run):
    for png in ("c.png", "free_energy.png"):
        (ci_run / png).unlink()
    p = run_cli(["post", str(ci_run)])
    assert "c.png" in p.stdout
    assert (ci_run / "c.png").stat().st_size > 10_000 and (ci_run / "free_energy.png").exists()


def test_vtx_output_option(tmp_path):
    out = tmp_path / "vtx"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=1", "--set", "output_format=vtx",
             "--out", str(out)])
    assert (out / "fields.bp").is_dir() and any((out / "fields.bp").iterdir())
    assert not (out / "fields.pvd").exists()


def test_sigterm_stops_cleanly_with_a_checkpoint_and_restarts(tmp_path):
    """A batch system's SIGTERM (or Ctrl-C) finishes the step, checkpoints, writes the summary, exits 130."""
    import signal
    import subprocess
    import time

    from helpers import BIN, ROOT

    out = tmp_path / "term"
    proc = subprocess.Popen([str(BIN / "gpfem"), "run", "cahn-hilliard", "--preset", "ci", "--out", str(out),
                             "--set", "t_end=1e6", "--set", "dt_max=0.05", "--set", "png=false"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        hist = out / "history.csv"
        if hist.exists() and len(hist.read_text().splitlines()) > 6:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "SIGTERM received" in err and "Traceback" not in err
    s = read_json(out / "summary.json")
    assert s["status"] == "interrupted"
    rows = read_csv(out / "history.csv")
    with np.load(out / "checkpoint.npz") as z:
        meta = json.loads(str(z["__meta__"]))
    assert meta["step"] == rows[-1]["step"] and meta["time"] == pytest.approx(rows[-1]["time"])
    n = int(rows[-1]["step"])
    run_cli(["run", "cahn-hilliard", "--restart", str(out), "--set", f"max_steps={n + 3}"])
    steps = [r["step"] for r in read_csv(out / "history.csv")]
    assert steps == list(range(n + 4))
    assert read_json(out / "summary.json")["status"] == "stopped (max_steps)"  # t_end = 1e6 not reached
