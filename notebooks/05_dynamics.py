# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The dynamics of the nonlinear network: fixed points, Lyapunov spectra, gradient flow
#
# **Claim** (Sussillo & Barak 2013): a recurrent network trained on the 3-bit flip-flop task
# stores each of its $2^3 = 8$ memories as a stable fixed point of its autonomous dynamics, and
# the fixed points can be found numerically by minimising $q(h) = \tfrac12\|F(h) - h\|^2$. The
# matrix $W$ alone does not show this: the state Jacobians
# $J_t = \partial h_t / \partial h_{t-1}$ along real trajectories decide memory and gradients.
#
# We train an RNN, a GRU and an LSTM on the flip-flop task, find their fixed points and look at the
# pseudospectra of the Jacobians there, then compute Lyapunov spectra and the gradient flow
# $\|\partial h_T / \partial h_t\|$ next to the linear prediction $\|W^{T-t}\|$. What we
# **measured** is printed below each cell.

# %%
# Settings (small, for a laptop CPU). Paper scale (Sussillo & Barak): HIDDEN = 100,
# T = 500-step trials, many thousands of training steps, 1000+ starts.
HIDDEN = 24
T = 30
STEPS = 500
BATCH = 64
STARTS = 128
LYAPUNOV_T = 300
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import models
import spectra
from models import dynamics
from models.dynamics import plot as dynamics_plot

torch.set_num_threads(1)
task = models.tasks.get("flipflop", T=T, p=0.1, test_size=200)
x_test, y_test = task.test_set()
nets = {}
for kind in ("rnn", "gru", "lstm"):
    model = models.build(
        kind, input_size=3, hidden_size=HIDDEN, output_size=3, readout="all", seed=SEED
    )
    config = models.TrainConfig(steps=STEPS, batch_size=BATCH, lr=1e-2, optimizer="adam", seed=SEED)
    result = models.train(model, task, config)
    nets[kind] = model
    print(f"{kind:4s} test MSE = {result.test_loss:.4f} (baseline {task.baseline:.3f})")

# %% [markdown]
# ## Fixed points
# From many starts sampled along test trajectories, minimise $q$ in one batch, keep the distinct
# minima and classify them by the eigenvalues of the Jacobian there. Next to each class we show the
# spectral radius and the ε-pseudospectral radius of the Jacobians: a stable point whose
# $\rho_\varepsilon$ exceeds 1 can be pushed off by a small perturbation of the dynamics.

# %%
found = {}
for kind, model in nets.items():
    points = dynamics.fixed_points(model, 0.0, starts=STARTS, inputs=x_test[:32], seed=SEED)
    found[kind] = points
    stable = [m for m, s in zip(points.measures, points.stability, strict=True) if s == "stable"]
    print(
        f"{kind:4s} stable: {points.count('stable')}, saddles: {points.count('saddle')}, "
        f"unstable: {points.count('unstable')}; stable points' max rho = "
        f"{max((m['spectral_radius'] for m in stable), default=float('nan')):.3f}, max rho_0.01 = "
        f"{max((m['pseudospectral_radius'] for m in stable), default=float('nan')):.3f}"
    )
fig, axes = plt.subplots(1, 3, figsize=(14, 4.3))
for ax, (kind, points) in zip(axes, found.items(), strict=True):
    dynamics_plot.fixed_points(points, ax=ax)
    ax.set_title(kind)
fig.tight_layout()

# %% [markdown]
# ### Pseudospectra of the Jacobians at the stable fixed points of the RNN

# %%
points = found["rnn"]
stable = [i for i, s in enumerate(points.stability) if s == "stable"][:3]
fig, axes = plt.subplots(1, max(len(stable), 1), figsize=(4.5 * max(len(stable), 1), 4.3))
for ax, i in zip(np.atleast_1d(axes), stable, strict=False):
    ps = spectra.pseudospectrum(points.jacobians[i], re=(-1.3, 1.3), im=(-1.3, 1.3), n=80)
    spectra.plot.pseudospectrum(ps, eps=[1e-2, 1e-1], ax=ax)
    ax.set_title(f"stable point {i}: rho = {points.measures[i]['spectral_radius']:.3f}")
fig.tight_layout()

# %% [markdown]
# ## Lyapunov spectra
# The exponents of the products of state Jacobians along trajectories driven by task inputs: all
# negative means nearby trajectories converge (the memories are robust); zero exponents are the
# directions along which the network integrates.

# %%
long_task = models.tasks.get("flipflop", T=LYAPUNOV_T, p=0.1, test_size=16, seed=1)
x_long, _ = long_task.test_set()
fig, ax = plt.subplots(figsize=(6, 4))
for kind, model in nets.items():
    J = dynamics.jacobians(model, x_long).numpy()
    result = spectra.lyapunov(J, k=5, discard=50)
    ax.plot(np.arange(1, result.exponents.size + 1), result.exponents, "o-", label=kind)
    top = ", ".join(f"{e:.3f}±{s:.3f}" for e, s in zip(result.exponents[:3], result.stderr[:3],
                                                      strict=True))
    print(f"{kind:4s} leading Lyapunov exponents (nats/step): {top}")
ax.axhline(0.0, color="k", linewidth=0.8)
ax.set_xlabel("index")
ax.set_ylabel("exponent (nats / step)")
ax.legend()

# %% [markdown]
# ## Gradient flow against the linear prediction
# $\|\partial h_T / \partial h_{T-k}\|_2$ along real trajectories (median and interquartile band)
# against $\|W^k\|_2$: for the vanilla RNN the nonlinearity makes the gradient vanish far faster
# than the matrix alone predicts.

# %%
flow = dynamics.gradient_flow(nets["rnn"], x_test[:32])
fig = dynamics_plot.gradient_flow(flow)
median = np.median(flow.log_norm, axis=0) / np.log(10)
print(
    f"rnn: log10 ||dh_T/dh_(T-k)|| at k = 10: {median[10]:.2f}, "
    f"linear prediction log10 ||W^10|| = {np.log10(flow.linear[10]):.2f}"
)
