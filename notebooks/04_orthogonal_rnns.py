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
# # Orthogonal and non-saturating RNNs on the copy task
#
# **Claim** (scoRNN, Helfrich et al. 2018; expRNN, Lezcano-Casado & Martínez-Rubio 2019):
# keeping $W$ exactly orthogonal, through a scaled Cayley transform or the exponential of a skew
# matrix, lets a vanilla RNN solve the copy task — recall 10 symbols after a long delay — where an
# LSTM stays at the baseline loss of guessing (copy $T = 1000$ in the papers). nnRNN (Kerg et al.
# 2019) trains the Schur form $W = P(\Gamma + T)P^\top$ and so may leave normality; NRU (Chandar et
# al. 2019) replaces saturating gates by an additive memory.
#
# We train the five on the copy task at a small scale, follow the loss against the baseline and the
# orthogonality error $\|W^\top W - I\|_F$ during training, and look at the spectra and
# pseudospectra afterwards. What we **measured** is printed below each cell.

# %%
# Settings (small, for a laptop CPU). Paper scale: T = 1000, HIDDEN = 190, BATCH = 128,
# STEPS = 10000 or more.
T = 100
HIDDEN = 48
BATCH = 16
STEPS = 200
EVERY = 25
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import models
import spectra

torch.set_num_threads(1)
task = models.tasks.get("copy", T=T)
print(f"copy task: T = {T}, baseline loss = {task.baseline:.4f} (10 ln 8 / (T + 20))")

KINDS = {
    "scornn": {"lr": 1e-3, "lr_orth": 1e-4},
    "exprnn": {"lr": 1e-3, "lr_orth": 1e-4},
    "nnrnn": {"lr": 1e-3, "lr_orth": 1e-4},
    "nru": {"lr": 1e-3, "clip": 1.0, "optimizer": "adam"},
    "lstm": {"lr": 1e-3},
}

# %%
curves = {}
orthogonality = {}
trained = {}
for kind, options in KINDS.items():
    model = models.build(
        kind,
        input_size=task.input_size,
        hidden_size=HIDDEN,
        output_size=task.output_size,
        readout="all",
        seed=SEED,
    )
    losses, errors = [], []

    def follow(step: models.TrainStep, model: torch.nn.Module = model) -> None:
        losses.append(step.loss)
        if step.step % EVERY == 0 and hasattr(model, "recurrent_matrix"):
            W = model.recurrent_matrix().detach().double().numpy()
            errors.append((step.step, spectra.orthogonality_error(W)))

    config = models.TrainConfig(steps=STEPS, batch_size=BATCH, seed=SEED, **options)
    result = models.train(model, task, config, callback=follow)
    curves[kind] = np.asarray(losses)
    orthogonality[kind] = errors
    trained[kind] = model
    print(
        f"{kind:7s} final test loss / baseline = {result.test_loss / task.baseline:.3f}, "
        f"recall accuracy = {result.test_metric:.3f}"
    )

# %% [markdown]
# ## Learning curves against the baseline

# %%
fig, ax = plt.subplots(figsize=(7, 4))
window = 10
for kind, loss in curves.items():
    smooth = np.convolve(loss / task.baseline, np.ones(window) / window, mode="valid")
    ax.plot(np.arange(window, len(loss) + 1), smooth, label=kind)
ax.axhline(1.0, color="k", linestyle="--", label="baseline")
ax.set_yscale("log")
ax.set_xlabel("training step")
ax.set_ylabel("loss / baseline")
ax.legend()
ax.set_title(f"copy task, T = {T}")

# %% [markdown]
# ## Orthogonality during training
# scoRNN and expRNN stay orthogonal to float32 precision by construction; nnRNN leaves
# orthogonality as soon as its triangular part or its $\gamma_i$ move.

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for kind in ("scornn", "exprnn", "nnrnn"):
    steps, errors = zip(*orthogonality[kind], strict=True)
    ax.semilogy(steps, np.maximum(errors, 1e-12), marker="o", label=kind)
    print(f"{kind:7s} max ||W^T W - I||_F during training = {max(errors):.2e}")
ax.set_xlabel("training step")
ax.set_ylabel(r"$\|W^\top W - I\|_F$")
ax.legend()

# %% [markdown]
# ## Spectra and pseudospectra after training

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4.3))
for ax, kind in zip(axes, ("scornn", "exprnn", "nnrnn"), strict=True):
    W = trained[kind].recurrent_matrix().detach().double().numpy()
    ps = spectra.pseudospectrum(W, re=(-1.4, 1.4), im=(-1.4, 1.4), n=90)
    spectra.plot.pseudospectrum(ps, eps=[1e-3, 1e-2, 1e-1], ax=ax)
    ax.set_title(kind)
    print(
        f"{kind:7s} rho = {spectra.spectral_radius(W):.4f}, ||W||2 = {spectra.spectral_norm(W):.4f}, "
        f"henrici_rel = {spectra.henrici(W, relative=True):.4f}, "
        f"rho_0.01 = {float(spectra.pseudospectral_radius(W, 1e-2)):.4f}"
    )
fig.tight_layout()
