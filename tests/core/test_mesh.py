"""Meshes: gmsh builders, user .geo/.msh files, physical-group lookup, clear errors."""

from mpi4py import MPI

import pytest
from helpers import ROOT

from gpfem.base.errors import MeshError
from gpfem.mesh import box, load_mesh, notched_plate, rectangle


def test_rectangle_groups_and_sizes():
    b = rectangle(2.0, 1.0, 8, 4)
    assert b.num_cells_global() == 2 * 8 * 4
    assert set(b.groups) >= {"left", "right", "bottom", "top", "domain"}
    owned = b.mesh.topology.index_map(1).size_local
    n_left = MPI.COMM_WORLD.allreduce(int((b.facets("left") < owned).sum()))
    assert n_left == 4
    assert b.hmin() == pytest.approx((0.25**2 + 0.25**2) ** 0.5, rel=1e-9)
    with pytest.raises(MeshError, match="no boundary physical group 'front'"):
        b.facets("front")


def test_box_and_notched_plate():
    assert box(1, 1, 1, 2, 2, 2).num_cells_global() == 6 * 8
    b = notched_plate(h_fine=0.02, h_coarse=0.1)
    assert {"bottom", "top", "left", "right"} <= set(b.groups)
    assert b.hmin() < 0.03


def test_geo_and_msh_files(tmp_path):
    import gmsh

    geo = ROOT / "meshes" / "rectangle.geo"
    b = load_mesh(geo)
    assert b.num_cells_global() == 2 * 200 * 200 and b.gdim == 2
    msh = tmp_path / "square.msh"
    if MPI.COMM_WORLD.rank == 0:
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("sq")
        s = gmsh.model.occ.addRectangle(0, 0, 0, 1, 1)
        gmsh.model.occ.synchronize()
        gmsh.model.addPhysicalGroup(2, [s], name="domain")
        gmsh.model.addPhysicalGroup(1, [4], name="left")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.2)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(msh))
        gmsh.finalize()
    m = load_mesh(msh)
    assert m.num_cells_global() > 20 and "left" in m.groups and m.facets("left").size > 0


def test_bad_mesh_files(tmp_path):
    with pytest.raises(MeshError, match="not found"):
        load_mesh(tmp_path / "nope.msh")
    bad = tmp_path / "bad.msh"
    bad.write_text("garbage\n")
    with pytest.raises(MeshError, match="cannot read mesh file"):
        load_mesh(bad)
    txt = tmp_path / "mesh.txt"
    txt.write_text("x")
    with pytest.raises(MeshError, match=".msh or .geo"):
        load_mesh(txt)
    with pytest.raises(MeshError, match="'nx' must be > 0"):
        rectangle(1.0, 1.0, 0, 4)
