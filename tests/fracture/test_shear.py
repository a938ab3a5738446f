"""Coarse shear test with free lateral edges: the ``shear`` preset at ell = 0.04 mm, h = 0.02 mm, steps of
5e-4 mm to u = 0.013 mm, with the left and right edges free (``rollers=""``) and refined over the full width
in 0.15 <= y <= 0.55: the set-up the preset had before it followed the paper (tests/fracture/
test_shear_rollers.py tests the published one).

About 40 s on one rank (2,544 u + 1,272 alpha DOFs, 26 steps, ~480 alternate minimisations). Measured
(docs/fracture.md, "Shear"): peak 0.4269 kN at u = 0.0100 mm; the centre line leaves the notch at -74.3 deg
(notch tip to its point 0.1 mm along it), then runs at -59.5 deg (arc 0.1-0.2 mm): it kinks down and curves
back towards the horizontal; tip at (0.636, 0.204) at u = 0.013 mm. The full-resolution run is the
benchmark ``benchmarks/fracture_shear.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli

from gpfem.crack import path_angle, point_at

COARSE = {"ell": 0.04, "h_fine": 0.02, "h_coarse": 0.1, "band": "[0.15,0.55]", "band_x": "[0,1]",
          "rollers": "", "stop_when_broken": 0, "load_max": 0.013,
          "dload": 5e-4, "dload_max": 5e-4, "dload_min": 5e-4, "dload_grow": 1.0,
          "max_damage_increment": 1.0, "checkpoint_interval": 0, "field_interval": 0, "png": "false"}


def test_coarse_shear_crack_kinks_down_and_curves(tmp_path):
    out = tmp_path / "shear"
    args = ["run", "fracture", "--preset", "shear", "--out", str(out)]
    for k, v in COARSE.items():
        args += ["--set", f"{k}={v}"]
    run_cli(args)
    res = read_json(out / "summary.json")["results"]
    assert res["peak_force"] == pytest.approx(0.427, abs=0.02)
    assert res["load_at_peak"] == pytest.approx(0.0100, abs=1e-3)
    main = np.array([[r["x"], r["y"]] for r in read_csv(out / "crack_path.csv") if r["branch"] == 0])
    q = point_at(main, 0.1)
    kink = math.degrees(math.atan2(q[1] - 0.5, q[0] - 0.5))
    further = path_angle(main, 0.1, 0.2)
    assert -80.0 < kink < -68.0            # down from the notch, near the mode II kink (LEFM: -70.5)
    assert -66.0 < further < -53.0
    assert further - kink > 8.0            # curved: it turns back towards the horizontal
    tip_x, tip_y = res["crack_tip"]
    assert tip_x > 0.55 and tip_y < 0.3
    # the history: no crack before the peak, then a crack that only grows (within one grid spacing)
    rows = read_csv(out / "history.csv")
    i = int(np.argmax([r["reaction_force"] for r in rows]))
    length = np.array([r["crack_length"] for r in rows[i + 1:]])
    assert rows[i - 1]["crack_length"] == 0.0
    assert np.all(np.diff(length) > -res["grid_spacing"])
    assert length[-1] == pytest.approx(res["crack_length_path"], rel=1e-9)
