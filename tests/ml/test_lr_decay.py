"""``lr_decay``: both learning rates fall linearly from their value to zero over the run."""

import functools

import pytest


def test_linear_decay_to_zero_over_the_run():
    torch = pytest.importorskip("torch")
    from gpfem.ml.train import _linear_decay

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=2.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, functools.partial(_linear_decay, n=4))
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0, 0.0])  # and never below zero
