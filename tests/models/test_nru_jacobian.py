"""The NRU's analytic step Jacobian against torch.func.jacrev, at its kinks and away from them.

The NRU step has three non-smooth pieces: relu on the hidden pre-activation, relu on the heads'
strengths and directions (``use_relu``), and the floor of the directions' L5 norm at ``eps``.
At a kink the analytic Jacobian takes autograd's one-sided derivative (relu slope 0 at 0; the
clamp passes the norm's derivative at equality), so it must equal jacrev's exactly there too.
The kinks are hit exactly by a network whose weights, states and inputs are dyadic (multiples of
1/64): every product and sum is then exact, and a bias can cancel a pre-activation to 0.
"""

from __future__ import annotations

import math

import pytest
import torch

import models
from models.nru import _EPS, _factored_jacobians, _memory_sensitivity

F_IN, H, B = 3, 6, 4


pytestmark = pytest.mark.usefixtures("one_thread")


def _model(memory_size: int, heads: int, use_relu: bool, *, dyadic: bool = False):
    model = models.build(
        "nru",
        input_size=F_IN,
        hidden_size=H,
        output_size=2,
        seed=3,
        memory_size=memory_size,
        heads=heads,
        use_relu=use_relu,
    ).double()
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.4 * torch.randn(p.shape, generator=g, dtype=torch.float64))
            if dyadic:
                p.copy_(torch.round(64 * p) / 64)
    return model


def _point(model, *, dyadic: bool = False, seed: int = 2):
    g = torch.Generator().manual_seed(seed)
    state = 0.8 * torch.randn(B, model.state_size, generator=g, dtype=torch.float64)
    x = torch.randn(B, F_IN, generator=g, dtype=torch.float64)
    if dyadic:
        state, x = torch.round(64 * state) / 64, torch.round(64 * x) / 64
    return state, x


def _jacrev(model, state, x):
    """Reference: torch.func.jacrev of the public step, one sample at a time."""
    pairs = [
        torch.func.jacrev(lambda s, u: model.step(s[None], u[None])[0], argnums=(0, 1))(
            state[b], x[b]
        )
        for b in range(state.shape[0])
    ]
    return torch.stack([p[0] for p in pairs]).detach(), torch.stack([p[1] for p in pairs]).detach()


def _rel_per_sample(J: torch.Tensor, ref: torch.Tensor) -> float:
    """Largest relative error over the batch (samples may differ in scale by 1e12)."""
    return max(float((J[b] - ref[b]).norm() / ref[b].norm()) for b in range(J.shape[0]))


def _heads(model, state, x):
    """Pre-activation ``a`` and the heads' outputs ``out`` of the step."""
    Wx, bias, Whm, W_heads, b_heads, _ = model._cell_weights()
    a = torch.addmm(torch.addmm(bias, x, Wx.t()), state, Whm)
    out = torch.addmm(b_heads, torch.cat([torch.relu(a), state[:, H:]], dim=1), W_heads)
    return a, out


@pytest.mark.parametrize("use_relu", [False, True], ids=["linear-heads", "relu-heads"])
@pytest.mark.parametrize(
    ("memory_size", "heads"),
    [(16, 4), (2, 8), (9, 1)],
    ids=["rows-of-two", "row-shorter-than-factor", "one-head"],
)
def test_matches_jacrev_at_random_points(memory_size, heads, use_relu):
    """Every layout of the outer product into rows (m < r, m = 2r, m = r^2), both head kinds."""
    model = _model(memory_size, heads, use_relu)
    with torch.no_grad():
        state, x = _point(model)
        J, J_x = model.step_jacobian(state, x), model.input_jacobian(state, x)
    J_ref, Jx_ref = _jacrev(model, state, x)
    assert J.shape == (B, model.state_size, model.state_size)
    assert _rel_per_sample(J, J_ref) < 1e-10
    assert _rel_per_sample(J_x, Jx_ref) < 1e-10
    # the memory rows really depend on the heads: not the identity plus nothing
    mem_rows = J[:, H:, H:] - torch.eye(model.memory_size)
    assert float(mem_rows.abs().max()) > 1e-3
    assert float(J[:, H:, :H].abs().max()) > 1e-3


def _at_kinks(use_relu: bool):
    """A dyadic NRU and a point at which every kind of kink is hit exactly (or nearly).

    - hidden relu: sample 0 has a[0] = a[1] = 0; sample 1 has a[2] = +2^-40, sample 2
      a[3] = -2^-40;
    - strengths: sample 0 has alpha[1] = 0; sample 1 has alpha[2] = -2^-40;
    - directions: sample 0 has u1[0] = 0 in the write head (a zero row of the outer product);
      sample 1 has u1[0] = u1[1] = 0 in the erase head, so its first direction is all zero
      (norm 0, below the floor).
    """
    model = _model(16, 4, use_relu, dyadic=True)
    state, x = _point(model, dyadic=True)
    tiny = 2.0**-40
    with torch.no_grad():
        a, _ = _heads(model, state, x)
        bias = model.hmi2h.bias
        for unit, sample, target in ((0, 0, 0.0), (1, 0, 0.0), (2, 1, tiny), (3, 2, -tiny)):
            bias[unit] += target - a[sample, unit]
        _, out = _heads(model, state, x)
        k, r = model.heads, model.rank
        # (layer, offset of its outputs in out, output, sample, value to put there)
        for layer, offset, index, sample, target in (
            (model.hm2alpha, 0, 1, 0, 0.0),
            (model.hm2alpha, 0, 2, 1, -tiny),
            (model.hm2v_alpha, 2 * k, 0, 0, 0.0),
            (model.hm2v_beta, 2 * k + 2 * r, 0, 1, 0.0),
            (model.hm2v_beta, 2 * k + 2 * r, 1, 1, 0.0),
        ):
            layer.bias[index] += target - out[sample, offset + index]
        a, out = _heads(model, state, x)
    # the kinks are really where they were put
    assert a[0, 0] == 0 and a[0, 1] == 0 and a[1, 2] == tiny and a[2, 3] == -tiny
    assert out[0, 1] == 0 and out[1, 2] == -tiny
    u = out[:, 2 * k :].view(B, 2, 2, r)
    assert u[0, 0, 0, 0] == 0 and u[1, 1, 0, 0] == 0 and u[1, 1, 0, 1] == 0
    return model, state, x


@pytest.mark.parametrize("use_relu", [False, True], ids=["linear-heads", "relu-heads"])
def test_matches_jacrev_at_the_kinks(use_relu):
    model, state, x = _at_kinks(use_relu)
    with torch.no_grad():
        J, J_x = model.step_jacobian(state, x), model.input_jacobian(state, x)
    J_ref, Jx_ref = _jacrev(model, state, x)
    assert _rel_per_sample(J, J_ref) < 1e-10
    assert _rel_per_sample(J_x, Jx_ref) < 1e-10
    # relu'(0) = 0: the rows of the two hidden units at their kink vanish, though W's do not
    W_h = model._cell_weights()[2].t().detach()
    assert float(W_h[:2].abs().min(dim=1).values.min()) > 0
    assert float(J[0, :2].abs().max()) == 0.0
    # just above the kink the slope is 1, just below it is 0
    torch.testing.assert_close(J[1, 2], W_h[2], rtol=0, atol=0)
    assert float(J[2, 3].abs().max()) == 0.0
    # the zero direction of sample 1 is floored at eps: its derivative is of order 1 / eps,
    # unless the direction's relu sits at its kink too (slope 0 there)
    huge = float(J[1].abs().max()) > 1e6 * float(J[0].abs().max())
    assert huge == (not use_relu)


def _update_reference(model, mem, out, signs):
    """jacrev of the cell's own memory update with respect to the heads' outputs."""
    return torch.func.jacrev(lambda o: model._memory_update(mem, o[None], signs)[0])(
        out[0]
    ).detach()


def _floor_outs(model) -> dict[str, torch.Tensor]:
    """Heads' outputs ``(1, 2k + 4r)``: first write direction of L5 norm eps, and near it."""
    k, r, m = model.heads, model.rank, model.memory_size
    g = torch.Generator().manual_seed(7)
    base = torch.randn(1, 2 * k + 4 * r, generator=g, dtype=torch.float64)
    u = base[:, 2 * k :].view(1, 2, 2, r)
    u[0, 0].abs_()  # write head: positive factors, so its directions survive relu-heads

    def with_scale(scale: float) -> torch.Tensor:
        """Row 0 of the write head is scale * [c0 u2, c1 u2], c = base's u1[0], u1[1]."""
        out = base.clone()
        out[0, 2 * k : 2 * k + 2] *= scale
        return out

    def norm_of_row0(out: torch.Tensor) -> float:
        P = out[:, 2 * k :].view(1, 2, 2, r)[:, 0]
        return float((P[:, 0, :, None] * P[:, 1, None, :]).reshape(1, k, m)[0, 0].norm(5))

    scale = _EPS / norm_of_row0(base)
    for _ in range(400):  # walk by ulps to a scale whose computed norm is exactly eps
        value = norm_of_row0(with_scale(scale))
        if value == _EPS:
            break
        scale = math.nextafter(scale, math.inf if value < _EPS else -math.inf)
    assert norm_of_row0(with_scale(scale)) == _EPS
    outs = {}
    for where, factor in (("at", 1.0), ("below", 1 - 1e-9), ("above", 1 + 1e-9)):
        outs[where] = with_scale(scale * factor)
        assert (norm_of_row0(outs[where]) < _EPS) == (where == "below")
    return outs


@pytest.mark.parametrize("use_relu", [False, True], ids=["linear-heads", "relu-heads"])
def test_norm_floor_one_sided_derivative(use_relu):
    """A direction whose L5 norm is exactly eps, and 1e-9 relatively below and above it.

    At equality autograd's clamp passes the norm's derivative; the analytic sensitivity does the
    same: it is continuous from above there and jumps to the floored ``I / eps`` below.
    """
    model = _model(16, 4, use_relu)
    signs = model._cell_weights()[5]
    mem = torch.randn(
        1, model.memory_size, generator=torch.Generator().manual_seed(8), dtype=torch.float64
    )
    outs = _floor_outs(model)
    G = {}
    for where, out in outs.items():
        G[where] = _memory_sensitivity(model, out, signs)[0]
        ref = _update_reference(model, mem, out, signs)
        assert float((G[where] - ref).norm() / ref.norm()) < 1e-10, where
        assert float(G[where].abs().max()) > 1e6  # the derivative is of order 1 / eps
    assert float((G["above"] - G["at"]).norm() / G["at"].norm()) < 1e-6
    assert float((G["below"] - G["at"]).norm() / G["at"].norm()) > 0.1


@pytest.mark.parametrize(
    ("memory_size", "heads"), [(64, 4), (4, 1)], ids=["benchmark-layout", "one-head-q2"]
)
def test_factored_route_matches_jacrev(memory_size, heads):
    """The factored memory rows (``r`` divides ``m``) on more layouts, inputs included."""
    model = _model(memory_size, heads, False)
    assert model.memory_size % model.rank == 0
    with torch.no_grad():
        state, x = _point(model, seed=4)
        J, J_x = model.step_jacobian(state, x), model.input_jacobian(state, x)
    J_ref, Jx_ref = _jacrev(model, state, x)
    assert _rel_per_sample(J, J_ref) < 1e-10
    assert _rel_per_sample(J_x, Jx_ref) < 1e-10


def test_factored_route_matches_dense_route_at_the_norm_floor():
    """Memory rows from the factored route equal ``G A`` carried densely, at and around eps.

    The floor's one-sided derivative (passes at equality, blocked below) must be the same in
    both routes; the derivative there is of order ``1 / eps``.
    """
    model = _model(16, 4, False)
    Wx, _, Whm, W_heads, _, signs = model._cell_weights()
    W_h, A = Whm.t().detach(), W_heads.t().detach()
    S, m = model.state_size, model.memory_size
    D = (torch.arange(H) % 3 != 0).to(torch.float64)[None]  # some hidden units at relu's 0
    rows = {}
    for where, out in _floor_outs(model).items():
        with torch.no_grad():
            J = torch.zeros(1, S, S, dtype=torch.float64)
            J, _ = _factored_jacobians(model, out, signs, A, D, W_h, Wx, J, inputs=False)
            GA = _memory_sensitivity(model, out, signs) @ A
        dense = (GA[:, :, :H] * D[:, None]) @ W_h
        dense[:, :, H:] += GA[:, :, H:] + torch.eye(m, dtype=torch.float64)
        assert float((J[:, H:] - dense).norm() / dense.norm()) < 1e-10, where
        assert float(J[:, H:].abs().max()) > 1e6
        rows[where] = J[0, H:]
    assert float((rows["above"] - rows["at"]).norm() / rows["at"].norm()) < 1e-6
    assert float((rows["below"] - rows["at"]).norm() / rows["at"].norm()) > 0.1
