"""Coarse SENT (the ``sent-ci`` preset): crack from the notch to the right edge, serial == 2 ranks, post."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli, run_on_1_and_2_ranks

from gpfem.models.fracture_spec import PRESETS

H_FINE = PRESETS["sent-ci"]["h_fine"]  # one cell in the band


@pytest.fixture(scope="module")
def sent_runs(tmp_path_factory):
    """The same coarse SENT run on 1 and on 2 MPI ranks."""
    return run_on_1_and_2_ranks(tmp_path_factory.mktemp("sent"), ["run", "fracture", "--preset", "sent-ci"])


def test_crack_runs_from_notch_to_right_edge(sent_runs):
    """The alpha = 0.5 path starts at the notch tip (x = 0.5) and reaches x = 1 near y = 0.5."""
    out = sent_runs[1]
    res = read_json(out / "summary.json")["results"]
    x0, x1, y0, y1 = res["path_bounds"]
    assert x0 == pytest.approx(0.5, abs=0.05)
    assert x1 == pytest.approx(1.0, abs=1e-6)
    assert 0.4 < y0 < y1 < 0.6
    # crack length from the path and from the dissipated energy (mesh-corrected) agree with 0.5
    assert res["crack_length_path"] == pytest.approx(0.5, rel=0.1)
    assert res["crack_length_energy_corrected"] == pytest.approx(0.5, rel=0.15)
    # the specimen is broken: the force dropped to almost nothing after the peak
    rows = read_csv(out / "history.csv")
    assert rows[-1]["reaction_force"] < 0.02 * res["peak_force"]
    assert res["peak_force"] > 0.5
    for name in ("crack_path.vtp", "crack_path.csv", "damage.png", "force_displacement.png"):
        assert (out / name).stat().st_size > 0


def test_serial_and_two_ranks_give_the_same_curve(sent_runs):
    """Same load steps; forces agree to 1e-3 of the peak before it and 2% of the peak after.

    Both runs solve the same discrete problem; they differ by round-off in MUMPS and by where the
    alternate minimisation stops (max-norm damage change < 1e-4). Before the peak that moves the force
    by far less than 1e-3 of the peak; after the crack has run, only the residual force (< 1% of the peak)
    is left, so 2% of the peak bounds it.
    """
    a = read_csv(sent_runs[1] / "history.csv")
    b = read_csv(sent_runs[2] / "history.csv")
    assert [r["load"] for r in a] == pytest.approx([r["load"] for r in b], abs=1e-12)
    fa = np.array([r["reaction_force"] for r in a])
    fb = np.array([r["reaction_force"] for r in b])
    peak = fa.max()
    i = int(fa.argmax())
    assert np.abs(fa[: i + 1] - fb[: i + 1]).max() < 1e-3 * peak
    assert np.abs(fa - fb).max() < 2e-2 * peak
    ea = np.array([r["dissipated_energy"] for r in a])
    eb = np.array([r["dissipated_energy"] for r in b])
    assert np.abs(ea - eb).max() < 0.02 * ea.max()


def test_centre_line_straight_from_notch_to_edge(sent_runs):
    """The broken coarse SENT's crack centre line lies on y = 0.5 and is 0.5 long, within one cell, from the
    notch tip (0.5, 0.5) to the right edge; the history has no crack before the break and 0.5 after it;
    1 and 2 ranks measure the same line."""
    for n in (1, 2):
        out = sent_runs[n]
        res = read_json(out / "summary.json")["results"]
        assert res["crack_length_path"] == pytest.approx(0.5, abs=H_FINE)
        assert res["branches"] == 1
        line = read_csv(out / "crack_path.csv")
        assert max(abs(r["y"] - 0.5) for r in line) < H_FINE
        assert line[0]["x"] == pytest.approx(0.5, abs=H_FINE)
        assert line[-1]["x"] == pytest.approx(1.0, abs=1e-9)
        rows = read_csv(out / "history.csv")
        i = int(np.argmax([r["reaction_force"] for r in rows]))
        assert all(r["crack_length"] < H_FINE for r in rows[: i + 1])
        assert rows[-1]["crack_length"] == pytest.approx(0.5, abs=H_FINE)
        assert (rows[-1]["crack_tip_x"], rows[-1]["crack_tip_y"]) == pytest.approx((1.0, 0.5), abs=H_FINE)
    a, b = (read_csv(sent_runs[n] / "history.csv") for n in (1, 2))
    s = res["grid_spacing"]
    for ra, rb in zip(a, b, strict=True):
        assert rb["crack_length"] == pytest.approx(ra["crack_length"], abs=s, nan_ok=True)
        assert rb["crack_tip_y"] == pytest.approx(ra["crack_tip_y"], abs=s, nan_ok=True)


def test_post_regenerates_outputs(sent_runs, tmp_path):
    """``gpfem post RUN_DIR`` remakes the path and the PNGs from the files alone."""
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(sent_runs[2], out)
    made = ("crack_path.vtp", "crack_path.csv", "crack_path.pvd", "crack_isolines.vtp", "damage.png",
            "force_displacement.png", "crack_length.png")
    for name in made:
        (out / name).unlink()
    run_cli(["post", str(out)])
    for name in made:
        assert (out / name).stat().st_size > 0
    rows = read_csv(out / "crack_path.csv")
    assert max(r["x"] for r in rows) == pytest.approx(1.0, abs=1e-6)


def test_restart_continues_the_run(sent_runs, tmp_path):
    """Stop after 11 steps, restart: the history ends like the uninterrupted run."""
    out = tmp_path / "restart"
    run_cli(["run", "fracture", "--preset", "sent-ci", "--out", str(out), "--set", "max_steps=11",
             "--set", "checkpoint_interval=11", "--set", "png=false"])
    run_cli(["run", "fracture", "--restart", str(out), "--set", "max_steps=0"])
    a = read_csv(sent_runs[1] / "history.csv")
    b = read_csv(out / "history.csv")
    assert [r["step"] for r in b] == [r["step"] for r in a]
    assert b[-1]["reaction_force"] == pytest.approx(a[-1]["reaction_force"], rel=0.05, abs=1e-4)
    assert b[-1]["dissipated_energy"] == pytest.approx(a[-1]["dissipated_energy"], rel=0.01)


@pytest.mark.parametrize("split", ["voldev", "spectral"])
def test_every_split_converges_on_sent(tmp_path, split):
    """The coarse SENT converges with the voldev and spectral splits and breaks from notch to edge."""
    out = tmp_path / split
    run_cli(["run", "fracture", "--preset", "sent-ci", "--out", str(out), "--set", f"split={split}",
             "--set", "png=false"])
    res = read_json(out / "summary.json")["results"]
    assert res["path_bounds"][1] == pytest.approx(1.0, abs=1e-6)
    assert res["path_bounds"][0] == pytest.approx(0.5, abs=0.05)
    rows = read_csv(out / "history.csv")
    assert rows[-1]["reaction_force"] < 0.02 * res["peak_force"]
    assert 0.6 < res["peak_force"] < 0.75
