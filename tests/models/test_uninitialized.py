"""models._uninitialized: layers allocated without torch's initialisation or its meta references."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

import models
from models._uninitialized import uninitialized


@pytest.mark.parametrize(
    ("factory", "args", "kwargs"),
    [
        (nn.Linear, (5, 3), {}),
        (nn.Linear, (5, 3), {"bias": False}),
        (nn.LSTM, (4, 6), {"batch_first": True}),
        (nn.GRU, (4, 6), {"batch_first": True}),
        (nn.RNN, (4, 6), {"nonlinearity": "relu", "num_layers": 2}),
        (nn.Linear, (5, 3), {"dtype": torch.float64}),
    ],
)
def test_parameters_match_an_initialised_build(factory, args, kwargs):
    reference = factory(*args, **kwargs)
    module = uninitialized(factory, *args, **kwargs)
    got = dict(module.named_parameters())
    want = dict(reference.named_parameters())
    assert list(got) == list(want)  # the order of an optimizer's parameters
    assert list(module.state_dict()) == list(reference.state_dict())
    for name, parameter in got.items():
        assert isinstance(parameter, nn.Parameter)
        assert parameter.device.type == "cpu"
        assert (parameter.shape, parameter.dtype) == (want[name].shape, want[name].dtype)
        assert parameter.requires_grad


@pytest.mark.parametrize("factory", [nn.LSTM, nn.GRU])
def test_a_recurrent_layer_runs_on_its_new_parameters(factory):
    layer = uninitialized(factory, 3, 4, batch_first=True)
    reference = factory(3, 4, batch_first=True)
    with torch.no_grad():
        for name, parameter in layer.named_parameters():
            parameter.copy_(getattr(reference, name))
    assert all(a is b for a, b in zip(layer._flat_weights, layer.parameters(), strict=True))
    x = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(layer(x)[0], reference(x)[0])


def test_a_module_with_buffers_is_refused():
    with pytest.raises(TypeError, match="BatchNorm1d has buffers"):
        uninitialized(nn.BatchNorm1d, 4)


def test_torch_global_random_stream_is_untouched():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    uninitialized(nn.Linear, 7, 2)
    assert torch.equal(torch.rand(3), expected)


def test_building_every_kind_imports_no_sympy():
    """The meta-device references of ``skip_init``/``to_empty`` import sympy (0.3 s or more)."""
    code = (
        "import sys, models\n"
        "for kind in models.KINDS:\n"
        "    models.build(kind, input_size=3, hidden_size=4, output_size=2)\n"
        "print('sympy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False", done.stderr
    assert len(models.KINDS) >= 7
