"""A plug-in that fails to import: `gpfem list` still lists the rest; `gpfem run` says why, exit code 2."""

from helpers import ROOT, run_cli


def test_broken_plugin_is_reported_not_fatal(tmp_path):
    dist = tmp_path / "gpfem_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gpfem-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[gpfem.models]\nbroken = no_such_module_here:SPEC\n")
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}"}
    p = run_cli(["list"], env=env)
    assert "cahn-hilliard:" in p.stdout and "fracture:" in p.stdout
    assert "plug-in 'broken' (no_such_module_here:SPEC) failed to load" in p.stderr
    p = run_cli(["run", "broken", "--out", str(tmp_path / "o")], env=env, check=False)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "No module named 'no_such_module_here'" in p.stderr
    assert not (tmp_path / "o").exists()
