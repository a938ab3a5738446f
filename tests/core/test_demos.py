"""The demos and the notebook example run as a user runs them (``CI=true``: their short versions).

Each runs in a fresh folder; the numbers they print are checked, not only the exit code.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
from helpers import ROOT


def _run(script: str, cwd, np: int = 1) -> str:
    cmd = [sys.executable, str(ROOT / script)]
    if np > 1:
        cmd = [os.path.join(os.path.dirname(sys.executable), "mpiexec"), "-n", str(np), *cmd]
    env = dict(os.environ, CI="true", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _number(pattern: str, text: str) -> list[float]:
    m = re.search(pattern, text)
    assert m, f"no match for {pattern!r} in:\n{text}"
    return [float(g) for g in m.groups()]


def internal_imports(path) -> list[str]:
    """``file:line: imports gpfem.x`` for each import of a gpfem module (not ``gpfem`` itself) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("gpfem.")]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module] if (node.module or "").startswith("gpfem.") else []
        else:
            names = []
        found += [f"{path.name}:{node.lineno}: imports {n}" for n in names]
    return found


def test_internal_imports_are_found(tmp_path):
    """The check below sees both forms of an internal import, nested too; ``gpfem`` itself passes."""
    script = tmp_path / "probe.py"
    script.write_text("import gpfem\nfrom gpfem import Energy\nimport numpy, gpfem.io.plots\n"
                      "def f():\n    from gpfem.mesh import box\n")
    assert internal_imports(script) == ["probe.py:3: imports gpfem.io.plots",
                                        "probe.py:5: imports gpfem.mesh"]


def test_demos_and_examples_use_only_the_public_api():
    """``demos/*.py`` and ``examples/*.py`` import ``gpfem`` itself, never one of its modules."""
    scripts = sorted([*(ROOT / "demos").glob("*.py"), *(ROOT / "examples").glob("*.py")])
    assert len(scripts) >= 4
    bad = [f"{script.parent.name}/{line}" for script in scripts for line in internal_imports(script)]
    assert not bad, "internal gpfem imports (use the names of gpfem/__init__.py):\n" + "\n".join(bad)


def test_cahn_hilliard_demo(tmp_path):
    """F falls, mass is kept, the files and pictures are in the folder the demo named (no mkdir by it); on
    2 ranks the same energies."""
    energies = {}
    for np_ in (1, 2):
        cwd = tmp_path / f"np{np_}"
        cwd.mkdir()
        out = _run("demos/cahn_hilliard_spinodal.py", cwd, np=np_)
        f0, f1, dm = _number(r"F: ([\d.]+) -> ([\d.]+); relative mass change ([\d.e+-]+)", out)
        assert f1 < f0 and dm < 1e-10
        energies[np_] = (f0, f1)
        run = cwd / "runs" / "demo_spinodal"
        for name in ("history.csv", "fields.pvd", "checkpoint.npz", "c.png", "free_energy.png"):
            assert (run / name).is_file(), name
    assert energies[2] == pytest.approx(energies[1], rel=1e-4)


def test_fracture_demo(tmp_path):
    """SENT (coarse): a peak force below the fine mesh's 0.70 kN (ell = 0.03 here), a crack through the
    ligament (0.5 mm) by the dissipated energy."""
    out = _run("demos/fracture_sent.py", tmp_path)
    peak, _ = _number(r"peak force ([\d.]+) kN at u = ([\d.]+)", out)
    (length,) = _number(r"crack length from the energy: ([\d.]+) mm", out)
    assert 0.5 < peak < 0.75
    assert 0.45 < length < 0.65
    assert (tmp_path / "runs" / "demo-fracture-sent-ci" / "damage.png").is_file()


@pytest.mark.slow
def test_martensite_demo(tmp_path):
    """Twin walls at 45 degrees (elastic compatibility of the two Bain strains)."""
    out = _run("demos/martensite_twins.py", tmp_path)
    angle, cos4 = _number(r"wall normal angle \(mod 90\) ([\d.]+) deg, <cos 4 theta> = ([-\d.]+)", out)
    assert abs(angle - 45.0) < 2.0 and cos4 < -0.8


def test_notebook_example(tmp_path):
    """In memory: energy never rises, mass kept, c separated towards the wells; two pictures off screen."""
    out = _run("examples/notebook_cahn_hilliard.py", tmp_path)
    assert "refused: parameter 'mobility': must be > 0" in out
    f0, f1 = _number(r"F ([\d.]+) -> ([\d.]+) \(never rose: True\)", out)
    (dm,) = _number(r"mass kept to ([\d.e+-]+)", out)
    lo, hi = _number(r"c in \[([\d.]+), ([\d.]+)\]", out)
    assert f1 < 0.8 * f0 and dm < 1e-10
    assert lo < 0.32 and hi > 0.68  # from 0.5 +- 0.05 to about the wells 0.3 and 0.7
    for name in ("c.png", "free_energy.png"):
        assert (tmp_path / "runs" / "notebook_cahn_hilliard" / name).stat().st_size > 1000
