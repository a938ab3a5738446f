"""The SENT in 3D (``sent-3d-ci``): the notched square extruded in z, u_z = 0 on both z-faces (plane strain).

Its force per unit thickness and its crack area per unit thickness are the 2D plane-strain SENT's (the
``sent-ci`` run at the same loads), within the discretisation error of tetrahedra against triangles.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli

from gpfem.models.fracture_spec import PRESETS

T = PRESETS["sent-3d-ci"]["thickness"]
#: A few steps: four elastic-damaging ones, the peak region and the step in which the crack runs.
STEPS = ["--set", "dload=1e-3", "--set", "dload_max=1e-3", "--set", "load_max=0.006", "--set", "png=false"]


def test_notched_slab_mesh_is_the_2d_mesh_extruded():
    """One layer: twice the 2D vertices, three tetrahedra per triangle; named faces incl. front/back."""
    from mpi4py import MPI

    from gpfem.mesh import notched_plate, notched_slab

    kw = dict(h_fine=0.015, h_coarse=0.1, band=(0.4, 0.6))
    b2 = notched_plate(**kw, comm=MPI.COMM_WORLD)
    b3 = notched_slab(**kw, thickness=0.02, layers=2, comm=MPI.COMM_WORLD)
    nv2, nv3 = (b.mesh.geometry.index_map().size_global for b in (b2, b3))
    assert nv3 == 3 * nv2
    assert b3.num_cells_global() == 6 * b2.num_cells_global()
    comm = b3.comm
    for name in ("front", "back"):  # each z-face is the 2D mesh
        assert comm.allreduce(len(b3.facets(name))) == b2.num_cells_global()
    for name in ("bottom", "top", "left", "right"):  # two layers of two triangles per 2D edge
        assert comm.allreduce(len(b3.facets(name))) == 4 * comm.allreduce(len(b2.facets(name)))
    z = b3.mesh.geometry.x[:, 2]
    assert comm.allreduce(z.max(), op=MPI.MAX) == pytest.approx(0.02)


def test_rollers_z_names_a_missing_group(tmp_path):
    """A group the mesh lacks is refused with one line naming the parameter (exit 2)."""
    proc = run_cli(["run", "fracture", "--preset", "sent-3d-ci", "--out", str(tmp_path / "bad"),
                    "--set", "rollers_z=front,nowhere", "--set", "max_steps=1"], check=False)
    assert proc.returncode == 2
    assert "rollers_z" in proc.stderr + proc.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The coarse SENT in 2D (1 rank) and in 3D (2 ranks) at the same fixed loads."""
    base = tmp_path_factory.mktemp("sent3d")
    run_cli(["run", "fracture", "--preset", "sent-ci", "--out", str(base / "2d"), *STEPS])
    run_cli(["run", "fracture", "--preset", "sent-3d-ci", "--out", str(base / "3d"), *STEPS], np=2)
    return base / "2d", base / "3d"


def test_force_per_thickness_is_the_plane_strain_force(runs):
    """Force / thickness of the slab = the 2D plane-strain force at every load, within 0.5% of the peak
    (measured: 0.12% at most, the slab slightly softer), and both break at the same step. The slab free in
    z (plane stress) is 10% softer (measured), so the test sees the z-constraint."""
    a, b = (read_csv(d / "history.csv") for d in runs)
    assert [r["load"] for r in a] == pytest.approx([r["load"] for r in b], abs=1e-12)
    f2 = np.array([r["reaction_force"] for r in a])
    f3 = np.array([r["reaction_force"] for r in b]) / T
    peak = f2.max()
    assert peak > 0.5
    assert np.abs(f3 - f2).max() < 5e-3 * peak
    assert int(f3.argmax()) == int(f2.argmax())
    assert f3[-1] < 0.02 * peak  # broken


def test_crack_area_per_thickness_is_the_2d_crack_length(runs):
    """Half the alpha = 0.5 iso-surface area per thickness = half the 2D iso-line length (1%; measured
    0.52513 and 0.52513), and the 2D centre line within the iso-lines' cap at the notch tip (5%)."""
    r2, r3 = (read_json(d / "summary.json")["results"] for d in runs)
    assert r3["crack_area_per_thickness"] == pytest.approx(r2["crack_length_isolines"], rel=0.01)
    assert r3["crack_area_path"] == pytest.approx(r3["crack_area_per_thickness"] * T, rel=1e-12)
    assert r3["crack_area_per_thickness"] == pytest.approx(r2["crack_length_path"], rel=0.06)
    assert r2["crack_length_path"] == pytest.approx(0.5, abs=PRESETS["sent-ci"]["h_fine"])


def test_rollers_z_refused_with_isotropic_loading():
    """rollers_z would be ignored where u is imposed on the whole boundary: refused, naming it."""
    from mpi4py import MPI

    from gpfem.app.parameters import resolve
    from gpfem.base.errors import ParameterError
    from gpfem.mesh import box
    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_spec import PARAMETERS

    p = resolve(PARAMETERS, PRESETS["bar"], {"loading": "isotropic", "rollers_z": "front,back",
                                             "crack_track": False})
    with pytest.raises(ParameterError, match="rollers_z"):
        Fracture(box(1.0, 0.5, 0.5, 2, 1, 1, comm=MPI.COMM_WORLD), p)
