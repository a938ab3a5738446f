"""The .pvd index: valid XML after every entry; a restart keeps entries up to its time, deletes the rest."""

import xml.etree.ElementTree as ET

import pytest

from gpfem.io.pvd import PvdIndex, read_pvd, vtk_piece_files


def _pvtu(path, pieces):
    path.write_text('<?xml version="1.0"?>\n<VTKFile type="PUnstructuredGrid"><PUnstructuredGrid>'
                    + "".join(f'<Piece Source="{p}" />' for p in pieces) + "</PUnstructuredGrid></VTKFile>\n")
    for p in pieces:
        (path.parent / p).write_text("piece")


def test_index_rewritten_after_every_entry_and_truncated_on_restart(tmp_path):
    (tmp_path / "fields").mkdir()
    index = PvdIndex(tmp_path / "fields.pvd")
    times = [0.0, 0.1, 0.30000000000000004, 1e-3 + 0.5, 2.0]
    for k, t in enumerate(times):
        _pvtu(tmp_path / "fields" / f"f{k}.pvtu", [f"f_p0_{k}.vtu", f"f_p1_{k}.vtu"])
        index.add(t, f"fields/f{k}.pvtu")
        ET.parse(tmp_path / "fields.pvd")  # valid at every moment
        assert read_pvd(tmp_path / "fields.pvd") == [(s, f"fields/f{j}.pvtu") for j, s in
                                                     enumerate(times[: k + 1])]  # times exact (repr)
    assert vtk_piece_files(tmp_path / "fields" / "f4.pvtu")[1].name == "f_p1_4.vtu"
    # restart from a checkpoint at t = 0.30000000000000004: entries 3 and 4 go, with their files
    again = PvdIndex(tmp_path / "fields.pvd", keep_until=0.30000000000000004)
    assert [t for t, _ in again.entries] == times[:3] and [t for t, _ in again.dropped] == times[3:]
    assert [t for t, _ in read_pvd(tmp_path / "fields.pvd")] == times[:3]
    left = sorted(p.name for p in (tmp_path / "fields").iterdir())
    kept = [f"f{k}.pvtu" for k in range(3)] + [f"f_p{r}_{k}.vtu" for k in range(3) for r in (0, 1)]
    assert left == sorted(kept)
    again.add(0.4, "fields/g0.pvtu")
    assert [t for t, _ in read_pvd(tmp_path / "fields.pvd")] == [*times[:3], 0.4]


def test_a_new_index_starts_empty(tmp_path):
    PvdIndex(tmp_path / "fields.pvd").add(1.0, "a.pvtu")
    assert read_pvd(tmp_path / "fields.pvd") == [(1.0, "a.pvtu")]
    assert PvdIndex(tmp_path / "fields.pvd").entries == []
    assert read_pvd(tmp_path / "fields.pvd") == []
    assert read_pvd(tmp_path / "none.pvd") == []
    with pytest.raises(ET.ParseError):
        (tmp_path / "bad.pvd").write_text("not xml")
        read_pvd(tmp_path / "bad.pvd")
