"""scripts/setup.sh refuses a disk too small for the install with one line, before pip starts."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _setup(folder: Path, **env: str) -> subprocess.CompletedProcess:
    """Run a copy of scripts/setup.sh (with pyproject.toml) in ``folder``, with ``env`` over this one's."""
    (folder / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", folder / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    full = {k: v for k, v in os.environ.items() if k != "GPFEM_SETUP_FREE_GB"}
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=folder, env={**full, **env}, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("extras", ["ml,test", "test"])
def test_setup_stops_on_a_full_disk_with_one_line(tmp_path, extras):
    # more free space asked for than any disk has: the check must stop the install
    p = _setup(tmp_path, GPFEM_SETUP_FREE_GB=str(10**9), GPFEM_EXTRAS=extras)
    assert p.returncode == 1, p.stdout + p.stderr
    errors = p.stderr.strip().splitlines()
    assert len(errors) == 1, p.stderr
    assert str(tmp_path / ".venv") in errors[0] and "GB free" in errors[0]
    assert "GPFEM_SETUP_FREE_GB" in errors[0] and f"gpfem[{extras}]" in errors[0]
    assert not (tmp_path / ".venv" / ".gpfem-installed").exists()
    assert not list((tmp_path / ".venv").glob("lib/python3*/site-packages/dolfinx*"))  # pip never ran


def test_setup_asks_8_gb_for_torch(tmp_path):
    """The default need with the ml extra is the measured 7.8 GB peak, rounded up: 5 GB free is refused."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "df").write_text("#!/bin/sh\necho 'Filesystem 1024-blocks Used Available Capacity Mounted'\n"
                             "echo '/dev/x 100000000 1 5242880 1% /'\n")
    (fake / "df").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    p = _setup(work, PATH=f"{fake}:{os.environ['PATH']}", GPFEM_EXTRAS="ml,test")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "5.0 GB free" in p.stderr and "needs about 8 GB" in p.stderr, p.stderr
