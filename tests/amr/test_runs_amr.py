"""Adaptive runs end to end (``ci-amr`` and ``sent-ci-amr``): the invariants, restart, 1 vs 2 ranks.

Cahn-Hilliard: mass kept to 1e-10 across every adapt, the free energy never rises except by what an adapt
reports, the mesh changes in the field series, the restart continues the same history on the stored mesh.
Fracture: refinement only grows, damage never decreases (across steps and adapts), the crack runs through
cells with h_K <= ell/2, restart on the stored mesh.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli, run_on_1_and_2_ranks

CH = ["run", "cahn-hilliard", "--preset", "ci-amr", "--set", "png=false"]
FR = ["run", "fracture", "--preset", "sent-ci-amr", "--set", "png=false"]


@pytest.fixture(scope="module")
def ch_runs(tmp_path_factory):
    return run_on_1_and_2_ranks(tmp_path_factory.mktemp("ch_amr"), CH)


@pytest.fixture(scope="module")
def fr_runs(tmp_path_factory):
    return run_on_1_and_2_ranks(tmp_path_factory.mktemp("fr_amr"), FR)


def _dofs_summary_matches(out):
    rows = read_csv(out / "history.csv")
    res = read_json(out / "summary.json")["results"]
    dofs = [r["dofs"] for r in rows]
    assert res["dofs_start"] == dofs[0] and res["dofs_end"] == dofs[-1] and res["dofs_max"] == max(dofs)
    assert res["adapts"] == sum(r["adapts"] for r in rows)
    return rows, res


def test_ch_mass_energy_and_dofs(ch_runs):
    rows, res = _dofs_summary_matches(ch_runs[1])
    adapted = [i for i, r in enumerate(rows) if r["adapts"] > 0]
    assert adapted, "the test case must adapt"
    assert len({r["dofs"] for r in rows}) > 1
    m0 = rows[0]["mass"]
    assert max(abs(r["mass"] - m0) for r in rows) / m0 < 1e-10
    # energy: a gradient flow's energy never rises within a step; across an adapt it changes by exactly the
    # reported amount
    F = np.array([r["free_energy"] for r in rows])
    change = np.array([r["adapt_energy_change"] for r in rows])
    assert np.all(F[1:] - change[1:] <= F[:-1] + 1e-9 * abs(F[0]))
    assert res["final_mass"] == pytest.approx(res["initial_mass"], rel=1e-10)


def test_ch_field_series_shows_the_changing_mesh(ch_runs):
    import pyvista as pv

    from gpfem.io.pvd import read_pvd

    out = ch_runs[1]
    entries = read_pvd(out / "fields.pvd")
    points = []
    for _, f in entries:
        points.append(pv.read(str(out / f)).n_points)
    assert len(set(points)) > 1, points


def test_ch_restart_on_the_stored_mesh(ch_runs, tmp_path):
    full = read_csv(ch_runs[1] / "history.csv")
    first = [i for i, r in enumerate(full) if r["adapts"] > 0][0]
    stop = (first // 5 + 1) * 5  # the first checkpoint after the first adapt
    out = tmp_path / "r"
    run_cli([*CH, "--out", str(out), "--set", f"max_steps={stop}"])
    with np.load(out / "checkpoint.npz") as z:
        assert "mesh__x" in z.files and z["c"].shape[0] == z["mesh__x"].shape[0]
    run_cli(["run", "cahn-hilliard", "--restart", str(out), "--set", "max_steps=0"])
    rows = read_csv(out / "history.csv")
    assert len(rows) == len(full)
    for a, b in zip(rows, full, strict=True):
        for k in ("time", "free_energy", "mass", "dofs"):
            assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12), (k, a["step"])


def test_ch_serial_and_two_ranks_agree(ch_runs):
    """Same meshes (the marks do not depend on the partition), same history to 1e-8."""
    a, b = read_csv(ch_runs[1] / "history.csv"), read_csv(ch_runs[2] / "history.csv")
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert ra["dofs"] == rb["dofs"] and ra["adapts"] == rb["adapts"]
        for k in ("time", "free_energy", "mass"):
            assert ra[k] == pytest.approx(rb[k], rel=1e-8), (k, ra["step"])


def test_fracture_refines_only_and_damage_never_decreases(fr_runs):
    rows, res = _dofs_summary_matches(fr_runs[1])
    dofs = [r["dofs"] for r in rows]
    assert np.all(np.diff(dofs) >= 0)  # nested: the refined zone only grows
    assert res["adapts"] >= 3 and dofs[-1] > 4 * dofs[0]
    dmax = [r["max_damage"] for r in rows]
    assert np.all(np.diff(dmax) >= -1e-12)
    assert rows[-1]["reaction_force"] < 0.05 * res["peak_force"]  # broken through
    assert res["path_bounds"][1] == pytest.approx(1.0, abs=1e-6)  # crack reaches the right edge


def test_fracture_crack_runs_through_fine_cells(fr_runs):
    """Every cell with alpha > 0.5 in the last field output has h_K <= ell/2 (ell = 0.05)."""
    import pyvista as pv

    from gpfem.io.pvd import read_pvd

    out = fr_runs[1]
    _, last = read_pvd(out / "fields.pvd")[-1]
    grid = pv.read(str(out / last))
    if isinstance(grid, pv.MultiBlock):
        grid = grid.combine()
    grid = grid.compute_cell_sizes(length=False, volume=False)
    alpha = grid.point_data_to_cell_data(pass_point_data=False).cell_data["alpha"]
    # alpha on the cell = mean of its vertex values; cells fully on the crack
    h = np.sqrt(2.0 * np.asarray(grid.cell_data["Area"]))
    on_crack = np.asarray(alpha) > 0.5
    assert on_crack.sum() > 20
    assert h[on_crack].max() <= 0.025 * (1 + 1e-9)


def test_fracture_restart_on_the_stored_mesh(fr_runs, tmp_path):
    full = read_csv(fr_runs[1] / "history.csv")
    out = tmp_path / "r"
    run_cli([*FR, "--out", str(out), "--set", "max_steps=9"])  # checkpoint at step 9, after adapts
    run_cli(["run", "fracture", "--restart", str(out), "--set", "max_steps=0"])
    rows = read_csv(out / "history.csv")
    assert len(rows) == len(full)
    for a, b in zip(rows, full, strict=True):
        assert a["dofs"] == b["dofs"]
        assert a["reaction_force"] == pytest.approx(b["reaction_force"], rel=1e-6, abs=1e-9)


def test_fracture_serial_and_two_ranks_agree(fr_runs):
    """Same meshes; forces within 1e-6 of the peak before it and 2% after (the crack step amplifies
    round-off through the alternate minimisation)."""
    a, b = read_csv(fr_runs[1] / "history.csv"), read_csv(fr_runs[2] / "history.csv")
    assert len(a) == len(b)
    peak = max(r["reaction_force"] for r in a)
    i_peak = max(range(len(a)), key=lambda i: a[i]["reaction_force"])
    for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
        assert ra["dofs"] == rb["dofs"]
        tol = 1e-6 * peak if i <= i_peak else 0.02 * peak
        assert abs(ra["reaction_force"] - rb["reaction_force"]) <= tol, i


@pytest.mark.parametrize(("setting", "word"), [("periodic=x,y", "periodic"), ("geometry=sphere", "sphere")])
def test_amr_with_periodic_or_sphere_is_refused(tmp_path, setting, word):
    """One line naming amr and the other parameter, exit code 2, before any mesh is built (no history)."""
    proc = run_cli([*CH, "--set", setting, "--out", str(tmp_path / "x")], check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert len(line) == 1 and "'amr'" in line[0] and word in line[0], proc.stderr
    assert not (tmp_path / "x" / "history.csv").exists()


def test_dof_cap_holds_and_is_reported(tmp_path):
    """amr_max_dofs below what the interfaces ask for: some refinement (flags tie: a per-cell key picks), the
    cap never exceeded, a warning, the count in the summary."""
    out = tmp_path / "cap"
    proc = run_cli([*CH, "--out", str(out), "--set", "amr_max_dofs=600", "--set", "max_steps=3",
                    "--set", "output_format=none"])
    rows, res = _dofs_summary_matches(out)
    assert 242 < res["dofs_start"] and res["dofs_max"] <= 600  # 242: the 10 x 10 base mesh; 3074 uncapped
    assert res["amr_dof_limited_adapts"] >= 1
    assert "amr_max_dofs = 600 reached" in proc.stderr
