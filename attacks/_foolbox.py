"""Adapter to foolbox 3.3.4: the only module that imports foolbox and eagerpy.

foolbox runs on any tensor shape, so ``(B, T, F)`` sequences go in unchanged;
norms are taken over the flattened ``T * F`` entries of each sequence. The
adapter fixes foolbox's sharp edges:

* the model is attacked inside :func:`attacks._model.attack_mode` (evaluation
  mode, frozen parameters so eagerpy's ``loss.backward()`` never fills
  ``.grad``, parametrization cache, cuDNN off on GPU, forked and seeded RNG);
* step sizes are absolute and explicit (``2.5 * eps / steps`` by default), since
  foolbox's defaults are too weak for recurrent models;
* inputs are validated before foolbox sees them (foolbox only has bare asserts);
* fixed-size attacks decide success on **every** iterate, not only on the last one: the model
  foolbox sees records each queried input that is misclassified, inside the ball and the box;
* foolbox 3.3.4's ``L2FMNAttack`` never constrains the norm (its projection computes
  ``min(1, norms / norms)``, which is always 1, so it returns the first step clipped to the
  box); ``"fmn"`` with ``norm="l2"`` runs a subclass with the correct projection
  ``x0 + delta * min(1, eps / ||delta||)``;
* foolbox's DeepFool runs the model once per candidate class and step; ``"deepfool"`` runs a
  subclass that backpropagates every candidate through one forward pass (same values).

The import of foolbox triggers a ``DeprecationWarning`` about the
``scipy.ndimage.filters`` namespace (foolbox's blur attack); that one warning
is filtered here, narrowly, at import time.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence

import torch

from attacks._apgd import Best
from attacks._model import attack_mode, model_device_dtype, reseed

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message=r"Please (import|use) `\w+` from the `scipy\.ndimage` namespace",
        category=DeprecationWarning,
    )
    import eagerpy
    import foolbox
    import foolbox.attacks as fa
    from foolbox.attacks.base import get_criterion, raise_if_kwargs, verify_input_bounds
    from foolbox.devutils import atleast_kd, flatten

__all__ = ["Session", "session", "versions"]


def versions() -> dict[str, str]:
    """Versions of foolbox and eagerpy.

    Returns
    -------
    dict of str to str
        ``{"foolbox": ..., "eagerpy": ...}``.

    Examples
    --------
    >>> sorted(versions())
    ['eagerpy', 'foolbox']
    """
    return {"foolbox": str(foolbox.__version__), "eagerpy": str(eagerpy.__version__)}


class _L2FMN(fa.L2FMNAttack):
    """foolbox's L2 FMN with the projection onto the L2 ball of radius ``epsilon`` fixed."""

    def project(self, x: eagerpy.Tensor, x0: eagerpy.Tensor, epsilon: eagerpy.Tensor):
        delta = x - x0
        norms = eagerpy.maximum(flatten(delta).norms.l2(axis=-1), 1e-12)
        factor = atleast_kd(eagerpy.minimum(1, epsilon / norms), x.ndim)
        return x0 + delta * factor


class _OneForward:
    """DeepFool mixin: every candidate's gradient from one forward pass per step.

    foolbox 3.3.4 runs the model once per candidate class and step (eagerpy cannot repeat only
    the backward pass). This ``run`` is foolbox's, except that the logits are computed once per
    step and each candidate's loss is backpropagated through that graph: the same losses and
    gradients, with one forward pass per step instead of ``candidates - 1``.
    """

    def run(self, model, inputs, criterion, *, early_stop=None, **kwargs):
        if self.loss != "logits":  # pragma: no cover - the adapter uses the logits loss
            return super().run(model, inputs, criterion, early_stop=early_stop, **kwargs)
        raise_if_kwargs(kwargs)
        x, restore_type = eagerpy.astensor_(inputs)
        del inputs, kwargs
        verify_input_bounds(x, model)
        criterion = get_criterion(criterion)
        min_, max_ = model.bounds
        logits = model(x)
        classes = logits.argsort(axis=-1).flip(axis=-1)
        candidates = min(self.candidates or logits.shape[-1], logits.shape[-1])
        classes = classes[:, :candidates].raw
        rows = range(len(x))
        x0 = x
        p_total = eagerpy.zeros_like(x)
        for _ in range(self.steps):
            leaf = x.raw.clone().requires_grad_()
            out = model(eagerpy.astensor(leaf)).raw
            top = out[rows, classes[:, 0]]

            def diff(k: int, out=out, top=top, leaf=leaf):
                loss = out[rows, classes[:, k]] - top
                (grad,) = torch.autograd.grad(loss.sum(), leaf, retain_graph=True)
                return eagerpy.astensor(loss.detach()), eagerpy.astensor(grad)

            diffs = [diff(1)]
            is_adv = criterion(x, eagerpy.astensor(out.detach()))
            if is_adv.all():
                break
            diffs += [diff(k) for k in range(2, candidates)]
            losses = eagerpy.stack([lo for lo, _ in diffs], axis=1)
            grads = eagerpy.stack([g for _, g in diffs], axis=1)
            distances = self.get_distances(losses, grads)
            best = distances.argmin(axis=1)
            distances = distances[rows, best] + 1e-4  # for numerical stability (as foolbox)
            grads = grads[rows, best]
            p_total += self.get_perturbations(distances, grads)
            # already adversarial samples keep their input
            x = eagerpy.where(atleast_kd(is_adv, x.ndim), x, x0 + (1.0 + self.overshoot) * p_total)
            x = eagerpy.clip(x, min_, max_)
        return restore_type(x)


class _LinfDeepFool(_OneForward, fa.LinfDeepFoolAttack):
    """foolbox's Linf DeepFool with one forward pass per step (:class:`_OneForward`)."""


class _L2DeepFool(_OneForward, fa.L2DeepFoolAttack):
    """foolbox's L2 DeepFool with one forward pass per step (:class:`_OneForward`)."""


class _Watch(torch.nn.Module):
    """Pass-through model that keeps the smallest misclassified query inside the ball."""

    def __init__(self, inner: torch.nn.Module, bounds: tuple[float, float]) -> None:
        super().__init__()
        self.inner = inner
        self.bounds = bounds
        self.best: Best | None = None
        self.y: torch.Tensor | None = None
        self.eps = 0.0
        self.training = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x)
        best = self.best
        if best is not None and self.y is not None and x.shape == best.x.shape:
            with torch.no_grad():
                # only the misclassified queries are checked (most queries are not)
                rows = (out.detach().argmax(dim=1) != self.y).nonzero()[:, 0]
                if rows.numel():
                    lo, hi = self.bounds
                    slack = 1e-6 * (hi - lo)
                    cand = x.detach()[rows]
                    flat = cand.flatten(1)
                    inside = ((flat >= lo - slack) & (flat <= hi + slack)).all(dim=1)
                    size = best.sizes(cand, rows)
                    small = size <= self.eps * (1 + 1e-5) + 1e-7
                    best.offer(cand, inside & small, rows, size=size)
        return out


def _step(eps: float, steps: int, step_size: float | None) -> float:
    return 2.5 * eps / steps if step_size is None else float(step_size)


def _bounded_attack(
    name: str,
    norm: str,
    *,
    eps: float,
    steps: int,
    step_size: float | None,
    random_start: bool,
) -> fa.base.FixedEpsilonAttack:
    linf = norm == "linf"
    if name == "fgsm":
        return fa.FGSM() if linf else fa.FGM()
    stepsize = _step(eps, steps, step_size)
    if name == "pgd":
        cls = fa.LinfPGD if linf else fa.L2PGD
        return cls(abs_stepsize=stepsize, steps=steps, random_start=random_start)
    if name == "bim":
        cls = fa.LinfBasicIterativeAttack if linf else fa.L2BasicIterativeAttack
        return cls(abs_stepsize=stepsize, steps=steps, random_start=False)
    raise KeyError(name)


def _minimal_attack(
    name: str, norm: str, *, steps: int, binary_search_steps: int
) -> fa.base.MinimizationAttack:
    linf = norm == "linf"
    if name == "deepfool":
        cls = _LinfDeepFool if linf else _L2DeepFool
        return cls(steps=steps, candidates=10, overshoot=0.02, loss="logits")
    if name == "fmn":
        cls = fa.LInfFMNAttack if linf else _L2FMN
        return cls(steps=steps)
    if name == "cw":
        return fa.L2CarliniWagnerAttack(
            binary_search_steps=binary_search_steps,
            steps=steps,
            stepsize=1e-2,
            confidence=0.0,
            initial_const=1e-3,
            abort_early=True,
        )
    raise KeyError(name)


class Session:
    """A model prepared for foolbox attacks; create it with :func:`session`.

    Parameters
    ----------
    wrapped : torch.nn.Module
        Model returning ``(B, C)`` logits, already in attack mode.
    device : torch.device
        Device of the model.
    bounds : tuple of float
        Input bounds ``(lo, hi)``.
    """

    def __init__(
        self, wrapped: torch.nn.Module, device: torch.device, bounds: tuple[float, float]
    ) -> None:
        self.wrapped = wrapped
        self.device = device
        self.bounds = bounds
        self._watch = _Watch(wrapped, bounds)
        self._fmodel = foolbox.PyTorchModel(self._watch, bounds=bounds, device=device)

    def bounded(
        self,
        name: str,
        norm: str,
        x: torch.Tensor,
        y: torch.Tensor,
        epsilons: Sequence[float],
        *,
        steps: int,
        step_size: float | None,
        random_start: bool,
        seed: int,
    ) -> torch.Tensor:
        """Run one fixed-size attack at every epsilon.

        Parameters
        ----------
        name : {"fgsm", "pgd", "bim"}
            Attack name.
        norm : {"linf", "l2"}
            Threat model.
        x : (B, T, F) torch.Tensor
            Inputs within the bounds.
        y : (B,) torch.Tensor
            ``int64`` labels.
        epsilons : sequence of float
            Perturbation sizes.
        steps : int
            Iterations (ignored by ``fgsm``).
        step_size : float or None
            Absolute step; ``None`` uses ``2.5 * eps / steps``.
        random_start : bool
            Start PGD at a uniform point of the ball.
        seed : int
            Seed of the random start; the generator is re-seeded once per call.

        Returns
        -------
        (K, B) torch.Tensor of bool
            ``True`` where the clipped adversarial input, or any input the attack queried
            inside the ball and the box, is misclassified (this includes inputs
            misclassified already).

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 2))
        >>> x, y = torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.int64)
        >>> with session(net, bounds=(0.0, 1.0), seed=0) as s:
        ...     s.bounded("fgsm", "linf", x, y, [0.0], steps=1, step_size=None,
        ...               random_start=False, seed=0).shape
        torch.Size([1, 4])
        """
        reseed(self.device, seed)
        rows = []
        for eps in epsilons:
            attack = _bounded_attack(
                name, norm, eps=eps, steps=steps, step_size=step_size, random_start=random_start
            )
            self._watch.best, self._watch.y, self._watch.eps = Best(x, norm), y, float(eps)
            try:
                _, _, success = attack(self._fmodel, x, y, epsilons=float(eps))
                rows.append(success.to(torch.bool) | self._watch.best.found)
            finally:
                self._watch.best = self._watch.y = None
        return torch.stack(rows).to(torch.bool)

    def clipped(
        self,
        name: str,
        norm: str,
        x: torch.Tensor,
        y: torch.Tensor,
        epsilons: Sequence[float],
        *,
        steps: int,
        binary_search_steps: int,
        seed: int,
    ) -> torch.Tensor:
        """Run one minimisation attack once and clip it to every epsilon.

        Parameters
        ----------
        name : {"deepfool", "fmn", "cw"}
            Attack name (``"cw"`` needs ``norm="l2"``).
        norm : {"linf", "l2"}
            Threat model.
        x : (B, T, F) torch.Tensor
            Inputs within the bounds.
        y : (B,) torch.Tensor
            ``int64`` labels.
        epsilons : sequence of float
            Perturbation sizes.
        steps : int
            Iterations (per binary-search step for ``"cw"``).
        binary_search_steps : int
            Binary-search steps over the C&W constant.
        seed : int
            Seed; the generator is re-seeded once per call.

        Returns
        -------
        (K, B) torch.Tensor of bool
            ``True`` where the adversarial clipped to the size is misclassified.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 2))
        >>> x, y = torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.int64)
        >>> with session(net, bounds=(0.0, 1.0), seed=0) as s:
        ...     s.clipped("deepfool", "l2", x, y, [0.0, 1.0], steps=20,
        ...               binary_search_steps=1, seed=0).shape
        torch.Size([2, 4])
        """
        reseed(self.device, seed)
        attack = _minimal_attack(name, norm, steps=steps, binary_search_steps=binary_search_steps)
        _, clipped, success = attack(self._fmodel, x, y, epsilons=[float(e) for e in epsilons])
        inside = torch.stack([self._in_bounds(xpc) for xpc in clipped])
        return success.to(torch.bool) & inside

    def minimal(
        self,
        name: str,
        norm: str,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        steps: int,
        binary_search_steps: int,
        seed: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run one minimisation attack without a size limit.

        Parameters
        ----------
        name : {"deepfool", "fmn", "cw"}
            Attack name (``"cw"`` needs ``norm="l2"``).
        norm : {"linf", "l2"}
            Norm to minimise.
        x : (B, T, F) torch.Tensor
            Inputs within the bounds.
        y : (B,) torch.Tensor
            ``int64`` labels.
        steps : int
            Iterations (per binary-search step for ``"cw"``).
        binary_search_steps : int
            Binary-search steps over the C&W constant.
        seed : int
            Seed; the generator is re-seeded once per call.

        Returns
        -------
        adversarial : (B, T, F) torch.Tensor
            The attack's candidates.
        success : (B,) torch.Tensor of bool
            Whether each candidate is misclassified.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 2))
        >>> x, y = torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.int64)
        >>> with session(net, bounds=(0.0, 1.0), seed=0) as s:
        ...     adv, ok = s.minimal("deepfool", "l2", x, y, steps=20,
        ...                         binary_search_steps=1, seed=0)
        >>> adv.shape
        torch.Size([4, 3, 2])
        """
        reseed(self.device, seed)
        attack = _minimal_attack(name, norm, steps=steps, binary_search_steps=binary_search_steps)
        adversarial, _, success = attack(self._fmodel, x, y, epsilons=None)
        return adversarial.detach(), success.to(torch.bool) & self._in_bounds(adversarial)

    def _in_bounds(self, xp: torch.Tensor) -> torch.Tensor:
        # foolbox's C&W returns zeros for samples it failed on; where 0 lies outside the
        # bounds such a "success" is not an admissible input and must not count.
        lo, hi = self.bounds
        slack = 1e-6 * (hi - lo)
        flat = xp.detach().flatten(1)
        return ((flat >= lo - slack) & (flat <= hi + slack)).all(dim=1)


@contextlib.contextmanager
def session(model: torch.nn.Module, *, bounds: tuple[float, float], seed: int) -> Iterator[Session]:
    """Put ``model`` in attack mode and wrap it for foolbox.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to ``(B, C)`` or ``(B, T, C)`` logits.
    bounds : tuple of float
        Input bounds ``(lo, hi)``.
    seed : int
        Seed of the forked global RNG inside the session.

    Yields
    ------
    Session
        Runs attacks; ``session.wrapped`` returns the last-step logits.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 2))
    >>> with session(net, bounds=(0.0, 1.0), seed=0) as s:
    ...     s.wrapped(torch.zeros(1, 3, 2)).shape
    torch.Size([1, 2])
    """
    device, _ = model_device_dtype(model)
    with attack_mode(model, seed=seed) as wrapped:
        yield Session(wrapped, device, bounds)
