r"""Hidden chains in activity (Orhan & Pitkow, Fig. 5): mean weight against order difference.

A unit pulse enters at :math:`t = 0`, the network then runs autonomously; units are ordered by
the time of their peak activity (random jitter breaks ties) and the mean recurrent weight is
taken over pairs at each order difference :math:`i - j`. The ordering alone produces a bump in
random networks, so the profile is always set against a matched control: the same network with
its recurrent weights shuffled, over several seeds, whose range is the band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from models.dynamics._common import as_float64, check_model
from models.errors import UnsupportedModelError

__all__ = ["ChainProfile", "chain_profile"]


@dataclass(frozen=True)
class ChainProfile:
    r"""Result of :func:`chain_profile`.

    Attributes
    ----------
    offsets : (2M + 1,) ndarray of int
        Order differences :math:`i - j` from ``-M`` to ``M``.
    profile : (2M + 1,) ndarray
        Mean :math:`W_{ij}` of the network at each offset.
    control_mean, control_low, control_high : (2M + 1,) ndarray
        Mean of the shuffled-weights controls and the band: mean :math:`\pm z` standard
        deviations, widened to the controls' range.
    outside : (2M + 1,) ndarray of bool
        Offsets where the profile leaves the band.
    silent_units : int
        Units whose activity never exceeded ``1e-12`` (their order is the jitter alone).
    seeds : list of int
        Seeds of the controls.
    """

    offsets: NDArray[np.int64]
    profile: NDArray[np.float64]
    control_mean: NDArray[np.float64]
    control_low: NDArray[np.float64]
    control_high: NDArray[np.float64]
    outside: NDArray[np.bool_]
    silent_units: int
    seeds: list[int]

    @property
    def chain_like(self) -> bool:
        """Whether the profile leaves the control band above it at some positive offset."""
        pos = self.offsets > 0
        return bool((self.profile[pos] > self.control_high[pos]).any())

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every attribute plus ``chain_like``.

        Returns
        -------
        dict
            ``offsets``, ``profile``, ``control`` (``mean``, ``low``, ``high``), ``outside``,
            ``silent_units``, ``seeds`` and ``chain_like``.
        """
        return {
            "offsets": self.offsets.tolist(),
            "profile": self.profile.tolist(),
            "control": {
                "mean": self.control_mean.tolist(),
                "low": self.control_low.tolist(),
                "high": self.control_high.tolist(),
                "seeds": list(self.seeds),
                "method": "recurrent weights shuffled",
            },
            "outside": self.outside.tolist(),
            "chain_like": self.chain_like,
            "silent_units": self.silent_units,
        }


def _activity(model: Any, steps: int) -> torch.Tensor:
    """``|h_t|`` ``(steps, H)`` after a unit pulse in every input feature at ``t = 0``."""
    H = model.hidden_size
    s = model.initial_state(1)
    pulse = torch.ones(1, model.input_size, dtype=s.dtype)
    rest = torch.zeros_like(pulse)
    out = []
    with torch.no_grad():
        for t in range(steps):
            s = model.step(s, pulse if t == 0 else rest)
            out.append(s[0, :H].abs())
    return torch.stack(out)


def _profile(
    W: NDArray[np.float64], activity: NDArray[np.float64], max_offset: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], int]:
    H = W.shape[0]
    peak = activity.argmax(axis=0).astype(float)
    silent = activity.max(axis=0) <= 1e-12
    key = peak + rng.uniform(0.0, 0.5, H)
    key[silent] = rng.uniform(0.0, activity.shape[0], int(silent.sum()))
    rank = np.empty(H, dtype=int)
    rank[np.argsort(key, kind="stable")] = np.arange(H)
    diff = rank[:, None] - rank[None, :]  # order of i minus order of j, for W[i, j]
    out = np.empty(2 * max_offset + 1)
    for n, d in enumerate(range(-max_offset, max_offset + 1)):
        out[n] = W[diff == d].mean()
    return out, int(silent.sum())


def chain_profile(
    model: Any,
    *,
    steps: int = 100,
    seeds: Sequence[int] = tuple(range(20)),
    max_offset: int = 10,
    z: float = 3.0,
    seed: int = 0,
) -> ChainProfile:
    r"""Mean recurrent weight against the order difference of peak activity, with its control.

    Parameters
    ----------
    model : RecurrentModel
        A model from :func:`models.build` (uses its principal recurrent matrix: ``W``; the
        ``g`` block of an lstm, ``n`` of a gru).
    steps : int, optional
        Length of the autonomous run after the pulse.
    seeds : sequence of int, optional
        One shuffled-weights control per seed (at least two).
    max_offset : int, optional
        Largest :math:`|i - j|` reported (clipped to ``H - 1``).
    z : float, optional
        Half-width of the band in control standard deviations (3 keeps a random network
        inside it at every one of about 20 offsets with high probability); the band always
        contains the range of the controls.
    seed : int, optional
        Seed of the tie-breaking jitter of the network itself.

    Returns
    -------
    ChainProfile
        The profile, the control band and the offsets where the profile leaves it.

    Raises
    ------
    UnsupportedModelError
        If the model has no single recurrent matrix to shuffle.
    ValueError
        If ``steps``, ``seeds`` or ``max_offset`` is out of range.

    Examples
    --------
    >>> import models
    >>> model = models.build("rnn", input_size=1, hidden_size=12, output_size=1, init="chain")
    >>> cp = chain_profile(model, seeds=range(4))
    >>> cp.chain_like, float(cp.profile[cp.offsets == 1][0])
    (True, 1.0)
    """
    check_model(model)
    if not hasattr(model, "override_recurrent"):
        raise UnsupportedModelError(
            f"chain_profile needs a model with one recurrent matrix, got {type(model).__name__}"
        )
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    seeds = [int(s) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(f"expected at least two control seeds, got {len(seeds)}")
    if not isinstance(z, int | float) or not z > 0:
        raise ValueError(f"z must be a positive number, got {z!r}")
    if isinstance(max_offset, bool) or not isinstance(max_offset, int) or max_offset < 1:
        raise ValueError(f"max_offset must be a positive integer, got {max_offset!r}")
    model = as_float64(model)
    H = model.hidden_size
    M = min(max_offset, H - 1)
    if M < 1:
        raise ValueError("chain_profile needs at least two hidden units")
    W = model.recurrent_matrix().double()
    profile, silent = _profile(
        W.numpy(), _activity(model, steps).numpy(), M, np.random.default_rng(seed)
    )
    controls = []
    for s in seeds:
        rng = np.random.default_rng([s, 7919])
        shuffled = W.flatten()[torch.from_numpy(rng.permutation(H * H))].reshape(H, H)
        with model.override_recurrent(shuffled):
            act = _activity(model, steps).numpy()
        controls.append(_profile(shuffled.numpy(), act, M, rng)[0])
    c = np.asarray(controls)
    mean, sd = c.mean(axis=0), c.std(axis=0, ddof=1)
    lo = np.minimum(c.min(axis=0), mean - z * sd)
    hi = np.maximum(c.max(axis=0), mean + z * sd)
    return ChainProfile(
        offsets=np.arange(-M, M + 1),
        profile=profile,
        control_mean=mean,
        control_low=lo,
        control_high=hi,
        outside=(profile < lo) | (profile > hi),
        silent_units=silent,
        seeds=seeds,
    )
