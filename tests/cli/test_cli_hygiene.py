"""Command-line hygiene: closed pipes, unreadable meshes, imports of cheap commands, log levels."""

import subprocess
import sys

import pytest
from helpers import BIN, ROOT, read_json, run_cli


def test_list_into_a_closed_pipe_ends_quietly():
    """``gpfem list cahn-hilliard | head -3``: three lines, no BrokenPipeError traceback."""
    p = subprocess.run(["bash", "-c", f"set -o pipefail; {BIN / 'gpfem'} list cahn-hilliard | head -3"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.stdout.splitlines()[0].startswith("cahn-hilliard:") and len(p.stdout.splitlines()) == 3
    assert p.stderr == "" and p.returncode == 0
    # the reader is gone before gpfem writes a byte: still no traceback, exit 0
    proc = subprocess.Popen([str(BIN / "gpfem"), "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("garbage.msh", "this is not a mesh\n", "is not a gmsh .msh file"),
    ("syntax.geo", "Point(1) = {0, 0, 0;\n", "syntax error"),
])
def test_unreadable_mesh_file_is_bad_input(tmp_path, name, content, fragment):
    """One line, exit code 2, before the run starts (no output folder)."""
    mesh = tmp_path / name
    mesh.write_text(content)
    p = run_cli(["run", "cahn-hilliard", "--mesh", str(mesh), "--out", str(tmp_path / "o")], check=False)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpfem: error:") and fragment in lines[0]
    assert not (tmp_path / "o").exists()


def test_mesh_that_fails_while_read_is_bad_input_too(tmp_path):
    """A .msh with a valid header and a broken body fails in gmsh's reader: still one line and exit 2."""
    mesh = tmp_path / "truncated.msh"
    mesh.write_text("$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\ngarbage\n")
    p = run_cli(["run", "cahn-hilliard", "--mesh", str(mesh), "--out", str(tmp_path / "o")], check=False)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read mesh file" in lines[0] and "Traceback" not in p.stderr
    assert read_json(tmp_path / "o" / "summary.json")["status"].startswith("failed")


def test_cheap_commands_import_no_dolfinx_or_torch():
    code = (
        "import sys\n"
        "import gpfem\n"
        "assert gpfem.Parameter and gpfem.Spec and gpfem.GpfemError\n"
        "from gpfem.cli import main\n"
        "assert main(['list']) == 0 and main(['list', 'fracture']) == 0\n"
        "assert main(['run', 'cahn-hilliard', '--set', 'kappa=-1']) == 2\n"
        "assert main(['run', 'fracture', '--preset', 'nope']) == 2\n"
        "heavy = [m for m in ('dolfinx', 'torch', 'ufl', 'basix', 'gmsh', 'pyvista') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "HEAVY []" in p.stdout


def test_public_api_resolves():
    import gpfem

    missing = [n for n in gpfem.__all__ if getattr(gpfem, n, None) is None]
    assert not missing
    assert gpfem.GradientFlow.__module__ == "gpfem.drivers.gradient_flow"
    with pytest.raises(AttributeError):
        gpfem.no_such_name  # noqa: B018


def test_log_levels_quiet_and_verbose(tmp_path):
    base = ["run", "cahn-hilliard", "--preset", "ci", "--set", "max_steps=4", "--set", "png=false",
            "--set", "output_format=none"]
    quiet = run_cli([*base, "--out", str(tmp_path / "q"), "--quiet"])
    assert quiet.stdout == "" and quiet.stderr == ""
    verbose = run_cli([*base, "--out", str(tmp_path / "v"), "-v"], np=2)
    steps = [ln for ln in verbose.stdout.splitlines() if ln.startswith("step ")]
    assert [int(ln.split()[1]) for ln in steps] == [1, 2, 3, 4, 4]  # every step once (rank 0), then "done"
    # how far (max_steps = 4 ends the run long before t_end) and the time left, while there is some
    assert [ln.split(" s, ")[1].split("%")[0] for ln in steps] == ["25", "50", "75", "100", "100"]
    assert all(", ~" in ln and " left]" in ln for ln in steps[:3]) and "left" not in steps[3], steps
    assert verbose.stdout.count("gpfem run cahn-hilliard --preset") == 1  # printed by rank 0 only
