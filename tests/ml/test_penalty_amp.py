"""gradient_penalty against the textbook formulation, in fp32 and under mixed precision (CPU autocast).

The reference is ``reference_penalty`` of ``benchmarks/ml_penalty_amp.py``: the benchmark times the
same function these tests compare with.
"""

import collections
import importlib.util
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from gpfem.ml.penalties import gradient_penalty  # noqa: E402

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "ml_penalty_amp.py"
_spec = importlib.util.spec_from_file_location("ml_penalty_amp", _BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
reference_penalty = bench.reference_penalty

# bfloat16 keeps 8 significand bits (rounding 2^-9 = 0.2 %), float16 11 (2^-12). Measured on this
# critic for 3 seeds against the fp32 reference: penalty within 0.09 % (bf16) and 0.03 % (fp16),
# parameter gradients within 2.1 % (bf16) and 0.6 % (fp16); the tolerances leave a factor 2-5.
TOL_PENALTY = {torch.bfloat16: 5e-3, torch.float16: 2e-3}
TOL_GRADS = {torch.bfloat16: 5e-2, torch.float16: 1.5e-2}


def _critic(width=64, n_in=8, seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(n_in, width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, width),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(width, 1),
    )
    return net, (lambda x: net(x).squeeze(-1))


def _data(n=128, d=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g) + 1.0


def _grads(net, value):
    net.zero_grad(set_to_none=True)
    value.backward()
    return [p.grad.clone() for p in net.parameters() if p.grad is not None]


def _rel(a, b):
    """Relative difference; 0 when both are zero (the last bias gets an all-zero gradient)."""
    d, n = float((a - b).norm()), float(b.norm())
    return 0.0 if d == 0.0 else d / max(n, 1e-30)


def test_equals_reference_fp32():
    """Same interpolation coefficients: value to 1e-6, parameter gradients to 1e-5 (fp32)."""
    net, crit = _critic()
    real, fake = _data()
    ref = reference_penalty(crit, real, fake, weight=10.0, generator=torch.Generator().manual_seed(3))
    ref_g = _grads(net, ref)
    ours = gradient_penalty(crit, real, fake, weight=10.0, generator=torch.Generator().manual_seed(3))
    ours_g = _grads(net, ours)
    assert float(ours) == pytest.approx(float(ref), rel=1e-6)
    assert len(ours_g) == len(ref_g) == 5  # the last bias cannot change |grad_x D|
    for a, b in zip(ours_g, ref_g, strict=True):
        assert _rel(a, b) < 1e-5


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("inside", [True, False])
def test_amp_equals_reference(dtype, inside):
    """Under autocast + GradScaler (inside the autocast block, or after it with the scaler): the
    unscaled penalty and the unscaled parameter gradients match the fp32 reference within the
    dtype's tolerance, and the reduced-precision reference run the same way.

    The value is taken with GradScaler's default initial scale 2^16: before the fix the seed
    ``1 * scale`` of each sample's output overflowed float16 (65536 > 65504) and the penalty was
    NaN. The gradients are compared at scale 2^8, where the main loss's own float16 parameter
    gradients do not overflow (at 2^16 they do here, and GradScaler would skip that step).
    """
    net, crit = _critic()
    real, fake = _data()
    ref = reference_penalty(crit, real, fake, weight=10.0, generator=torch.Generator().manual_seed(3))
    ref_g = _grads(net, ref)
    with torch.autocast("cpu", dtype=dtype):
        ref_amp = reference_penalty(crit, real, fake, weight=10.0, generator=torch.Generator().manual_seed(3))
    for init_scale in (2.0**16, 2.0**8):
        scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
        gen = torch.Generator().manual_seed(3)
        with torch.autocast("cpu", dtype=dtype, enabled=inside):
            ours = gradient_penalty(crit, real, fake, weight=10.0, scaler=scaler, generator=gen)
        assert ours.dtype == torch.float32 and math.isfinite(float(ours))
        assert float(ours) == pytest.approx(float(ref), rel=TOL_PENALTY[dtype])
        assert float(ours) == pytest.approx(float(ref_amp), rel=TOL_PENALTY[dtype])
    net.zero_grad(set_to_none=True)
    scaler.scale(ours).backward()
    scaler.unscale_(torch.optim.SGD(net.parameters(), lr=0.0))
    ours_g = [p.grad for p in net.parameters() if p.grad is not None]
    for a, b in zip(ours_g, ref_g, strict=True):
        assert _rel(a, b) < TOL_GRADS[dtype]


class _Ops(TorchDispatchMode):
    """Records (op name, output dtype) of every aten call."""

    def __init__(self):
        super().__init__()
        self.ops = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor):
            self.ops[(func.overloadpacket.__name__, out.dtype)] += 1
        return out

    def count(self, names, dtype=None):
        return sum(v for (n, d), v in self.ops.items() if n in names and (dtype is None or d == dtype))


MATMUL = ("mm", "addmm", "bmm", "matmul", "linear")


@pytest.mark.parametrize("inside", [True, False])
def test_double_backward_matmuls_in_reduced_precision(inside):
    """Every matrix product of the penalty (forward, input gradient, double backward into the
    parameters) runs in bfloat16 when a scaler is given, also when the call sits after the autocast
    block as in PyTorch's AMP gradient-penalty recipe (before the fix that layout ran all of them in
    float32); the square, the sum and the square root of the norm run in float32."""
    net, crit = _critic()
    real, fake = _data()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    first = _Ops()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=inside), first:
        pen = gradient_penalty(crit, real, fake, weight=10.0, scaler=scaler)
    second = _Ops()
    with second:
        scaler.scale(pen).backward()
    # forward 3 + input gradient 3; double backward: 3 weight products of the forward graph, and
    # 2 per product of the first backward, minus those that need no gradient
    assert first.count(MATMUL) == first.count(MATMUL, torch.bfloat16) == 6
    assert second.count(MATMUL) == second.count(MATMUL, torch.bfloat16) >= 9
    assert first.count(("sqrt",)) == first.count(("sqrt",), torch.float32) == 1
    assert first.count(("pow",), torch.bfloat16) == 0 and first.count(("pow",), torch.float32) >= 1


def test_explicit_autocast_switch():
    """``autocast=False`` keeps fp32 even with a scaler; ``autocast=True`` without one uses bf16."""
    net, crit = _critic()
    real, fake = _data()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    off, on = _Ops(), _Ops()
    with off:
        gradient_penalty(crit, real, fake, scaler=scaler, autocast=False)
    with on:
        gradient_penalty(crit, real, fake, autocast=True)
    assert off.count(MATMUL, torch.bfloat16) == 0 and off.count(MATMUL, torch.float32) == 6
    assert on.count(MATMUL, torch.float32) == 0 and on.count(MATMUL, torch.bfloat16) == 6


def test_scale_read_without_host_sync():
    """The scale is used as a tensor: ``GradScaler.get_scale()`` (a ``.item()``, a host
    synchronisation on CUDA) is never called."""

    class NoSync(torch.amp.GradScaler):
        def get_scale(self):
            raise AssertionError("get_scale() synchronises the host with the device")

    net, crit = _critic()
    real, fake = _data()
    scaler = NoSync("cpu", init_scale=2.0**10)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        pen = gradient_penalty(crit, real, fake, scaler=scaler)
    ref = gradient_penalty(crit, real, fake, generator=None)
    assert math.isfinite(float(pen)) and float(pen) > 0 and math.isfinite(float(ref))


def test_interpolation_generator_on_cpu_for_any_device():
    """A CPU generator draws the same interpolation coefficients as the reference (same shape,
    same dtype); the points are moved to the data's device."""
    w = torch.tensor([0.3, 0.4, 1.2], dtype=torch.float64)

    def crit(x):
        return 0.5 * (x * w).sum(1) ** 2  # gradient (w.x) w: depends on the point

    real = torch.randn(32, 3, dtype=torch.float64)
    fake = torch.randn(32, 3, dtype=torch.float64)
    a = gradient_penalty(crit, real, fake, generator=torch.Generator().manual_seed(7))
    b = reference_penalty(crit, real, fake, weight=10.0, generator=torch.Generator().manual_seed(7))
    c = gradient_penalty(crit, real, fake, generator=torch.Generator().manual_seed(8))
    assert float(a) == pytest.approx(float(b), rel=1e-9)  # eps = 1e-12 inside gpfem's sqrt
    assert float(a) != pytest.approx(float(c), rel=1e-3)
