"""scripts/setup.sh refuses a disk too small for the install with one line, before pip starts."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_setup_stops_on_a_full_disk_with_one_line(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # more free space asked for than any disk has: the check must stop the install
    env = {**os.environ, "GPFEM_SETUP_FREE_GB": str(10**9)}
    p = subprocess.run(["bash", "scripts/setup.sh"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    errors = p.stderr.strip().splitlines()
    assert len(errors) == 1, p.stderr
    assert str(tmp_path / ".venv") in errors[0] and "GB free" in errors[0]
    assert "GPFEM_SETUP_FREE_GB" in errors[0]
    assert not (tmp_path / ".venv" / ".gpfem-installed").exists()
    assert not list((tmp_path / ".venv").glob("lib/python3*/site-packages/dolfinx*"))  # pip never ran
