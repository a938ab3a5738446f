"""The Allen-Cahn plug-in of ``examples/allen_cahn``, installed into a temporary folder (not the venv).

After ``pip install --target``, the entry point ``allen-cahn`` in the group ``gpfem.models`` is all that makes
``gpfem run allen-cahn`` work: presets, ``--set``, ``mpiexec``, outputs and ``--restart`` as for a built-in.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, read_csv, read_json, run_cli

from gpfem.io.pvd import read_pvd


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """PYTHONPATH with the installed plug-in first, then this checkout."""
    tmp = tmp_path_factory.mktemp("plugin")
    src = tmp / "src"  # build a copy: pip's in-tree build leaves build/ and *.egg-info behind
    shutil.copytree(ROOT / "examples/allen_cahn", src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--disable-pip-version-check", "--target", str(site), str(src)],
                   check=True, capture_output=True, timeout=600)
    assert (site / "allen_cahn" / "model.py").exists()
    return {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_listed_as_a_plug_in(env):
    out = run_cli(["list"], env=env).stdout
    assert "allen-cahn:" in out and "plug-in allen_cahn.spec:SPEC" in out
    out = run_cli(["list", "allen-cahn"], env=env).stdout
    assert "kappa = 1.0 [> 0]" in out and "wall:" in out
    bad = run_cli(["run", "allen-cahn", "--set", "kappa=-1"], env=env, check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "gpfem: error: parameter 'kappa': must be > 0, got -1.0"


def _wall(tmp_path, env, name, *sets, np=1):
    out = tmp_path / name
    args = ["run", "allen-cahn", "--preset", "wall", "--out", str(out), "--quiet"]
    for s in sets:
        args += ["--set", s]
    run_cli(args, np=np, env=env)
    return out


@pytest.mark.parametrize("kappa", [1.0, 2.0])
def test_flat_wall_energy_is_sqrt_2_kappa_W_over_6(tmp_path, env, kappa):
    """A wall relaxes to the tanh profile: energy per unit length sqrt(2 kappa W)/6, half of it gradient."""
    out = _wall(tmp_path, env, f"k{kappa}", f"kappa={kappa}")
    rows = read_csv(out / "history.csv")
    # the columns docs/extending.md names (tests/plugins/test_extending_doc.py)
    assert list(rows[0]) == ["step", "time", "dt", "energy", "bulk", "gradient", "newton_iterations"]
    s = read_json(out / "summary.json")
    Ly, W = s["parameters"]["Ly"], s["parameters"]["W"]
    analytic = np.sqrt(2 * kappa * W) / 6
    assert s["results"]["analytic_wall_energy"] == pytest.approx(analytic, rel=1e-14)
    assert rows[-1]["energy"] / Ly == pytest.approx(analytic, rel=1e-3)
    assert rows[-1]["gradient"] / rows[-1]["energy"] == pytest.approx(0.5, rel=2e-3)  # equipartition
    e = np.array([r["energy"] for r in rows])
    assert len(e) > 10 and np.all(np.diff(e) <= 1e-12 * e[0])  # a gradient flow: never up
    assert rows[-1]["time"] == 50.0 and s["results"]["final_energy"] == rows[-1]["energy"]
    assert [t for t, _ in read_pvd(out / "fields.pvd")] == [0.0, 50.0]


def test_two_ranks_and_restart_like_a_built_in(tmp_path, env):
    """2 ranks stopped after 8 steps, continued on 1 rank: the history of an uninterrupted serial run."""
    full = _wall(tmp_path, env, "full")
    out = _wall(tmp_path, env, "stopped", "max_steps=8", "checkpoint_interval=4", "field_interval=2",
                "png=true", np=2)
    s = read_json(out / "summary.json")
    assert s["mpi_size"] == 2 and s["status"] == "stopped (max_steps)"
    # png = true: the run's end called the plug-in's post (allen_cahn.model:post), phi at step 8
    assert s["results"]["png"] == ["phi.png", "energy.png"]
    assert all((out / f).stat().st_size > 1000 for f in s["results"]["png"])
    assert [r["step"] for r in read_csv(out / "history.csv")][-1] == 8
    assert len(read_pvd(out / "fields.pvd")) == 5  # steps 0, 2, 4, 6, 8
    run_cli(["run", "allen-cahn", "--restart", str(out), "--set", "max_steps=0", "--quiet"], env=env)
    a, b = read_csv(full / "history.csv"), read_csv(out / "history.csv")
    assert [r["step"] for r in b] == [r["step"] for r in a]
    for ra, rb in zip(a, b, strict=True):
        for k in ("time", "dt", "energy", "bulk", "gradient"):
            assert rb[k] == pytest.approx(ra[k], rel=1e-8, abs=1e-14), k
    s = read_json(out / "summary.json")
    assert s["restarted"] is True and s["status"] == "completed" and s["model"] == "allen-cahn"
    times = [t for t, _ in read_pvd(out / "fields.pvd")]
    assert times[0] == 0.0 and times[-1] == 50.0 and np.all(np.diff(times) > 0)
