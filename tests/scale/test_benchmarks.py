"""The benchmark suite: one command, one table; the crossover rule."""

import json
import subprocess
import sys

from helpers import BIN, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from solver_choice import crossover  # noqa: E402


def test_crossover_is_the_size_from_which_iterative_stays_faster():
    sizes = [1, 2, 3, 4]
    assert crossover(sizes, [1, 2, 3, 4], [2, 3, 2, 3]) == 3
    assert crossover(sizes, [1, 2, 3, 4], [2, 3, 4, 5]) is None
    assert crossover(sizes, [1, 2, 3, 4], [0, 1, 2, 3]) == 1


def test_suite_quick_table(tmp_path):
    out = tmp_path / "rows.json"
    cmd = [str(BIN / "python"), "benchmarks/run_all.py", "--quick", "--no-demo", "--json", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("machine: ") and "| problem | DOFs | ranks |" in p.stdout
    rows = json.loads(out.read_text())
    assert {r["problem"].split()[0] for r in rows} == {"cahn-hilliard", "fracture", "martensite"}
    assert sorted({r["ranks"] for r in rows}) == [1, 2]
    for r in rows:
        assert r["status"] == "completed" and r["dofs"] > 0 and r["newton"] > 0 and r["peak_mb"] > 10
        assert r["ksp"] >= r["newton"] and r["wall"] > 0
