import math

import pytest

from gpfem.app.parameters import Parameter, load_config, parse_assignments, resolve
from gpfem.base.errors import ParameterError

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


LISTS = [
    Parameter("load_path", [], "turning points", type=list, item=float),
    Parameter("counts", [], "counts", type=list, item=int),
    Parameter("names", ["a"], "names", type=list),
    Parameter("lams", [0.1, 1.0], "weights"),
]


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ({"load_path": "[0.001, nan]"}, "parameter 'load_path': must be finite numbers, got nan"),
        ({"load_path": [0.001, float("inf")]}, "parameter 'load_path': must be finite numbers, got inf"),
        ({"load_path": ["a", "b"]}, "parameter 'load_path': expected a list of numbers, got ['a', 'b']"),
        ({"load_path": [True]}, "parameter 'load_path': expected a list of numbers, got [True]"),
        ({"load_path": 5}, "parameter 'load_path': expected a list, got 5"),
        ({"counts": [1, 2.5]}, "parameter 'counts': expected a list of integers, got [1, 2.5]"),
        ({"names": [1, "b"]}, "parameter 'names': expected a list of str, got [1, 'b']"),
        ({"lams": "1, -inf"}, "parameter 'lams': must be finite numbers, got -inf"),
        ({"n": "nan"}, "parameter 'n': must be finite, got nan"),
        ({"n": float("inf")}, "parameter 'n': must be finite, got inf"),
        ({"kappa": float("-inf")}, "parameter 'kappa': must be finite, got -inf"),
    ],
)
def test_lists_have_typed_finite_elements(src, message):
    """nan/inf and wrong element types in any numeric parameter or list: one message naming it."""
    with pytest.raises(ParameterError) as e:
        resolve([*DECL, *LISTS], src)
    assert str(e.value) == message


def test_list_elements_are_converted():
    p = resolve(LISTS, {"load_path": "[0.01, 0, 2e-2]", "counts": "3,4", "names": "[x, 'y']", "lams": [1, 2]})
    assert p == {"load_path": [0.01, 0.0, 0.02], "counts": [3, 4], "names": ["x", "y"], "lams": [1.0, 2.0]}
    assert resolve(DECL, {"n": "1e3"})["n"] == 1000  # an integer written as a float
    assert resolve(LISTS, {"load_path": "[]"})["load_path"] == []


def test_check_across_parameters_runs_after_coercion():
    """``resolve(check=...)`` sees coerced values and raises its first problem."""

    def check(p):
        if p["n"] > p["kappa"]:
            return [("n", f"must be <= kappa ({p['kappa']:g})"), ("kappa", "never seen")]
        return []

    assert resolve(DECL, {"n": "2"}, check=check)["n"] == 2
    with pytest.raises(ParameterError, match=r"^parameter 'n': must be <= kappa \(2\)$"):
        resolve(DECL, {"n": "3"}, check=check)
