"""Checks across parameters of the built-in models (no mesh needed) and their size estimates."""

import pytest

from gpfem.app import registry
from gpfem.base.errors import ParameterError


def _resolve(model, preset=None, **sets):
    spec = registry.get(model)
    return spec.resolve(spec.preset(preset)[1], sets)


@pytest.mark.parametrize(
    ("model", "sets", "name", "fragment"),
    [
        ("cahn-hilliard", {"dt_min": 20.0}, "dt_min", "must be <= dt_max (4), got 20"),
        ("cahn-hilliard", {"dt": 5.0}, "dt", "must lie in [dt_min, dt_max] = [1e-08, 4], got 5"),
        ("cahn-hilliard", {"c_beta": 0.3}, "c_beta", "must differ from c_alpha"),
        ("cahn-hilliard", {"amr": True, "periodic": "x"}, "amr", "periodic boundaries"),
        ("cahn-hilliard", {"amr": True, "geometry": "sphere"}, "amr", "sphere surface"),
        ("martensite", {"dt_min": 20.0}, "dt_min", "must be <= dt_max (5), got 20"),
        ("martensite", {"A4": -1.0}, "A4", "needs A4 > 0"),
        ("martensite", {"mirror": True, "initial": "step"}, "mirror", "needs initial = random"),
        ("fracture", {"dload_min": 1e-3}, "dload_min", "must be <= dload_max (0.0005), got 0.001"),
        ("fracture", {"dload": 1e-6}, "dload", "must lie in [dload_min, dload_max]"),
        ("fracture", {"h_fine": 0.2}, "h_fine", "must be <= h_coarse (0.1), got 0.2"),
        ("fracture", {"band": [0.6, 0.4]}, "band", "0 <= lo < hi <= 1"),
        ("fracture", {"band": [0.5, 1.5]}, "band", "0 <= lo < hi <= 1"),
        ("fracture", {"notch_length": 1.0}, "notch_length", "must be < L"),
        ("fracture", {"load_max": 0.0}, "load_max", "load programme is empty"),
        ("fracture", {"load_path": [0.0, 0.0]}, "load_path", "load programme is empty"),
    ],
)
def test_cross_checks_refuse_before_any_mesh(model, sets, name, fragment):
    preset = "sent-ci" if model == "fracture" else "demo" if model == "cahn-hilliard" else None
    with pytest.raises(ParameterError) as e:
        _resolve(model, preset, **sets)
    assert e.value.name == name
    assert fragment in str(e.value)


def test_every_preset_passes_its_checks_and_fits_a_small_machine():
    """The presets are valid, and none is estimated above 2 GB on one rank (the largest is pfhub-1d)."""
    for name in registry.names():
        spec = registry.get(name)
        for preset in spec.presets:
            p = spec.resolve(spec.presets[preset])
            est = spec.size_estimate(p)
            if est is not None:
                assert 0 < est.bytes_on_node() < 2e9, (name, preset, est)


def test_rectangle_and_box_counts_are_exact():
    est = registry.get("cahn-hilliard").size_estimate(_resolve("cahn-hilliard", "ci", nx=30, ny=20))
    assert (est.cells, est.dofs, est.parameter) == (2 * 30 * 20, 2 * 31 * 21, "nx")
    est = registry.get("martensite").size_estimate(_resolve("martensite", "cubic-tetragonal-3d", nx=4, ny=5,
                                                            nz=6))
    assert (est.cells, est.dofs) == (6 * 4 * 5 * 6, (3 + 3) * 5 * 6 * 7)  # 3 variants + 3 displacements
    est = registry.get("fracture").size_estimate(_resolve("fracture", "bar"))
    assert (est.cells, est.dofs) == (2 * 100 * 2, 3 * 101 * 3)


def test_adaptive_runs_count_amr_max_dofs():
    est = registry.get("fracture").size_estimate(_resolve("fracture", "sent-ci-amr", amr_max_dofs=10**9))
    assert (est.dofs, est.parameter) == (1e9, "amr_max_dofs")


@pytest.mark.parametrize(
    ("model", "preset", "sets"),
    [
        ("fracture", "sent-ci", {}),
        ("fracture", "sent-ci", {"h_fine": 0.01, "band": [0.3, 0.5]}),
        ("cahn-hilliard", "ci", {"geometry": "tshape", "h": 2.0}),
        ("cahn-hilliard", "ci", {"geometry": "sphere", "radius": 50.0, "h": 4.0}),
    ],
)
def test_unstructured_estimates_match_the_built_mesh(model, preset, sets, comm):
    """The closed-form counts of gmsh meshes are within 25% of the built mesh (the docstrings promise 2x)."""
    spec = registry.get(model)
    p = _resolve(model, preset, **sets)
    est = spec.size_estimate(p)
    if model == "fracture":
        from gpfem.app.registry import RunContext
        from gpfem.models.fracture_run import build_mesh

        bundle = build_mesh(p, RunContext(out_dir=".", comm=comm))
        dofs = 3 * bundle.mesh.geometry.index_map().size_global
    else:
        from gpfem.models.cahn_hilliard_run import build_mesh

        bundle = build_mesh(p, comm)
        dofs = 2 * bundle.mesh.geometry.index_map().size_global
    cells = bundle.num_cells_global()
    assert 0.8 < est.cells / cells < 1.25, (est.cells, cells)
    assert 0.8 < est.dofs / dofs < 1.25, (est.dofs, dofs)
