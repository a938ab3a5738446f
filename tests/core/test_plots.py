"""Pictures: colour-bar titles are not cut at the window's edge; force-displacement axes carry units."""

import subprocess
import sys

import numpy as np
import pytest

from gpfem.models.fracture_post import axis_labels
from gpfem.models.fracture_spec import PRESETS

PVD = ('<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1">\n<Collection>\n'
       '<DataSet timestep="0" part="0" file="f0.vtu"/>\n</Collection>\n</VTKFile>\n')

# pyvista (VTK) renders in a child process: VTK's libraries loaded into the test process made a later
# torch test (tests/ml, the stable-step study) crash with a segmentation fault in the same process.
RENDER = """
import sys
from pathlib import Path

import pyvista as pv

from gpfem.io.plots import field_png

d, title = Path(sys.argv[1]), sys.argv[2]
grid = pv.ImageData(dimensions=(11, 11, 1)).cast_to_unstructured_grid()
grid.point_data["alpha"] = grid.points[:, 0] / 10.0
grid.save(d / "f0.vtu")
(d / "fields.pvd").write_text(sys.argv[3])
field_png(d / "fields.pvd", "alpha", d / "a.png", cmap="magma_r", clim=(0.0, 1.0), title=title)
"""


@pytest.mark.parametrize("title", ["damage alpha", "a much longer colour-bar title, still whole"])
def test_colour_bar_title_is_not_cut_at_the_right_edge(tmp_path, title):
    """pyvista's default bar place cut "damage alpha" to "damage alph": the title ran past the edge."""
    from matplotlib.image import imread

    subprocess.run([sys.executable, "-c", RENDER, str(tmp_path), title, PVD], check=True, timeout=300)
    img = imread(tmp_path / "a.png")[..., :3]
    background = img[-1, -1]
    edge = img[:, -4:]  # the last columns hold nothing but background: no text ran into them
    assert np.abs(edge - background).max() < 1e-6
    assert np.abs(img[:, -200:] - background).max() > 0.5  # the bar and its title are there


def test_force_displacement_axes_carry_the_units_of_the_miehe_presets():
    for preset in ("sent", "shear", "sent-ci", "sent-amr", "sent-ci-amr"):
        assert axis_labels(PRESETS[preset], 2) == ("imposed displacement u (mm)",
                                                   "reaction force (kN per mm thickness)"), preset
    assert axis_labels(PRESETS["sent"], 3)[1] == "reaction force (kN)"  # a 3D mesh: the whole force
    # the bar (E = Gc = 1) has no units
    assert axis_labels(PRESETS["bar"], 2) == ("imposed displacement u", "reaction force (per unit thickness)")
