"""Trained networks: rnn, gru and lstm solve the 3-bit flip-flop with 8 stable fixed points."""

from __future__ import annotations

import pytest
import torch

import models
from models import dynamics, tasks


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "hidden", "steps"), [("rnn", 32, 1500), ("gru", 32, 1000), ("lstm", 32, 1500)]
)
def test_flipflop_networks_have_eight_stable_fixed_points(kind, hidden, steps):
    torch.set_num_threads(1)
    task = tasks.get("flipflop", T=50, p=0.1, test_size=200)
    model = models.build(
        kind, input_size=3, hidden_size=hidden, output_size=3, readout="all", seed=0
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x, y = task.batch(64, generator=generator)
        loss = task.loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    x_test, y_test = task.test_set()
    with torch.no_grad():
        assert task.metric(model(x_test), y_test) < 0.01  # it solves the task
    fps = dynamics.fixed_points(model, 0.0, starts=256, inputs=x_test[:64], kreiss=False)
    assert fps.count("stable") == 8
    # one stable point per memory: the readout of each is a distinct sign pattern
    H = model.hidden_size
    states = torch.from_numpy(fps.states[[s == "stable" for s in fps.stability]][:, :H])
    with torch.no_grad():
        signs = torch.sign(model.readout(states.float()))
    assert len({tuple(row.tolist()) for row in signs}) == 8
