"""Gradient penalties for critics, classifiers and parameters.

One function, :func:`gradient_penalty`, covers the critic family (WGAN-GP, R1, R2, zero-centred,
one-sided, conditional, mixed precision); :class:`LazyRegularizer` applies any of them every ``k``
steps. :func:`input_gradient_penalty` (double backpropagation) and
:func:`parameter_gradient_penalty` penalise the gradient of a loss.

Finite-element counterpart: the same term is the gradient energy ``(kappa/2) int |grad phi|^2 dx`` of
the Cahn-Hilliard, martensite and phase-field fracture models. There ``phi`` is a field over the
domain and ``kappa`` sets the interface width; here ``D`` is a field over data space and ``lambda``
sets how steep the critic may be. In both, the penalty is taken on the gradient with respect to the
field's *input* (space, or data), and the expectation/integral says *where* it is enforced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, overload

import torch

__all__ = [
    "LazyRegularizer",
    "gradient_penalty",
    "input_gradient_penalty",
    "lazy_adam_hyperparameters",
    "parameter_gradient_penalty",
    "per_sample_norm",
]

_WHERE = ("interpolates", "real", "fake", "both")


def per_sample_norm(grad: torch.Tensor, p: float = 2.0, eps: float = 1e-12) -> torch.Tensor:
    """Norm of each sample's gradient over every non-batch dimension.

    ``|g_i|_2 = sqrt(sum_j g_ij^2 + eps)`` with ``eps`` inside the square root, so a zero gradient
    has a finite derivative (no NaN in the double backward). For ``p=1`` the sum of absolute values.

    Args:
        grad: Tensor of shape ``(B, ...)``; any number of trailing dimensions (e.g. ``(B, C, H, W)``).
        p: 2 or 1.
        eps: Added inside the square root (``p=2`` only).

    Returns:
        Tensor of shape ``(B,)`` in float32 or wider.
    """
    g = grad.reshape(grad.shape[0], -1)
    if g.dtype in (torch.float16, torch.bfloat16):
        g = g.float()
    if p == 2:
        return torch.sqrt(g.pow(2).sum(dim=1) + eps)
    if p == 1:
        return g.abs().sum(dim=1)
    raise ValueError(f"p must be 1 or 2, got {p!r}")


def _call(critic: Callable[..., torch.Tensor], x: torch.Tensor, cond: Any) -> torch.Tensor:
    return critic(x) if cond is None else critic(x, cond)


def _points(
    real: torch.Tensor | None,
    fake: torch.Tensor | None,
    cond: Any,
    where: str,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, Any]:
    """The points ``x_hat`` where the penalty is taken, and the matching condition.

    The interpolation coefficients are drawn on the generator's device (CPU when ``generator`` is
    None and the data are on the CPU) and moved to the data: a CPU generator gives the same
    coefficients whatever device the critic runs on.
    """
    if where == "interpolates":
        if real is None or fake is None:
            raise ValueError("where='interpolates' needs both real and fake")
        if real.shape != fake.shape:
            raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ")
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)  # one eps per sample
        dev = real.device if generator is None else generator.device
        t = torch.rand(shape, device=dev, dtype=real.dtype, generator=generator).to(real.device)
        return t * real.detach() + (1 - t) * fake.detach(), cond
    if where == "real":
        if real is None:
            raise ValueError("where='real' needs real")
        return real.detach(), cond
    if where == "fake":
        if fake is None:
            raise ValueError("where='fake' needs fake")
        return fake.detach(), cond
    if where == "both":
        if real is None or fake is None:
            raise ValueError("where='both' needs both real and fake")
        both_cond = None if cond is None else torch.cat([cond, cond], dim=0)
        return torch.cat([real.detach(), fake.detach()], dim=0), both_cond
    raise ValueError(f"where must be one of {', '.join(_WHERE)}; got {where!r}")


def _amp_dtype(device_type: str, scaler: Any, autocast: bool | None) -> torch.dtype | None:
    """The reduced dtype the critic's forward runs in, or None for full precision.

    ``autocast=None`` follows the caller: the autocast state active for ``device_type`` at the
    call, or, outside autocast, an enabled ``scaler`` (a GradScaler means mixed precision). The
    dtype is the one autocast is set to for that device (float16 on CUDA, bfloat16 on CPU unless
    changed).
    """
    if autocast is None:
        autocast = torch.is_autocast_enabled(device_type) or (
            scaler is not None and scaler.is_enabled()
        )
    return torch.get_autocast_dtype(device_type) if autocast else None


@overload
def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor | None,
    fake: torch.Tensor | None = None,
    *,
    where: str = "interpolates",
    target: float = 1.0,
    one_sided: bool = False,
    cond: Any = None,
    weight: float = 10.0,
    scaler: Any = None,
    autocast: bool | None = None,
    eps: float = 1e-12,
    generator: torch.Generator | None = None,
    return_norms: Literal[False] = False,
) -> torch.Tensor: ...


@overload
def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor | None,
    fake: torch.Tensor | None = None,
    *,
    where: str = "interpolates",
    target: float = 1.0,
    one_sided: bool = False,
    cond: Any = None,
    weight: float = 10.0,
    scaler: Any = None,
    autocast: bool | None = None,
    eps: float = 1e-12,
    generator: torch.Generator | None = None,
    return_norms: Literal[True],
) -> tuple[torch.Tensor, torch.Tensor]: ...


def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor | None,
    fake: torch.Tensor | None = None,
    *,
    where: str = "interpolates",
    target: float = 1.0,
    one_sided: bool = False,
    cond: Any = None,
    weight: float = 10.0,
    scaler: Any = None,
    autocast: bool | None = None,
    eps: float = 1e-12,
    generator: torch.Generator | None = None,
    return_norms: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""The critic gradient penalty ``weight * E_{x_hat}[(|grad_x D(x_hat)|_2 - target)^2]``.

    Formula, with ``n_i = sqrt(sum_j (dD/dx_ij)^2 + eps)`` the per-sample norm over every non-batch
    dimension:

    * two-sided (``one_sided=False``): ``weight * mean_i (n_i - target)^2``;
      ``target=1`` is WGAN-GP (Gulrajani et al. 2017), ``target=0`` the zero-centred penalty
      (R1 on real samples, R2 on fake samples; Mescheder et al. 2018 use ``gamma/2`` for ``weight``);
    * one-sided: ``weight * mean_i max(0, n_i - target)^2`` (only norms above ``target`` cost).

    ``where`` chooses ``x_hat``: ``"interpolates"`` ``x_hat = e x_r + (1 - e) x_g`` with one
    ``e ~ U[0, 1]`` per sample (WGAN-GP); ``"real"`` (R1); ``"fake"`` (R2); ``"both"`` (real and fake
    concatenated, one mean over all). Inputs are detached: the penalty trains the critic only.

    Finite-element counterpart: ``(kappa/2) int |grad phi|^2`` in gpfem's phase-field models is the
    zero-centred case (``target=0``) with the integral over the domain in place of the expectation
    over ``x_hat``.

    The graph is kept (``create_graph=True``) so ``penalty.backward()`` reaches the critic's
    parameters (double backward). Per-sample gradients come from ``grad(sum_i D(x_i))``, which is
    exact when samples do not interact inside the critic (no BatchNorm in the critic).

    Mixed precision: the critic's forward on ``x_hat`` runs under autocast when the caller is
    inside autocast, when an enabled ``scaler`` is given (also outside autocast), or when
    ``autocast=True``. The input gradient is then taken *outside* autocast, so each backward op
    runs in the dtype of its forward op (the matrix products of the input gradient and of its
    double backward in float16/bfloat16), and the gradient is cast to float32 before the square,
    the sum and the square root. With a scaler each sample's output is seeded with
    ``scale / n`` (the per-sample seed of a batch-mean loss, the range the scaler keeps free of
    overflow) and the gradient is unscaled in float32; the scale is used as a tensor (no host
    synchronisation).

    Args:
        critic: ``D(x)`` or, with ``cond``, ``D(x, cond)``; returns shape ``(B,)`` or ``(B, 1)``.
        real: Real samples ``(B, ...)``.
        fake: Generated samples, same shape as ``real`` (needed for interpolates/fake/both).
        where: ``"interpolates"``, ``"real"``, ``"fake"`` or ``"both"``.
        target: Centre ``c`` of the penalty: 1 (WGAN-GP) or 0 (zero-centred).
        one_sided: Penalise only norms above ``target``.
        cond: Condition of a conditional critic, passed to ``critic`` unchanged; the gradient is
            taken with respect to the data only (the Lipschitz constraint holds for each condition).
        weight: ``lambda``.
        scaler: A ``torch.amp.GradScaler`` when the critic is trained with mixed precision. The
            returned penalty is the true, unscaled value; back-propagate it through
            ``scaler.scale(loss)`` like the rest of the loss. ``None`` for full precision.
        autocast: Run the critic's forward on ``x_hat`` under autocast (``True``), in full
            precision (``False``), or follow the caller's autocast state and ``scaler``
            (``None``).
        eps: Added inside the square root of the norm (a zero gradient gives a finite penalty and
            finite parameter gradients).
        generator: Random generator for the interpolation coefficients (on any device).
        return_norms: Also return the per-sample norms (detached), shape ``(B,)`` (``(2B,)`` for
            ``"both"``).

    Returns:
        The penalty (a scalar, float32 or wider), or ``(penalty, norms)``.
    """
    x, c = _points(real, fake, cond, where, generator)
    x = x.requires_grad_(True)
    dev = x.device.type
    amp = _amp_dtype(dev, scaler, autocast)
    if amp is not None:
        with torch.autocast(dev, dtype=amp):
            out = _call(critic, x, c)
    else:
        out = _call(critic, x, c)
    with torch.autocast(dev, enabled=False):
        total = out.float().sum()
        seed = None
        if amp is not None and scaler is not None and scaler.is_enabled():
            # per-sample seed scale/n, as a tensor: scaler.scale(1) reads the scale without .item()
            seed = scaler.scale(torch.ones((), device=x.device)) / out.numel()
            total = total * seed
        (g,) = torch.autograd.grad(total, x, create_graph=True)
        g = g.reshape(g.shape[0], -1)
        if g.dtype in (torch.float16, torch.bfloat16):
            g = g.float()
        if seed is not None:
            g = g / seed
        norms = per_sample_norm(g, 2, eps)
        dev_n = norms - target
        if one_sided:
            dev_n = torch.clamp(dev_n, min=0.0)
        penalty = weight * dev_n.pow(2).mean()
    if return_norms:
        return penalty, norms.detach()
    return penalty


def input_gradient_penalty(
    loss: torch.Tensor,
    x: torch.Tensor,
    norm: int = 2,
    *,
    weight: float = 1.0,
    power: int = 1,
    eps: float = 1e-12,
) -> torch.Tensor:
    r"""Double-backpropagation penalty ``weight * mean_i |grad_{x_i} l_i|_q^power``.

    With the first-order bound ``l(x + d) <= l(x) + |grad_x l|_q |d|_p`` (``1/p + 1/q = 1``):
    ``norm=1`` penalises the dual norm for ``L_inf`` attacks (FGSM/PGD with ``|d|_inf <= eps``),
    ``norm=2`` the one for ``L_2`` attacks. Finite-element counterpart: the gradient energy of a
    field, here the loss as a field over input space.

    Args:
        loss: Per-sample losses of shape ``(B,)`` (``reduction="none"``), or their sum (a scalar).
            Do not pass a batch *mean*: each sample's gradient would shrink by ``1/B``.
        x: The inputs ``(B, ...)``, with ``requires_grad=True`` before the forward pass.
        norm: 2 or 1 (the dual ``q`` norm over every non-batch dimension).
        weight: ``lambda``.
        power: 1 (``|g|``) or 2 (``|g|^2``, Drucker and LeCun's double backpropagation).
        eps: Inside the square root for ``norm=2``.

    Returns:
        A scalar with a graph to the model's parameters.
    """
    total = loss.sum() if loss.dim() > 0 else loss
    (g,) = torch.autograd.grad(total, x, create_graph=True)
    n = per_sample_norm(g, norm, eps)
    return weight * n.pow(power).mean()


def parameter_gradient_penalty(
    loss: torch.Tensor,
    params: Iterable[torch.Tensor],
    *,
    weight: float = 1.0,
    eps: float = 1e-12,
) -> torch.Tensor:
    r"""``weight * |grad_theta L|_2``: minimise ``J = L + weight |grad_theta L|`` (smooth clipping).

    Where gradient clipping cuts the step when ``|grad_theta L|`` is large, this penalty makes large
    parameter gradients themselves costly, a continuous restoring force toward flat regions.
    ``grad_theta J = grad L + weight H g / |g|`` (a Hessian-vector product, via double backward).
    Finite-element counterpart: the gradient energy, with parameter space as the domain.

    Args:
        loss: Scalar loss ``L``.
        params: The parameters ``theta`` (those with ``requires_grad``).
        weight: ``lambda``.
        eps: Inside the square root.

    Returns:
        A scalar with a graph (add it to ``loss`` and call ``backward``).
    """
    ps = [p for p in params if p.requires_grad]
    grads = torch.autograd.grad(loss, ps, create_graph=True, allow_unused=True)
    sq = sum((g.pow(2).sum() for g in grads if g is not None), torch.zeros((), device=loss.device))
    return weight * torch.sqrt(sq + eps)


def lazy_adam_hyperparameters(
    lr: float, betas: Sequence[float], interval: int
) -> tuple[float, tuple[float, float]]:
    """Adam settings for a loss whose regulariser runs every ``interval`` steps (StyleGAN2).

    With the main loss every step and the regulariser in a separate step every ``k`` steps, the
    optimiser takes ``k + 1`` steps per ``k`` main steps; ``c = k / (k + 1)`` rescales the learning
    rate (``lr c``) and the moment decays (``beta ** c``) so that the step per unit of training time
    is unchanged.

    Args:
        lr: The learning rate of the eager (every-step) setup.
        betas: Adam's ``(beta1, beta2)``.
        interval: ``k``.

    Returns:
        ``(lr', (beta1', beta2'))``.
    """
    if interval < 1:
        raise ValueError(f"interval must be >= 1, got {interval}")
    c = interval / (interval + 1)
    return lr * c, (betas[0] ** c, betas[1] ** c)


class LazyRegularizer:
    """Apply a penalty every ``interval`` steps with gain ``interval`` (lazy regularisation).

    ``E[1{step % k == 0} * k * R] = R``: over any ``k`` consecutive steps the summed regularisation
    equals that of the eager schedule, at ``1/k`` of its cost. Use :func:`lazy_adam_hyperparameters`
    for the optimiser that takes the separate regularisation steps.

    Args:
        penalty: Callable returning the penalty (e.g. a ``functools.partial`` of
            :func:`gradient_penalty`), called with the arguments given to :meth:`__call__`.
        interval: ``k >= 1``.
    """

    def __init__(self, penalty: Callable[..., torch.Tensor], interval: int):
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.penalty = penalty
        self.interval = int(interval)
        self.step = 0

    def due(self) -> bool:
        """Whether the penalty is applied at the current step."""
        return self.step % self.interval == 0

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor | None:
        """Return ``interval * penalty(...)`` on due steps, ``None`` otherwise; advance the step."""
        try:
            if not self.due():
                return None
            out = self.penalty(*args, **kwargs)
            if isinstance(out, tuple):
                return (out[0] * self.interval,) + tuple(out[1:])
            return out * self.interval
        finally:
            self.step += 1
