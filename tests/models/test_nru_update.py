"""The NRU's factored memory update against the update over the explicit (2k, m) directions.

When each row of a head's outer product ``u1 u2^T`` (reshaped to ``(k, m)``) is made of whole
rows (``r`` divides ``m``, no relu on the directions), the cell forms the update from the
factors and differentiates it in closed form (one autograd node). The reference here is the
textbook formulation: the directions formed, ``F.normalize(p=5)``, weighted and averaged, and
differentiated by autograd.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import models
from models.nru import _EPS, _factored, _FactoredUpdate


def _model(memory_size: int, heads: int, *, use_relu: bool = False):
    return models.build(
        "nru",
        input_size=2,
        hidden_size=5,
        output_size=2,
        seed=1,
        memory_size=memory_size,
        heads=heads,
        use_relu=use_relu,
    ).double()


def _reference(model, mem, out, signs):
    """``m + mean_i(alpha_i v_alpha_i - beta_i v_beta_i)`` with the directions formed."""
    k, r, m = model.heads, model.rank, model.memory_size
    strengths, u = out.split([2 * k, 4 * r], dim=1)
    if model.use_relu:
        strengths = F.relu(strengths)
    u = u.reshape(-1, 2, 2, r)
    v = (u[:, :, 0, :, None] * u[:, :, 1, None, :]).reshape(-1, 2 * k, m)
    if model.use_relu:
        v = F.relu(v)
    v = F.normalize(v, p=5, dim=2, eps=_EPS)
    return mem + ((strengths * signs)[:, :, None] * v).sum(1)


def _inputs(model, batch: int = 6, seed: int = 0):
    k, r, m = model.heads, model.rank, model.memory_size
    g = torch.Generator().manual_seed(seed)
    mem = torch.randn(batch, m, generator=g, dtype=torch.float64)
    out = torch.randn(batch, 2 * k + 4 * r, generator=g, dtype=torch.float64)
    return mem, out


def _both(model, mem, out):
    """Values and gradients (of a fixed random functional) of the cell's and the reference."""
    signs = model._cell_weights()[5].detach()
    weight = torch.randn(mem.shape, generator=torch.Generator().manual_seed(9)).to(mem.dtype)
    results = []
    for update in (model._memory_update, lambda *a: _reference(model, *a)):
        m_, o_ = mem.clone().requires_grad_(), out.clone().requires_grad_()
        new = update(m_, o_, signs)
        (new * weight).sum().backward()
        results.append((new.detach(), m_.grad, o_.grad))
    return results


@pytest.mark.parametrize(
    ("memory_size", "heads"),
    [(16, 4), (9, 1), (64, 4), (4, 1)],
    ids=["two-rows", "three-rows", "four-rows", "square"],
)
def test_factored_update_matches_the_directions_formed(memory_size, heads):
    model = _model(memory_size, heads)
    assert _factored(model)
    mem, out = _inputs(model)
    (new, g_mem, g_out), (ref, r_mem, r_out) = _both(model, mem, out)
    torch.testing.assert_close(new, ref, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(g_mem, r_mem, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(g_out, r_out, rtol=1e-12, atol=1e-12)


def test_zero_and_floored_directions_have_autograds_derivatives():
    """A zero row (norm 0: derivative 0), a row below the floor and one just above it."""
    model = _model(16, 4)
    k, r = model.heads, model.rank
    mem, out = _inputs(model, batch=3, seed=4)
    u = out[:, 2 * k :].view(3, 2, 2, r)
    u[0, 0, 0, :2] = 0.0  # sample 0: row 0 of the write head is zero
    u[1, 1, 0, 2:4] *= 1e-14  # sample 1: row 1 of the erase head far below eps
    u[2, 0, 0, 4:6] *= 2e-12  # sample 2: a row a little above the floor
    (new, g_mem, g_out), (ref, r_mem, r_out) = _both(model, mem, out)
    assert torch.isfinite(g_out).all()
    torch.testing.assert_close(new, ref, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(g_mem, r_mem, rtol=1e-13, atol=1e-13)
    # relative to each sample's scale: the floored rows' derivatives are of order 1 / eps
    for b in range(3):
        scale = float(r_out[b].abs().max())
        assert float((g_out[b] - r_out[b]).abs().max()) <= 1e-12 * scale, b
    assert float(g_out[0, 2 * k : 2 * k + 2].abs().max()) > 0  # the zero row's factors still move


def test_overflowing_norm_in_float32_has_autograds_zero_weight():
    """A row whose fifth powers overflow float32: norm inf, weight 0, derivative 0, not NaN."""
    model = models.build(
        "nru", input_size=1, hidden_size=4, output_size=2, seed=0, memory_size=16, heads=4
    )
    k, r = model.heads, model.rank
    g = torch.Generator().manual_seed(3)
    mem, out = torch.randn(2, 16, generator=g), torch.randn(2, 2 * k + 4 * r, generator=g)
    out[0, 2 * k : 2 * k + 4 * r] *= 3e4  # |u1 u2| ~ 1e9: |P|^5 overflows
    (new, g_mem, g_out), (ref, r_mem, r_out) = _both(model, mem, out)
    assert torch.isfinite(g_out).all() and torch.isfinite(r_out).all()
    torch.testing.assert_close(new, ref)
    torch.testing.assert_close(g_mem, r_mem)
    torch.testing.assert_close(g_out, r_out)


def test_gradcheck_of_the_closed_form_backward():
    model = _model(16, 4)
    mem, out = _inputs(model, batch=2, seed=6)
    signs = model._cell_weights()[5].detach()
    assert torch.autograd.gradcheck(
        lambda m_, o_: _FactoredUpdate.apply(m_, o_, signs, model.heads, model.rank),
        (mem.requires_grad_(), out.requires_grad_()),
    )


@pytest.mark.parametrize(
    ("memory_size", "heads", "use_relu"),
    [(4, 9, False), (2, 8, False), (16, 4, True)],
    ids=["partial-rows", "row-shorter-than-factor", "relu-heads"],
)
def test_other_shapes_keep_the_directions_formed(memory_size, heads, use_relu):
    model = _model(memory_size, heads, use_relu=use_relu)
    assert not _factored(model)
    mem, out = _inputs(model)
    (new, g_mem, g_out), (ref, r_mem, r_out) = _both(model, mem, out)
    torch.testing.assert_close(g_mem, r_mem, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(new, ref, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(g_out, r_out, rtol=1e-12, atol=1e-12)


def test_float32_sequence_is_as_accurate_as_the_directions_formed():
    """The demo's configuration in float32 over a sequence, against the float64 reference.

    Both float32 formulations are within rounding of the float64 logits and gradients (inputs
    and every weight), and the factored one is no further from them than the formed one
    over eight seeded models (one model's ratio varies from 0.1 to 6 with the CPU's rounding,
    their geometric mean stays near 1).
    """
    errors = []
    for seed in range(8):
        x = torch.randn(8, 30, 1, generator=torch.Generator().manual_seed(seed + 2))
        results = []
        for formed, dtype in ((True, torch.float64), (True, torch.float32), (False, torch.float32)):
            m = models.build(
                "nru",
                input_size=1,
                hidden_size=16,
                output_size=3,
                seed=seed,
                memory_size=16,
                heads=4,
            ).to(dtype)
            if formed:
                m._memory_update = lambda mem, out, signs, m=m: _reference(m, mem, out, signs)
            xr = x.to(dtype).clone().requires_grad_()
            y = m(xr)
            y.square().sum().backward()
            flat = [y.detach(), xr.grad] + [p.grad for p in m.parameters()]
            results.append(torch.cat([t.reshape(-1).double() for t in flat]))
        exact, formed32, factored32 = results
        scale = float(exact.abs().max())
        errors.append(
            (
                float((formed32 - exact).abs().max()) / scale,
                float((factored32 - exact).abs().max()) / scale,
            )
        )
    formed, factored = (np.array(e) for e in zip(*errors, strict=True))
    assert np.median(factored) < 1e-5 and factored.max() < 1e-4
    assert np.exp(np.log(factored / formed).mean()) < 2  # geometric mean of the ratios


def test_second_derivatives_match_the_directions_formed():
    """Double backward (a gradient penalty, a Hessian-vector product) through the update."""
    model = _model(16, 4)
    signs = model._cell_weights()[5].detach()
    mem, out = _inputs(model, batch=3)
    g = torch.Generator().manual_seed(3)
    w = torch.randn(mem.shape, generator=g, dtype=torch.float64)
    v = torch.randn(out.shape, generator=g, dtype=torch.float64)

    def hvp(update):
        o = out.clone().requires_grad_()
        (first,) = torch.autograd.grad((update(mem, o) * w).sum(), o, create_graph=True)
        (second,) = torch.autograd.grad((first * v).sum(), o)
        return first.detach(), second

    k, r = model.heads, model.rank
    first, second = hvp(lambda m, o: _FactoredUpdate.apply(m, o, signs, k, r))
    first_ref, second_ref = hvp(lambda m, o: _reference(model, m, o, signs))
    torch.testing.assert_close(first, first_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(second, second_ref, rtol=1e-10, atol=1e-10)
    assert second_ref.abs().max() > 1e-3  # the check is not vacuous


def test_gradient_penalty_through_the_model():
    """A penalty on the input gradient trains the weights as with the directions formed."""
    x = torch.randn(3, 7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    grads = []
    for formed in (False, True):
        m = _model(16, 4)
        if formed:
            m._memory_update = lambda mem, out, signs, m=m: _reference(m, mem, out, signs)
        probe = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(m(probe).sum(), probe, create_graph=True)
        g.pow(2).sum().backward()
        grads.append([p.grad for p in m.parameters()])
    for ours, ref in zip(*grads, strict=True):
        if ref is None:  # the readout's bias does not enter the input gradient
            assert ours is None
        else:
            torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)
