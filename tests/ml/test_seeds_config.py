"""Seeds (mean, spread, range) and the one place of the training defaults."""

import math

import pytest

from gpfem.app import registry
from gpfem.ml.seeds import format_stat, over_seeds, seed_list
from gpfem.ml.train_config import TRAIN_DEFAULTS, train_settings


def test_seed_list():
    assert seed_list({"seed": 4, "n_seeds": 3}) == [4, 5, 6]
    assert seed_list({"seed": 0}) == [0]


def test_over_seeds_mean_std_range():
    runs = [
        {"a": 1.0, "n": 8, "ok": True, "name": "x", "none": None},
        {"a": 2.0, "n": 6, "ok": False, "name": "y", "none": 1.0},
        {"a": 6.0, "n": 7, "ok": True, "name": "z", "none": 2.0},
    ]
    s = over_seeds(runs, [0, 1, 2])
    assert s["seeds"] == [0, 1, 2] and s["per_seed"] == runs
    assert s["mean"]["a"] == pytest.approx(3.0)
    assert s["std"]["a"] == pytest.approx(math.sqrt(((1 - 3) ** 2 + (2 - 3) ** 2 + (6 - 3) ** 2) / 2))
    assert (s["min"]["a"], s["max"]["a"]) == (1.0, 6.0)
    assert s["mean"]["n"] == pytest.approx(7.0) and s["std"]["n"] == pytest.approx(1.0)
    assert s["mean"]["ok"] == pytest.approx(2 / 3) and "ok" not in s["std"]  # fraction of seeds
    assert "name" not in s["mean"] and "none" not in s["mean"]  # not a number in every run
    one = over_seeds(runs[:1], [5])
    assert one["std"]["a"] == 0.0 and format_stat(one, "a") == "1"
    assert format_stat(s, "a") == "3 ± 2.65 [1, 6]"
    assert format_stat(s, "missing") == "-"


def test_training_defaults_in_one_place():
    """The CLI's defaults, train_wgan's defaults and what studies pass are the same values."""
    from gpfem.ml import train

    assert train.TRAIN_DEFAULTS is TRAIN_DEFAULTS
    for name in ("wgan-gp", "gp-lambda-sweep", "gp-placement", "gp-activations", "gp-clipping"):
        declared = {p.name: p.default for p in registry.get(name).parameters}
        for k, v in TRAIN_DEFAULTS.items():
            assert declared[k] == v, (name, k)
        assert train_settings(declared) == TRAIN_DEFAULTS  # n_seeds and study keys left out
    assert TRAIN_DEFAULTS["lr"] == 1e-3 and TRAIN_DEFAULTS["iters"] == 2500
