"""Models that are not installed: ``gpfem run path/to/model.py`` and ``gpfem run module:Class``."""

import textwrap

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli

# The gradient flow of the Dirichlet energy alone, F = int (kappa/2)|grad phi|^2, from phi = cos(k x):
# backward Euler keeps the mode, so each step multiplies F by (1 + L kappa k^2 dt)^-2 (up to O((k h)^2)).
MODEL = textwrap.dedent('''
    """A whole gpfem model in one file: phi_t = -L dF/dphi, F = int (kappa/2)|grad phi|^2."""
    import math

    import gpfem

    PARAMETERS = [
        gpfem.Parameter("kappa", 1.0, "gradient-penalty coefficient", positive=True),
        gpfem.Parameter("mobility", 1.0, "L", positive=True),
        gpfem.Parameter("Lx", 10.0, "strip length", positive=True),
        gpfem.Parameter("nx", 200, "elements along x", positive=True),
        *gpfem.TIME_PARAMETERS,
        *gpfem.OUTPUT_PARAMETERS,
    ]


    class Relax:
        """The model as a class: ``gpfem run relax:Relax`` finds its ``spec``."""

        def __init__(self, p, ctx):
            self.p, self.ctx = p, ctx

        def run(self):
            import numpy as np
            import ufl
            from dolfinx import fem

            p, ctx = self.p, self.ctx
            msh = gpfem.rectangle(p["Lx"], p["Lx"] / p["nx"], p["nx"], 1, comm=ctx.comm).mesh
            V = fem.functionspace(msh, ("Lagrange", 1))
            phi, phi_n = fem.Function(V, name="phi"), fem.Function(V)
            kappa, L = gpfem.constants(msh, p, "kappa", "mobility")
            dt = fem.Constant(msh, 1.0)
            energy = gpfem.Energy(ufl.dx(domain=msh), gradient=gpfem.gradient_penalty(phi, kappa))
            v = ufl.TestFunction(V)
            F = (phi - phi_n) / (L * dt) * v * ufl.dx + energy.residual(phi, v)
            flow = gpfem.GradientFlow(gpfem.NonlinearSolver(F, phi, prefix="relax_"), phi, phi_n, dt,
                                      energy)
            phi.interpolate(lambda x: np.cos(math.pi / p["Lx"] * x[0]))
            try:
                res = gpfem.run_time_loop(flow, gpfem.step_control(p), gpfem.loop_settings(p), ctx)
            finally:
                flow.close()
            return {"steps": res["steps"], "final_energy": flow.values["energy"]}


    SPEC = Relax.spec = gpfem.Spec(
        name="relax", description="Dirichlet-energy gradient flow of one cosine mode",
        parameters=PARAMETERS, presets={"ci": dict(t_end=2.0, dt=0.05, dt_max=0.2, field_interval=0)},
        run=lambda p, ctx: Relax(p, ctx).run(), uses_mesh=False)
''')


def _check_decay(out, kappa):
    rows = read_csv(out / "history.csv")
    k2 = (np.pi / 10.0) ** 2
    factor = np.prod([(1 + kappa * k2 * r["dt"]) ** -2 for r in rows[1:]])
    assert rows[-1]["time"] == 2.0 and len(rows) > 5
    assert rows[-1]["energy"] / rows[0]["energy"] == pytest.approx(factor, rel=1e-3)
    assert rows[0]["energy"] == pytest.approx(kappa / 2 * k2 * 10.0 * 0.05 / 2, rel=1e-3)  # int sin^2 = L/2


def test_model_file_runs_and_restarts(tmp_path):
    f = tmp_path / "models" / "relax.py"
    f.parent.mkdir()
    f.write_text(MODEL)
    out = tmp_path / "o"
    p = run_cli(["run", str(f), "--preset", "ci", "--set", "kappa=1.5", "--set", "max_steps=4",
                 "--set", "checkpoint_interval=2", "--out", str(out), "--quiet"])
    # png = true (the default) and a model without post: one warning line, not silence
    assert p.stderr.strip() == ("gpfem: warning: model 'relax' has no post-processing: png = true makes "
                                "no pictures"), p.stderr
    post = run_cli(["post", str(out)])
    assert post.stdout.strip() == "model 'relax' has no post-processing; nothing to do" and not post.stderr
    saved = read_json(out / "params.json")
    assert saved["model"] == "relax" and saved["model_ref"] == str(f)
    assert read_json(out / "summary.json")["status"] == "stopped (max_steps)"  # not the end: t < t_end
    run_cli(["run", str(f), "--restart", str(out), "--set", "max_steps=0", "--quiet"])
    _check_decay(out, 1.5)
    assert read_json(out / "summary.json")["status"] == "completed"


def test_unknown_parameter_of_a_model_file_points_to_its_own_listing(tmp_path):
    f = tmp_path / "relax.py"
    f.write_text(MODEL)
    p = run_cli(["run", str(f), "--set", "kapa=1"], check=False)
    assert p.returncode == 2
    assert p.stderr.strip() == (f"gpfem: error: parameter 'kapa': unknown parameter (did you mean 'kappa'?); "
                                f"'gpfem list {f}' shows them all")
    listed = run_cli(["list", str(f)]).stdout  # and that listing has it
    assert "relax: Dirichlet-energy gradient flow" in listed and "kappa = 1.0 [> 0]" in listed


def test_module_colon_class_from_the_current_folder(tmp_path):
    (tmp_path / "relax.py").write_text(MODEL)
    out = tmp_path / "o"
    run_cli(["run", "relax:Relax", "--preset", "ci", "--out", str(out), "--quiet"], cwd=tmp_path)
    _check_decay(out, 1.0)
    bad = run_cli(["run", "relax:Nope", "--out", str(tmp_path / "x")], cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "has no attribute 'Nope'" in bad.stderr
    bad = run_cli(["run", str(tmp_path / "none.py"), "--out", str(tmp_path / "x")], check=False)
    assert bad.returncode == 2 and "model file not found" in bad.stderr
