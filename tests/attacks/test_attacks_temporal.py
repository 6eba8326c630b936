"""Attacks confined to windows of time steps, and the transfer matrix."""

from __future__ import annotations

import json

import pytest
import torch

import attacks
from attacks._apgd import apgd
from attacks._model import attack_mode


def test_masked_apgd_changes_only_the_window(data, loop_rnn):
    x, y = data
    mask = torch.zeros(1, x.shape[1], 1)
    mask[:, 6:] = 1
    with attack_mode(loop_rnn) as wrapped:
        best = apgd(wrapped, x, y, torch.full((x.shape[0],), 0.2), norm="linf", loss="ce",
                    steps=20, restarts=1, seed=0, bounds=(0.0, 1.0), mask=mask)  # fmt: skip
    assert best.found.any()
    delta = (best.adversarial - x)[best.found]
    assert torch.equal(delta[:, :6], torch.zeros_like(delta[:, :6]))
    assert (delta.abs() <= 0.2 + 1e-6).all()


def test_time_windows_cover_the_sequence_and_are_weaker_than_the_whole(data, loop_rnn):
    x, y = data
    result = attacks.time_windows(loop_rnn, x, y, eps=0.1, windows=3, strength="quick")
    assert result.windows == ((0, 3), (3, 7), (7, 10))
    whole = attacks.adversarial(loop_rnn, x, y, epsilons=[0.1], attacks=("apgd-ce", "apgd-dlr"),
                                strength="quick")  # fmt: skip
    assert min(result.robust_accuracy) >= whole.robust_accuracy[0]
    assert all(lo <= a <= hi for a, (lo, hi) in zip(result.robust_accuracy, result.intervals,
                                                     strict=True))  # fmt: skip
    json.dumps(result.to_dict(), allow_nan=False)
    with pytest.raises(attacks.AttackInputError, match="at most T=10"):
        attacks.time_windows(loop_rnn, x, y, eps=0.1, windows=11)


def test_transfer_matrix_diagonal_is_the_white_box_robust_accuracy(data, loop_rnn, gru):
    x, y = data
    matrix = attacks.transfer({"rnn": loop_rnn, "gru": gru}, x, y, eps=0.1, strength="quick")
    assert matrix.names == ("rnn", "gru") and len(matrix.accuracy) == 2
    own = attacks.adversarial(gru, x, y, epsilons=[0.1], attacks=("apgd-ce",), strength="quick")
    assert matrix.accuracy[1][1] <= own.per_attack["apgd-ce"][0] + 1e-12
    # crafted on another model, an adversarial is at most as harmful as a white-box one
    assert matrix.accuracy[0][1] >= matrix.accuracy[1][1]
    assert json.loads(json.dumps(matrix.to_dict()))["names"] == ["rnn", "gru"]
