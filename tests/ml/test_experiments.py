import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gpfem.app import registry  # noqa: E402
from gpfem.app.parameters import resolve  # noqa: E402
from gpfem.app.registry import RunContext  # noqa: E402
from gpfem.base.errors import ParameterError  # noqa: E402
from gpfem.io.history import read_history  # noqa: E402
from gpfem.ml.toy import BASELINES, mode_metrics, modes, sample  # noqa: E402

torch.set_num_threads(1)

NAMES = [
    "wgan-gp",
    "gp-lambda-sweep",
    "gp-placement",
    "gp-activations",
    "gp-clipping",
    "gp-stable-lr",
    "gp-adamw",
    "gp-manifold",
    "gp-robustness",
    "gp-restoring-force",
]


def _run(name, preset, tmp_path, **sets):
    spec = registry.get(name)
    pname, over = spec.preset(preset)
    params = resolve(spec.parameters, over, sets)
    ctx = RunContext(out_dir=tmp_path, preset=pname, log=lambda s: None)
    res = spec.runner()(params, ctx)
    # measured results only: the CLI writes summary.json once, with parameters and versions
    assert not (tmp_path / "summary.json").exists()
    assert not {"parameters", "versions", "preset", "rows", "wall_time_s"} & set(res)
    return res


def _floats(rows, key):
    return [float(r[key]) for r in rows]


def test_specs_registered_without_torch():
    code = (
        "import sys; from gpfem.app import registry; n = registry.names(); "
        "print(','.join(n)); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, torch_loaded = out.stdout.strip().splitlines()
    for n in NAMES:
        assert n in names.split(",")
    assert torch_loaded == "False"
    spec = registry.get("wgan-gp")
    assert list(spec.presets)[:4] == ["8gaussians", "25gaussians", "swissroll", "ci"]
    for n in NAMES:
        for p in registry.get(n).parameters:
            assert p.help


@pytest.mark.parametrize("name,k,std", [("8gaussians", 8, 0.02 / 1.414), ("25gaussians", 25, 0.05 / 2.828)])
def test_toy_data_and_metrics(name, k, std):
    rng = np.random.default_rng(0)
    x = sample(name, 2500, rng)
    c, s = modes(name)
    assert c.shape == (k, 2) and s == pytest.approx(std)
    assert x.std(0).mean() == pytest.approx(1.0, abs=0.1)  # the script's /stdev normalisation
    m = mode_metrics(x, name)
    assert m["modes_covered"] == k
    assert m["high_quality_fraction"] > 0.985  # 3 sigma in 2D: 1 - exp(-4.5) = 0.989
    collapsed = np.repeat(c[:1], 2500, axis=0) + 10 * std  # all far from every mode
    m2 = mode_metrics(collapsed, name)
    assert m2["modes_covered"] == 0 and m2["high_quality_fraction"] == 0.0
    one = np.repeat(c[:1], 2500, axis=0)
    assert mode_metrics(one, name)["modes_covered"] == 1
    assert len(BASELINES[name]) >= 4


def test_swissroll_sample():
    x = sample("swissroll", 1000, np.random.default_rng(0))
    assert x.shape == (1000, 2) and x.dtype == np.float32
    assert 0.5 < float(np.abs(x).max()) < 2.5


def test_cuda_request_without_gpu(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ParameterError, match="device"):
        _run("wgan-gp", "ci", tmp_path, device="cuda", iters=1)


def test_restoring_force(tmp_path):
    s = _run("gp-restoring-force", "default", tmp_path)
    assert s["violation_loglog_slope"] == pytest.approx(-1.0, abs=0.05)
    assert s["condition_loglog_slope"] == pytest.approx(1.0, abs=0.05)
    last = read_history(tmp_path / "history.csv")[-1]
    assert float(last["violation"]) == pytest.approx(float(last["violation_theory"]), rel=0.01)


def test_stable_lr_matches_eigenvalues(tmp_path):
    s = _run("gp-stable-lr", "quick", tmp_path)
    rows = read_history(tmp_path / "history.csv")
    assert _floats(rows, "h_max_measured") == pytest.approx(_floats(rows, "h_max_theory"), rel=0.05)
    assert (tmp_path / "stable_lr.png").exists()
    mlp = s["mlp"]
    assert mlp["seeds"] == [0, 1] and len(mlp["per_seed"]) == 2
    # MLP critic: h_max ~ 1/lambda, in the mean over seeds
    assert 5.0 < mlp["mean"]["h_max_lam10"] / mlp["mean"]["h_max_lam100"] < 20.0


def test_wgan_gp_ci_run(tmp_path):
    """``gpfem run wgan-gp --preset ci`` (the 8gaussians preset's training, seeds 0 and 1): >= 7 of 8
    modes and >= 50 % high-quality samples in the mean over seeds; summary.json written once by the
    CLI, with the measured results beside (not inside) parameters and versions."""
    from gpfem.cli import main

    out = tmp_path / "ci"
    assert main(["run", "wgan-gp", "--preset", "ci", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    s = summary["results"]
    assert s["seeds"] == [0, 1] and len(s["per_seed"]) == 2
    assert s["mean"]["modes_covered"] >= 7
    assert s["mean"]["high_quality_fraction"] >= 0.5
    assert 0.5 < s["mean"]["final_grad_norm_mean"] < 2.0
    assert s["mean"]["diverged"] == 0.0
    hq = [r["high_quality_fraction"] for r in s["per_seed"]]
    assert s["min"]["high_quality_fraction"] == min(hq) and s["max"]["high_quality_fraction"] == max(hq)
    assert not {"parameters", "versions", "rows", "preset", "wall_time_s", "baselines"} & set(s)
    assert summary["status"] == "completed" and "torch" in summary["versions"]
    assert summary["parameters"]["n_seeds"] == 2 and summary["preset"] == "ci"
    rows = read_history(out / "history.csv")
    assert list(rows[0]) == [
        "seed",
        "iteration",
        "critic_loss",
        "generator_loss",
        "gradient_penalty",
        "grad_norm_mean",
        "wasserstein_estimate",
    ]
    assert {r["seed"] for r in rows} == {"0", "1"} and len(rows) > 2 * 60
    for png in ("samples.png", "critic.png", "grad_norms.png"):
        p = Path(out / png)
        assert p.exists() and p.stat().st_size < 300_000


def test_ci_preset_is_the_8gaussians_preset():
    """The CI run trains exactly as ``--preset 8gaussians``, with 2 of its 5 seeds."""
    spec = registry.get("wgan-gp")
    ci, full = spec.preset("ci")[1], spec.preset("8gaussians")[1]
    assert (ci.pop("n_seeds"), full.pop("n_seeds")) == (2, 5)
    assert ci == full


def test_sweep_over_seeds(tmp_path):
    """A sweep trains every setting for every seed into one history and reports mean and spread."""
    s = _run("gp-activations", "quick", tmp_path, iters=10, log_every=5, n_eval=200)
    assert set(s["runs"]) == {"relu", "leakyrelu", "tanh"}
    for r in s["runs"].values():
        assert r["seeds"] == [0, 1] and len(r["per_seed"]) == 2
        for key in ("modes_covered", "final_grad_norm_mean", "init_flat_unit_fraction"):
            vals = [p[key] for p in r["per_seed"]]
            assert r["mean"][key] == pytest.approx(sum(vals) / 2)
            assert r["min"][key] == min(vals) and r["max"][key] == max(vals)
    # half of the ReLU units start in their flat region; LeakyReLU has none
    assert 0.3 < s["runs"]["relu"]["mean"]["init_flat_unit_fraction"] < 0.7
    assert s["runs"]["leakyrelu"]["mean"]["init_flat_unit_fraction"] == 0.0
    rows = read_history(tmp_path / "history.csv")
    assert list(rows[0])[:2] == ["run", "seed"]
    assert {(r["run"], r["seed"]) for r in rows} == {(a, b) for a in s["runs"] for b in ("0", "1")}


def test_adamw_vs_adam_l2_effective_decay(tmp_path):
    s = _run("gp-adamw", "quick", tmp_path)
    # Adam + L2: weights with small data gradients get far more decay than those with large ones
    assert s["adam_l2"]["mean"]["effective_decay_ratio_q1_over_q4"] > 5.0
    # AdamW: the same decay lr * wd for every weight, for every seed
    assert s["adamw"]["min"]["effective_decay_ratio_q1_over_q4"] == pytest.approx(1.0)
    assert s["adamw"]["max"]["effective_decay_ratio_q1_over_q4"] == pytest.approx(1.0)
    assert s["adamw"]["mean"]["effective_decay_min"] == pytest.approx(1e-4)


def test_robustness_penalty_shrinks_input_gradient(tmp_path):
    s = _run("gp-robustness", "quick", tmp_path)
    for name in ("moons", "digits"):
        r0, r1 = s[name]["lam0"]["mean"], s[name]["lam0.1"]["mean"]
        assert r1["grad_l1_mean"] < r0["grad_l1_mean"]
        assert 0.0 <= r1["pgd_acc"] <= r1["fgsm_acc"] + 0.05
