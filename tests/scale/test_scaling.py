"""benchmarks/scaling.py: the sizes it promises and its quick table (columns and DOF counts, not timings)."""

import json
import subprocess
import sys

from helpers import BIN, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from scaling import COLUMNS, PROBLEMS, dofs_of, rows_for  # noqa: E402


def test_full_size_is_a_million_dofs_in_2d_and_3d_and_weak_rows_keep_dofs_per_rank():
    rows = rows_for(list(PROBLEMS), ["strong", "weak"], [1, 2, 4, 8, 16], "full")
    for prob in PROBLEMS:
        strong = [r for r in rows if r.problem == prob and r.mode == "strong"]
        assert len({r.n for r in strong}) == 1 and dofs_of(prob, strong[0].n) >= 1_000_000
        weak = [r for r in rows if r.problem == prob and r.mode == "weak"]
        per_rank = [dofs_of(prob, r.n) / r.ranks for r in weak]
        assert max(per_rank) / min(per_rank) < 1.15, per_rank
    assert dofs_of("ch2d", 708) == 2 * 709**2 and dofs_of("gl3d", 55) == 6 * 56**3


def test_quick_mode_runs_and_prints_one_consistent_table(tmp_path):
    out = tmp_path / "rows.json"
    cmd = [str(BIN / "python"), "benchmarks/scaling.py", "--quick", "--steps", "1", "--json", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    table = [ln for ln in p.stdout.splitlines() if ln.startswith("| ")]
    assert [c.strip() for c in table[0].strip("| ").split("|")] == COLUMNS
    rows = json.loads(out.read_text())
    assert len(table) == 1 + len(rows) == 1 + 2 * 2 * 2  # 2 problems x strong/weak x 1 and 2 ranks
    want = {(r.problem, r.mode, r.ranks): r.n for r in rows_for(list(PROBLEMS), ["strong", "weak"], [1, 2],
                                                               "quick")}
    for r in rows:
        assert r["status"] == "completed"
        assert want[(r["problem"], r["mode"], r["ranks"])] == r["n"]
        assert r["dofs"] == dofs_of(r["problem"], r["n"])  # the model's space = the grid's vertices x DOFs
        assert r["steps"] == 1 and r["newton"] >= 1 and r["ksp"] >= r["newton"]
        for k in ("setup", "assembly", "pc_setup", "krylov", "steps_time", "steps_cpu", "output"):
            assert r[k] >= 0.0, k
    for prob in PROBLEMS:
        strong = [r for r in rows if r["problem"] == prob and r["mode"] == "strong"]
        assert strong[0]["dofs"] == strong[1]["dofs"] and strong[0]["speedup"] == 1.0
        weak = [r for r in rows if r["problem"] == prob and r["mode"] == "weak"]
        assert weak[1]["dofs"] > weak[0]["dofs"] and weak[0]["efficiency"] == 1.0
