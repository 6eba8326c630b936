"""The copy and adding problems: long-memory tasks generated in code."""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from models.tasks.base import _check_int, _SyntheticTask

logger = logging.getLogger(__name__)


class CopyTask(_SyntheticTask):
    r"""Copy-memory task in the scoRNN / nnRNN form.

    Input tokens: 10 symbols drawn uniformly from ``{1, ..., 8}``, ``T - 1`` blanks (0), the cue
    9 and 10 blanks; the target is blank for ``T + 10`` steps followed by the 10 symbols.
    Sequences have ``T + 20`` steps, inputs are one-hot over 10 tokens and the model predicts one
    of 9 classes (blank or a symbol) at every step. The loss is the cross-entropy averaged over
    all ``T + 20`` steps; the metric is the accuracy on the 10 recall steps. The baseline
    :math:`10 \ln 8 / (T + 20)` is the loss of predicting a blank with certainty at the first
    ``T + 10`` steps and a uniform guess over the 8 symbols at the recall steps.

    Parameters
    ----------
    T : int, default 100
        Delay between the end of the sequence and the cue, ``T >= 1``.
    test_size : int, default 1000
        Number of test sequences.
    seed : int, default 0
        Seed of the test set.

    Examples
    --------
    >>> import torch
    >>> task = CopyTask(T=5)
    >>> x, y = task.batch(2, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape
    (torch.Size([2, 25, 10]), torch.Size([2, 25]))
    """

    name = "copy"
    defaults: ClassVar[dict[str, Any]] = {"T": 100, "test_size": 1000, "seed": 0}

    #: Number of symbols to remember, size of the symbol alphabet.
    n_symbols: ClassVar[int] = 10
    n_alphabet: ClassVar[int] = 8

    def __init__(self, *, T: int = 100, test_size: int = 1000, seed: int = 0) -> None:
        super().__init__(T=T, min_T=1, test_size=test_size, seed=seed)
        self.seq_len = self.T + 2 * self.n_symbols
        self.input_size = self.n_symbols
        self.output_size = self.n_alphabet + 1
        self.readout = "all"
        self.classification = True
        self.bounds = (0.0, 1.0)
        self.baseline = self.n_symbols * math.log(self.n_alphabet) / self.seq_len
        self.metric_name = "recall_accuracy"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw fresh copy sequences.

        Parameters
        ----------
        batch_size : int
            Number of sequences ``B``.
        generator : torch.Generator
            Source of the random symbols.

        Returns
        -------
        x : (B, T + 20, 10) torch.Tensor
            Float32 one-hot input tokens.
        y : (B, T + 20) torch.Tensor
            Int64 target classes (0 blank, 1-8 symbols).

        Raises
        ------
        InvalidOptionError
            If ``batch_size`` is not a positive integer.
        """
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        k, T = self.n_symbols, self.T
        seq = torch.randint(1, self.n_alphabet + 1, (batch_size, k), generator=generator)
        tokens = torch.zeros(batch_size, self.seq_len, dtype=torch.long)
        tokens[:, :k] = seq
        tokens[:, T + k - 1] = self.n_alphabet + 1
        y = torch.zeros(batch_size, self.seq_len, dtype=torch.long)
        y[:, T + k :] = seq
        x = F.one_hot(tokens, self.input_size).to(torch.float32)
        return x, y

    def metric(self, output: torch.Tensor, y: torch.Tensor) -> float:
        """Accuracy on the 10 recall steps.

        Parameters
        ----------
        output : (B, T + 20, 9) torch.Tensor
            Per-step logits.
        y : (B, T + 20) torch.Tensor
            Per-step target classes.

        Returns
        -------
        float
            Fraction of recalled symbols predicted correctly, in ``[0, 1]``.

        Raises
        ------
        InputShapeError
            If ``output`` and ``y`` do not have matching shapes (a :class:`ValueError`).
        """
        self._check_output(output, y)
        k = self.n_symbols
        with torch.no_grad():
            return float((output[:, -k:].argmax(-1) == y[:, -k:]).double().mean())


class AddingTask(_SyntheticTask):
    r"""Adding problem.

    Two input channels per step, in this order: a value drawn from :math:`U[0, 1]` and a marker.
    Exactly two markers are 1: one at a position drawn uniformly from
    ``[0, (T - 1) // 2)``, the other from ``[(T - 1) // 2, T)``. The target is the sum of the two
    marked values, read out at the last step; loss and metric are the mean squared error. The
    baseline is the MSE of always predicting 1 (the mean of the sum), which is the variance of
    the sum of two independent uniform values, :math:`1/6 \approx 0.167`.

    Parameters
    ----------
    T : int, default 100
        Sequence length, ``T >= 3``.
    test_size : int, default 1000
        Number of test sequences.
    seed : int, default 0
        Seed of the test set.

    Examples
    --------
    >>> import torch
    >>> task = AddingTask(T=10)
    >>> x, y = task.batch(4, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape, int(x[..., 1].sum())
    (torch.Size([4, 10, 2]), torch.Size([4, 1]), 8)
    """

    name = "adding"
    defaults: ClassVar[dict[str, Any]] = {"T": 100, "test_size": 1000, "seed": 0}

    def __init__(self, *, T: int = 100, test_size: int = 1000, seed: int = 0) -> None:
        super().__init__(T=T, min_T=3, test_size=test_size, seed=seed)
        self.seq_len = self.T
        self.input_size = 2
        self.output_size = 1
        self.readout = "last"
        self.classification = False
        self.bounds = (0.0, 1.0)
        self.baseline = 1.0 / 6.0
        self.metric_name = "mse"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw fresh adding sequences.

        Parameters
        ----------
        batch_size : int
            Number of sequences ``B``.
        generator : torch.Generator
            Source of the values and marker positions.

        Returns
        -------
        x : (B, T, 2) torch.Tensor
            Float32 inputs: channel 0 the values, channel 1 the markers.
        y : (B, 1) torch.Tensor
            Float32 sums of the two marked values.

        Raises
        ------
        InvalidOptionError
            If ``batch_size`` is not a positive integer.
        """
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        T, half = self.T, (self.T - 1) // 2
        values = torch.rand(batch_size, T, generator=generator)
        first = torch.randint(0, half, (batch_size,), generator=generator)
        second = torch.randint(half, T, (batch_size,), generator=generator)
        rows = torch.arange(batch_size)
        markers = torch.zeros(batch_size, T)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        y = (values[rows, first] + values[rows, second]).unsqueeze(-1)
        return torch.stack([values, markers], dim=-1), y
