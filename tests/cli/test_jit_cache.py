"""Parameters enter forms as fem.Constant: a new value compiles nothing new (users sweep kappa, Gc, ell).

Two runs in fresh processes share one empty JIT cache (XDG_CACHE_HOME); the second, with other values of
the model's form parameters, must not add a single file to it.
"""

import pytest
from helpers import run_cli


def _cache_files(root):
    return sorted(p.relative_to(root).as_posix() for p in (root / "fenics").rglob("*") if p.is_file())


@pytest.mark.parametrize(("model", "preset", "first", "second"), [
    ("cahn-hilliard", "ci", ["kappa=1.3"], ["kappa=1.7", "rho_s=4.0", "mobility=2.0", "c_alpha=0.25"]),
    ("fracture", "bar", ["Gc=1.0", "ell=0.05"], ["Gc=1.3", "ell=0.07", "E=2.0", "nu=0.2", "k_res=1e-7"]),
    ("martensite", "ci", ["kappa=1.0"], ["kappa=1.7", "A2=0.3", "C11=650", "bain_axial=0.08"]),
])
def test_new_parameter_values_compile_no_new_forms(tmp_path, model, preset, first, second):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    counts = []
    for k, sets in enumerate((first, second)):
        args = ["run", model, "--preset", preset, "--out", str(tmp_path / f"run{k}"), "--quiet",
                "--set", "max_steps=1", "--set", "png=false", "--set", "output_format=none"]
        for s in sets:
            args += ["--set", s]
        run_cli(args, env=env)
        counts.append(_cache_files(tmp_path / "cache"))
    assert len(counts[0]) > 0  # the first run did compile (into this cache)
    assert counts[1] == counts[0]
