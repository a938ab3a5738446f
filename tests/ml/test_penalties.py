import functools
import math

import pytest

torch = pytest.importorskip("torch")

from gpfem.ml.penalties import (  # noqa: E402
    LazyRegularizer,
    gradient_penalty,
    input_gradient_penalty,
    lazy_adam_hyperparameters,
    parameter_gradient_penalty,
    per_sample_norm,
)

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


class Linear(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(torch.as_tensor(w, dtype=torch.float64))

    def forward(self, x):
        return (x.flatten(1) * self.w.flatten()).sum(1)


def _data(b=16, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(b, d, generator=g, dtype=torch.float64),
        torch.randn(b, d, generator=g, dtype=torch.float64) + 2.0,
    )


@pytest.mark.parametrize("where", ["interpolates", "real", "fake", "both"])
@pytest.mark.parametrize("w", [[0.3, -0.4, 1.2], [2.0, 0.0, 0.0], [0.1, 0.1, 0.1]])
def test_linear_critic_exact(where, w):
    crit = Linear(w)
    real, fake = _data()
    lam = 7.0
    wn = math.sqrt(sum(v * v for v in w))
    gp = gradient_penalty(crit, real, fake, where=where, weight=lam)
    assert float(gp) == pytest.approx(lam * (wn - 1) ** 2, rel=1e-10, abs=1e-10)
    gp0 = gradient_penalty(crit, real, fake, where=where, target=0.0, weight=lam)
    assert float(gp0) == pytest.approx(lam * wn**2, rel=1e-10)
    one = gradient_penalty(crit, real, fake, where=where, one_sided=True, weight=lam)
    assert float(one) == pytest.approx(lam * max(wn - 1, 0.0) ** 2, abs=1e-10)


def test_double_backward_reaches_parameters():
    w = [0.3, -0.4, 1.2]
    crit = Linear(w)
    real, fake = _data()
    gp = gradient_penalty(crit, real, fake, weight=5.0)
    gp.backward()
    wt = torch.tensor(w, dtype=torch.float64)
    wn = wt.norm()
    expected = 5.0 * 2 * (wn - 1) * wt / wn  # d/dw lam (|w| - 1)^2
    assert torch.allclose(crit.w.grad, expected, rtol=1e-9)


def test_mlp_double_backward_nonzero_and_finite():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    gp = gradient_penalty(lambda x: net(x).squeeze(-1), real, fake, weight=10.0)
    gp.backward()
    # every weight matrix gets a gradient; the last bias cannot move |grad_x D| (None)
    assert net[2].bias.grad is None or float(net[2].bias.grad.abs().sum()) == 0.0
    for p in (net[0].weight, net[0].bias, net[2].weight):
        total = float(p.grad.abs().sum())
        assert total > 1e-4 and math.isfinite(total)


@pytest.mark.parametrize("b", [1, 5])
def test_image_shaped_per_sample_norms(b):
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    crit = Linear(w)
    x = torch.randn(b, 3, 4, 5, generator=g, dtype=torch.float64)
    gp, norms = gradient_penalty(crit, x, where="real", weight=1.0, return_norms=True)
    assert norms.shape == (b,)
    assert torch.allclose(norms, torch.full((b,), float(w.norm()), dtype=torch.float64))
    # per-sample, not whole-batch, norm: a quadratic critic gives each sample its own norm
    xs = x.clone()
    gp2, n2 = gradient_penalty(
        lambda z: 0.5 * z.flatten(1).pow(2).sum(1),
        xs,
        where="real",
        target=0.0,
        weight=1.0,
        return_norms=True,
    )
    assert torch.allclose(n2, xs.flatten(1).norm(dim=1))
    assert float(gp2) == pytest.approx(float(xs.flatten(1).pow(2).sum(1).mean()), rel=1e-10)


def test_per_sample_norm_l1():
    g = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert per_sample_norm(g, 1).tolist() == [3.0, 7.0]
    assert per_sample_norm(g, 2, eps=0.0).tolist() == pytest.approx([math.sqrt(5), 5.0])


def test_zero_gradient_is_finite():
    w = torch.nn.Parameter(torch.zeros(3))

    def crit(x):
        return (x * w).sum(1)

    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    gp = gradient_penalty(crit, real, fake, target=0.0, weight=10.0)
    gp.backward()
    assert math.isfinite(float(gp)) and float(gp) == pytest.approx(0.0, abs=1e-9)
    assert torch.isfinite(w.grad).all()
    w.grad = None
    gp1 = gradient_penalty(crit, real, fake, target=1.0, weight=10.0)
    gp1.backward()
    assert float(gp1) == pytest.approx(10.0, rel=1e-5)
    assert torch.isfinite(w.grad).all()


def test_conditional_penalty_in_data_space_only():
    w = torch.tensor([0.6, 0.8, 0.0], dtype=torch.float64)  # |w| = 1
    v = torch.tensor([5.0, -3.0], dtype=torch.float64)
    seen = {}

    def crit(x, c):
        seen["c"] = c
        return (x * w).sum(1) + (c * v).sum(1) * 10

    real, fake = _data()
    cond = torch.randn(16, 2, dtype=torch.float64)
    gp = gradient_penalty(crit, real, fake, cond=cond, weight=3.0)
    assert float(gp) == pytest.approx(0.0, abs=1e-10)  # condition's slope (|v|*10) ignored
    assert seen["c"] is cond
    gpb = gradient_penalty(crit, real, fake, where="both", cond=cond, target=0.0, weight=3.0)
    assert float(gpb) == pytest.approx(3.0, rel=1e-10)
    assert seen["c"].shape == (32, 2)


def test_amp_matches_fp32():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 64),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(64, 64),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(64, 1),
    )

    def crit(x):
        return net(x).squeeze(-1)

    real, fake = torch.randn(128, 2), torch.randn(128, 2) + 1
    g = torch.Generator().manual_seed(3)
    ref = gradient_penalty(crit, real, fake, weight=10.0, generator=g)
    ref.backward()
    params = [p for p in net.parameters() if p.grad is not None]
    ref_grads = [p.grad.clone() for p in params]
    net.zero_grad()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    g = torch.Generator().manual_seed(3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        amp = gradient_penalty(crit, real, fake, weight=10.0, generator=g, scaler=scaler)
    assert amp.dtype == torch.float32
    assert float(amp) == pytest.approx(float(ref), rel=3e-2)
    scaler.scale(amp).backward()
    scaler.unscale_(torch.optim.SGD(net.parameters(), lr=0.0))
    for a, r in zip([p.grad for p in params], ref_grads, strict=True):
        assert float((a - r).norm()) <= 0.05 * float(r.norm()) + 1e-6
    # without unscaling, the norm would be 4096x too large: the scaler path matters
    g = torch.Generator().manual_seed(3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        raw = gradient_penalty(lambda x: crit(x) * scaler.get_scale(), real, fake, weight=10.0, generator=g)
    assert float(raw) > 1e3 * float(ref)


def test_lazy_regularizer_matches_k_times():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))

    def crit(x):
        return net(x).squeeze(-1)

    k = 4
    pen = functools.partial(gradient_penalty, crit, where="real", target=0.0, weight=2.0)
    lazy = LazyRegularizer(pen, k)
    g = torch.Generator().manual_seed(0)
    eager_sum, lazy_sum, applied = 0.0, 0.0, 0
    n = 400
    for _ in range(n):
        real = torch.randn(64, 2, generator=g)
        eager_sum += float(pen(real))
        out = lazy(real)
        if out is not None:
            lazy_sum += float(out)
            applied += 1
    assert applied == n // k
    assert lazy_sum / n == pytest.approx(eager_sum / n, rel=0.05)
    # deterministic case: a linear critic gives exactly k * penalty on due steps
    lin = Linear([0.3, 0.4, 1.2])
    lz = LazyRegularizer(functools.partial(gradient_penalty, lin, weight=1.0), 3)
    real, fake = _data()
    vals = [lz(real, fake) for _ in range(6)]
    assert [v is None for v in vals] == [False, True, True, False, True, True]
    assert float(vals[0]) == pytest.approx(3 * (1.3 - 1) ** 2, rel=1e-9)


def test_lazy_adam_hyperparameters():
    lr, (b1, b2) = lazy_adam_hyperparameters(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17)
    assert b2 == pytest.approx(0.99 ** (16 / 17))
    assert b1 == 0.0


def test_input_gradient_penalty_linear_model():
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    x = torch.randn(10, 3, dtype=torch.float64, requires_grad=True)
    losses = (x * w).sum(1) ** 2  # per-sample: grad = 2 (w.x) w
    p2 = input_gradient_penalty(losses, x, norm=2)
    expected2 = (2 * (x * w).sum(1).abs() * w.norm()).mean()
    assert float(p2) == pytest.approx(float(expected2), rel=1e-9)
    p1 = input_gradient_penalty(losses, x, norm=1, weight=0.5)
    expected1 = 0.5 * (2 * (x * w).sum(1).abs() * w.abs().sum()).mean()
    assert float(p1) == pytest.approx(float(expected1), rel=1e-9)
    p2.backward()
    assert torch.isfinite(x.grad).all()


def test_parameter_gradient_penalty():
    a = torch.nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))
    loss = 0.5 * (a**2).sum()  # grad = a, |grad| = 5
    pen = parameter_gradient_penalty(loss, [a], weight=2.0)
    assert float(pen) == pytest.approx(10.0, rel=1e-10)
    (loss + pen).backward()
    # d/da [0.5|a|^2 + 2|a|] = a + 2 a/|a|
    assert torch.allclose(a.grad, torch.tensor([3.0 + 1.2, 4.0 + 1.6], dtype=torch.float64))


def test_bad_arguments():
    crit = Linear([1.0, 0.0, 0.0])
    real, fake = _data()
    with pytest.raises(ValueError):
        gradient_penalty(crit, real, fake, where="middle")
    with pytest.raises(ValueError):
        gradient_penalty(crit, real, None)
    with pytest.raises(ValueError):
        gradient_penalty(crit, real, fake[:3])
