"""Cost of the critic gradient penalty per critic step: plain vs with penalty, fp32 vs mixed precision.

One invocation prints, side by side, CPU fp32, CPU AMP (bfloat16 autocast + GradScaler), CUDA fp32
and CUDA AMP (float16 autocast + GradScaler) at three critic sizes (CUDA rows are skipped with the
reason when no GPU is visible). Each row times one Adam critic step of the WGAN loss
``E[D(fake)] - E[D(real)]``

* ``plain``: without a penalty,
* ``gpfem``: with :func:`gpfem.ml.gradient_penalty` called inside the autocast block,
* ``gpfem out``: the same call placed after the autocast block, with the scaler (the layout of
  PyTorch's AMP gradient-penalty recipe; before the fix it ran the whole penalty in fp32),
* ``reference``: with :func:`reference_penalty`, the textbook WGAN-GP formulation written below
  (``autograd.grad(D(x_hat), x_hat, ones, create_graph=True)``, ``norm(2, dim=1)``), inside autocast,

and the overhead ratio ``with penalty / plain``. ``--before FILE`` adds two columns timed with the
``gradient_penalty`` of another version of ``gpfem/ml/penalties.py`` (``before``: inside autocast,
``before out``: after it), e.g. from ``git show 18be8c1:gpfem/ml/penalties.py``. Times are medians
over ``--repeats`` blocks of ``--steps`` steps; the variants are interleaved block by block so that a
change of machine load hits all of them alike. ``mm dtype`` counts the matrix products of the
penalty's backward (the double backward into the critic's parameters) by output dtype, from a
dispatch-mode trace of one step.

    .venv/bin/python benchmarks/ml_penalty_amp.py                 # CPU rows (~2 min on one core)
    .venv/bin/python benchmarks/ml_penalty_amp.py --quick         # small sizes, seconds
    python benchmarks/ml_penalty_amp.py --devices cuda            # on a GPU host: CUDA rows only
    python benchmarks/ml_penalty_amp.py --devices cuda --before /tmp/before.py   # and the old code

Sizes (``inputs-width x depth-1``, batch): ``toy`` 2-128x3-1 (the toy studies' critic), batch 256;
``mid`` 512-512x4-1, batch 1024; ``large`` 3072-2048x4-1, batch 4096 on CUDA (the size measured on
an H100 in the issue), 1024-1024x4-1, batch 1024 on CPU.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gpfem.ml.penalties import gradient_penalty  # noqa: E402

__all__ = ["SIZES", "main", "mm_dtypes", "reference_penalty", "time_row"]

#: name -> device -> (inputs, width, depth, batch)
SIZES: dict[str, dict[str, tuple[int, int, int, int]]] = {
    "toy": {"cpu": (2, 128, 3, 256), "cuda": (2, 128, 3, 256)},
    "mid": {"cpu": (512, 512, 4, 1024), "cuda": (512, 512, 4, 1024)},
    "large": {"cpu": (1024, 1024, 4, 1024), "cuda": (3072, 2048, 4, 4096)},
}
QUICK: dict[str, dict[str, tuple[int, int, int, int]]] = {
    "toy": {"cpu": (2, 64, 3, 128), "cuda": (2, 128, 3, 256)},
    "mid": {"cpu": (128, 128, 3, 256), "cuda": (512, 512, 4, 1024)},
    "large": {"cpu": (256, 256, 4, 256), "cuda": (1024, 1024, 4, 2048)},
}
VARIANTS = ("plain", "gpfem", "gpfem out", "reference")
LAMBDA = 10.0
#: ``gradient_penalty`` of another version (``--before FILE``), or None
BEFORE: Callable[..., torch.Tensor] | None = None


def _penalty(variant: str) -> Callable[..., torch.Tensor]:
    if variant.startswith("before"):
        assert BEFORE is not None
        return BEFORE
    return gradient_penalty


def reference_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = LAMBDA,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Textbook WGAN-GP penalty ``weight * mean((|grad D(x_hat)|_2 - 1)^2)`` (Gulrajani et al. 2017).

    Written as in the paper's reference code: one ``alpha ~ U[0, 1]`` per sample,
    ``autograd.grad`` of the outputs with ``grad_outputs=ones``, the norm over the flattened sample.
    """
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    dev = real.device if generator is None else generator.device
    alpha = torch.rand(shape, device=dev, dtype=real.dtype, generator=generator).to(real.device)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    d = critic(x_hat)
    (grads,) = torch.autograd.grad(
        outputs=d, inputs=x_hat, grad_outputs=torch.ones_like(d), create_graph=True, retain_graph=True
    )
    return weight * ((grads.reshape(grads.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()


def _mlp(n_in: int, width: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    w = n_in
    for _ in range(depth):
        layers += [nn.Linear(w, width), nn.ReLU()]
        w = width
    layers.append(nn.Linear(w, 1))
    return nn.Sequential(*layers)


class _Setup:
    """Critic, optimiser, scaler and data of one row."""

    def __init__(self, device: str, amp: bool, size: tuple[int, int, int, int], seed: int = 0):
        n_in, width, depth, batch = size
        torch.manual_seed(seed)
        self.device = device
        self.amp = amp
        self.dtype = torch.float16 if device == "cuda" else torch.bfloat16
        self.net = _mlp(n_in, width, depth).to(device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-4, betas=(0.5, 0.9))
        # AMP rows use autocast and a GradScaler on both devices (bfloat16 would not need the scaler;
        # it is kept so that the CPU rows exercise the same code path as CUDA float16)
        self.scaler = torch.amp.GradScaler(device, enabled=amp)
        self.real = torch.randn(batch, n_in, device=device)
        self.fake = torch.randn(batch, n_in, device=device) + 0.5

    def critic(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)

    def step(self, variant: str) -> None:
        """One critic step."""
        scaler = self.scaler
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast(self.device, dtype=self.dtype, enabled=self.amp):
            loss = self.critic(self.fake).mean() - self.critic(self.real).mean()
            if variant in ("gpfem", "before"):
                pen = _penalty(variant)
                loss = loss + pen(self.critic, self.real, self.fake, weight=LAMBDA, scaler=scaler)
            elif variant == "reference":
                loss = loss + reference_penalty(self.critic, self.real, self.fake)
        if variant in ("gpfem out", "before out"):
            pen = _penalty(variant)
            loss = loss + pen(self.critic, self.real, self.fake, weight=LAMBDA, scaler=scaler)
        scaler.scale(loss).backward()
        scaler.step(self.opt)
        scaler.update()


class _MatmulDtypes(TorchDispatchMode):
    """Counts matrix products by output dtype."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if func.overloadpacket.__name__ in ("mm", "addmm", "bmm", "matmul", "linear"):
            self.counts[str(out.dtype).removeprefix("torch.")] += 1
        return out


def mm_dtypes(setup: _Setup, variant: str) -> str:
    """Matrix products of the backward of ``loss + penalty`` by dtype, e.g. ``bfloat16 9``."""
    if variant == "plain":
        return "-"
    s = setup
    s.opt.zero_grad(set_to_none=True)
    with torch.autocast(s.device, dtype=s.dtype, enabled=s.amp):
        if variant in ("gpfem", "before"):
            pen = _penalty(variant)(s.critic, s.real, s.fake, weight=LAMBDA, scaler=s.scaler)
        elif variant == "reference":
            pen = reference_penalty(s.critic, s.real, s.fake)
    if variant in ("gpfem out", "before out"):
        pen = _penalty(variant)(s.critic, s.real, s.fake, weight=LAMBDA, scaler=s.scaler)
    mode = _MatmulDtypes()
    with mode:
        s.scaler.scale(pen).backward()
    s.opt.zero_grad(set_to_none=True)
    return " ".join(f"{k} {v}" for k, v in sorted(mode.counts.items()))


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_row(
    device: str, amp: bool, size: tuple[int, int, int, int], steps: int, repeats: int
) -> dict[str, Any]:
    """Median seconds per critic step of each variant, and the matmul dtypes of each penalty."""
    s = _Setup(device, amp, size)
    variants = VARIANTS + (("before", "before out") if BEFORE is not None else ())
    for v in variants:  # warm-up (allocator, autocast caches, cuBLAS handles)
        for _ in range(2):
            s.step(v)
    _sync(device)
    per: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(repeats):
        for v in variants:
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(steps):
                s.step(v)
            _sync(device)
            per[v].append((time.perf_counter() - t0) / steps)
    med = {v: statistics.median(t) for v, t in per.items()}
    return {"median_s": med, "mm": {v: mm_dtypes(s, v) for v in variants}}


def _machine() -> str:
    from _bench import machine  # the CPU line every benchmark prints; this script adds torch's part

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    return (
        f"{machine()}; {gpu}; torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s), "
        f"float32 matmul precision {torch.get_float32_matmul_precision()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=["cpu", "cuda"])
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--steps", type=int, default=0, help="steps per timed block (0: by size)")
    ap.add_argument("--repeats", type=int, default=5, help="timed blocks per variant (median)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    ap.add_argument("--before", metavar="FILE", help="another penalties.py to time beside this one")
    a = ap.parse_args(argv)
    global BEFORE
    if a.before:
        spec = importlib.util.spec_from_file_location("gpfem_penalties_before", a.before)
        if spec is None or spec.loader is None:
            ap.error(f"--before: cannot load {a.before}")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        BEFORE = mod.gradient_penalty
    torch.set_num_threads(a.threads)
    sizes = QUICK if a.quick else SIZES
    repeats = 3 if a.quick else a.repeats
    print(_machine())
    print(f"critic step = Adam step on E[D(fake)] - E[D(real)] (+ penalty, lambda {LAMBDA:g}); "
          f"median of {repeats} blocks; ratio = step with penalty / plain step")
    cols = ["gpfem", "gpfem out", "reference"] + (["before", "before out"] if BEFORE else [])
    hdr = "| device | precision | critic (in-width x depth-1) | batch | plain ms | "
    hdr += " | ".join(f"{c} ms | ratio" for c in cols)
    hdr += " | mm dtype in penalty backward (gpfem / gpfem out / reference"
    print(hdr + (" / before out) |" if BEFORE else ") |"))
    print("|" + "---|" * (6 + 2 * len(cols)))
    for device in a.devices:
        for amp in (False, True):
            prec = "fp32" if not amp else ("AMP fp16" if device == "cuda" else "AMP bf16")
            if device == "cuda" and not torch.cuda.is_available():
                why = "torch.cuda.is_available() is False" + (
                    "" if torch.version.cuda else " (a CPU-only torch build)"
                )
                print(f"| cuda | {prec} | - | - | skipped: {why} |" + " |" * (2 * len(cols) + 1))
                continue
            for name in a.sizes:
                n_in, width, depth, batch = sizes[name][device]
                steps = a.steps or max(2, min(50, int(2e10 / (batch * width * width * depth * 6))))
                if device == "cuda":
                    steps = a.steps or 20
                r = time_row(device, amp, (n_in, width, depth, batch), steps, repeats)
                m = {k: 1e3 * v for k, v in r["median_s"].items()}
                mm = " / ".join(r["mm"][c] for c in ["gpfem", "gpfem out", "reference"])
                if BEFORE:
                    mm += " / " + r["mm"]["before out"]
                cells = " | ".join(f"{m[c]:.3g} | {m[c] / m['plain']:.2f}" for c in cols)
                print(
                    f"| {device} | {prec} | {name} {n_in}-{width}x{depth}-1 | {batch} | {m['plain']:.3g} "
                    f"| {cells} | {mm} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
