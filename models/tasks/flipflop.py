"""The n-bit flip-flop task (Sussillo & Barak, 2013); registered in :mod:`models.tasks`."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from models.errors import InvalidOptionError
from models.tasks.base import _check_int, _SyntheticTask

__all__ = ["FlipFlopTask"]


class FlipFlopTask(_SyntheticTask):
    r"""The n-bit flip-flop: remember the sign of the last pulse on each of ``bits`` channels.

    Every channel receives a pulse of random sign at the first step and then, at each later
    step, a pulse (:math:`\pm 1`, random sign) with probability ``p``, otherwise 0. The target
    of each channel at every step is the sign of its most recent pulse, so a network that
    solves it holds :math:`2^{\text{bits}}` memories, one stable fixed point each (8 for 3 bits).
    Loss and metric are the mean squared error over all steps and channels; the baseline 1 is
    the MSE of always answering 0.

    Parameters
    ----------
    T : int, default 100
        Sequence length, ``T >= 2``.
    bits : int, default 3
        Number of channels.
    p : float, default 0.05
        Pulse probability per step and channel, in ``(0, 1]``.
    test_size : int, default 500
        Number of test sequences.
    seed : int, default 0
        Seed of the test set.

    Examples
    --------
    >>> import torch
    >>> from models import tasks
    >>> task = tasks.get("flipflop", T=20)
    >>> x, y = task.batch(4, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape, bool((y.abs() == 1).all())
    (torch.Size([4, 20, 3]), torch.Size([4, 20, 3]), True)
    """

    name = "flipflop"
    defaults: ClassVar[dict[str, Any]] = {
        "T": 100,
        "bits": 3,
        "p": 0.05,
        "test_size": 500,
        "seed": 0,
    }

    def __init__(
        self, *, T: int = 100, bits: int = 3, p: float = 0.05, test_size: int = 500, seed: int = 0
    ) -> None:
        super().__init__(T=T, min_T=2, test_size=test_size, seed=seed)
        bits = _check_int("bits", self.name, bits, 1)
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 1:
            raise InvalidOptionError(
                f"task {self.name!r}: parameter p must be a probability in (0, 1], got {p!r}"
            )
        self.bits, self.p = bits, float(p)
        self.params = {"T": self.T, "bits": bits, "p": self.p, **self.params}
        self.params = {k: self.params[k] for k in self.defaults}
        self.seq_len = self.T
        self.input_size = bits
        self.output_size = bits
        self.readout = "all"
        self.classification = False
        self.bounds = (-1.0, 1.0)
        self.baseline = 1.0
        self.metric_name = "mse"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw fresh flip-flop sequences.

        Parameters
        ----------
        batch_size : int
            Number of sequences ``B``.
        generator : torch.Generator
            Source of the pulse times and signs.

        Returns
        -------
        x : (B, T, bits) torch.Tensor
            Float32 pulses in ``{-1, 0, 1}``.
        y : (B, T, bits) torch.Tensor
            Float32 targets in ``{-1, 1}``.

        Raises
        ------
        InvalidOptionError
            If ``batch_size`` is not a positive integer.
        """
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        shape = (batch_size, self.T, self.bits)
        pulse = torch.rand(shape, generator=generator) < self.p
        pulse[:, 0] = True
        sign = torch.randint(0, 2, shape, generator=generator).mul_(2).sub_(1)
        x = torch.where(pulse, sign, torch.zeros_like(sign)).to(torch.float32)
        # index of the most recent pulse at or before each step, per channel
        steps = torch.arange(self.T).view(1, -1, 1).expand(shape)
        last = torch.where(pulse, steps, torch.zeros_like(steps)).cummax(dim=1).values
        y = torch.gather(x, 1, last)
        return x, y
