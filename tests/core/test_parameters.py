import math

import pytest

from gpfem.core.errors import ParameterError
from gpfem.core.parameters import Parameter, load_config, parse_assignments, resolve

DECL = [
    Parameter("kappa", 2.0, "penalty", positive=True),
    Parameter("n", 4, "count", nonnegative=True),
    Parameter("nu", 0.3, "Poisson", bounds=(-1.0, 0.5), open_bounds=True),
    Parameter("split", "none", "split", choices=("none", "voldev")),
    Parameter("png", True, "png"),
    Parameter("times", [], "times", type=list),
]


def test_defaults_and_coercion():
    p = resolve(DECL, {"kappa": "3.5"}, {"n": "7", "png": "false", "times": "1,10,100"})
    assert p == {"kappa": 3.5, "n": 7, "nu": 0.3, "split": "none", "png": False,
                 "times": [1.0, 10.0, 100.0]}


@pytest.mark.parametrize(
    ("src", "name", "fragment"),
    [
        ({"kappa": -1}, "kappa", "> 0"),
        ({"kappa": 0}, "kappa", "> 0"),
        ({"kappa": "nan"}, "kappa", "finite"),
        ({"n": 1.5}, "n", "expected int"),
        ({"n": -2}, "n", ">= 0"),
        ({"nu": 0.5}, "nu", "(-1.0, 0.5)"),
        ({"split": "spectra"}, "split", "one of"),
        ({"png": "maybe"}, "png", "expected bool"),
        ({"kapa": 1}, "kapa", "did you mean 'kappa'"),
    ],
)
def test_bad_values_name_the_parameter(src, name, fragment):
    with pytest.raises(ParameterError) as e:
        resolve(DECL, src)
    assert e.value.name == name
    assert f"parameter '{name}'" in str(e.value)
    assert fragment in str(e.value)


def test_later_sources_win():
    assert math.isclose(resolve(DECL, {"kappa": 1}, None, {"kappa": 4})["kappa"], 4.0)


def test_assignments_and_config(tmp_path):
    assert parse_assignments(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ParameterError):
        parse_assignments(["novalue"])
    f = tmp_path / "c.toml"
    f.write_text("[parameters]\nkappa = 3.0\nn = 2\n")
    assert load_config(f) == {"kappa": 3.0, "n": 2}
    f.write_text("kappa = = 3")
    with pytest.raises(ParameterError, match="not valid TOML"):
        load_config(f)
    with pytest.raises(ParameterError, match="not found"):
        load_config(tmp_path / "missing.toml")
