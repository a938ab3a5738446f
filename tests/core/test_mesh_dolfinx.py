"""Rectangles and boxes without gmsh (DOLFINx builders), XDMF meshes with group names."""

import importlib.util

from mpi4py import MPI

import numpy as np
import pytest
from helpers import read_csv, run_cli

from gpfem.base.errors import MeshError
from gpfem.mesh import box, load_mesh, notched_plate, rectangle, write_xdmf
from gpfem.mesh import dolfinx_builders as db


def _cells(b):
    """Every cell as a sorted tuple of its vertex coordinates (serial meshes)."""
    x, c = b.mesh.geometry.x, b.mesh.geometry.dofmaps[0]
    return sorted(tuple(sorted(map(tuple, np.round(x[cc], 9).tolist()))) for cc in c)


def _sides(b):
    return {n: b.facets(n).size for n, (d, _) in b.groups.items() if d == b.mesh.topology.dim - 1}


def test_dolfinx_rectangle_is_gmsh_rectangle(monkeypatch):
    monkeypatch.setenv("GPFEM_MESHER", "gmsh")
    g = rectangle(3.0, 2.0, 7, 5, comm=MPI.COMM_SELF)
    monkeypatch.setenv("GPFEM_MESHER", "dolfinx")
    d = rectangle(3.0, 2.0, 7, 5, comm=MPI.COMM_SELF)
    assert d.source.endswith("by dolfinx") and not g.source.endswith("by dolfinx")
    assert _cells(d) == _cells(g)  # the same 70 triangles
    assert d.groups == g.groups == {"domain": (2, 1), "left": (1, 2), "right": (1, 3), "bottom": (1, 4),
                                    "top": (1, 5)}
    assert _sides(d) == _sides(g) == {"left": 5, "right": 5, "bottom": 7, "top": 7}
    q = rectangle(3.0, 2.0, 7, 5, quadrilateral=True, comm=MPI.COMM_SELF)
    assert q.mesh.topology.index_map(2).size_global == 35 and _sides(q) == _sides(g)


def test_dolfinx_box_tags(monkeypatch):
    monkeypatch.setenv("GPFEM_MESHER", "dolfinx")
    b = box(1.0, 2.0, 3.0, 2, 3, 4, comm=MPI.COMM_SELF)
    assert b.mesh.topology.index_map(3).size_global == 6 * 24
    assert _sides(b) == {"left": 24, "right": 24, "bottom": 16, "top": 16, "back": 12, "front": 12}
    vol = sum(abs(np.linalg.det(b.mesh.geometry.x[c][1:] - b.mesh.geometry.x[c][0])) / 6
              for c in b.mesh.geometry.dofmaps[0])
    assert vol == pytest.approx(6.0, rel=1e-12)


def test_mesher_choice_and_missing_gmsh(monkeypatch):
    monkeypatch.setenv("GPFEM_MESHER", "cubit")
    with pytest.raises(MeshError, match="GPFEM_MESHER must be one of gmsh, dolfinx"):
        db.mesher()
    monkeypatch.delenv("GPFEM_MESHER")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "gmsh" else real(n, *a))
    assert db.mesher() == "dolfinx"
    assert rectangle(1.0, 1.0, 2, 2, comm=MPI.COMM_SELF).source.endswith("by dolfinx")
    with pytest.raises(MeshError, match="needs gmsh, which is not installed"):
        notched_plate(h_fine=0.05, h_coarse=0.1, comm=MPI.COMM_SELF)


def test_xdmf_round_trip(tmp_path):
    g = notched_plate(h_fine=0.05, h_coarse=0.1, comm=MPI.COMM_SELF)
    p = write_xdmf(g, tmp_path / "plate.xdmf")
    r = load_mesh(p, MPI.COMM_SELF)
    assert r.groups == g.groups and _sides(r) == _sides(g) and _cells(r) == _cells(g)
    assert "notched_plate" in r.source


def test_ch_run_same_with_dolfinx_rectangle(tmp_path, monkeypatch):
    """The same discrete problem: histories agree to round-off (pfhub1 initial: no vertex-order noise)."""
    args = ["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=2", "--set", "png=false",
            "--set", "output_format=none"]
    monkeypatch.setenv("GPFEM_MESHER", "gmsh")
    run_cli([*args, "--out", str(tmp_path / "g")])
    monkeypatch.setenv("GPFEM_MESHER", "dolfinx")
    run_cli([*args, "--out", str(tmp_path / "d")])
    a, b = read_csv(tmp_path / "g/history.csv"), read_csv(tmp_path / "d/history.csv")
    assert len(a) == len(b) > 3
    for ra, rb in zip(a, b, strict=True):
        for k in ("free_energy", "mass", "time"):
            assert rb[k] == pytest.approx(ra[k], rel=1e-10, abs=1e-12)
