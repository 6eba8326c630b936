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
# # Why a chain remembers and an orthogonal matrix does not look different
#
# Orhan & Pitkow compare *normal* recurrent matrices (orthogonal, identity) with *non-normal*
# ones (a feed-forward chain). Their eigenvalues say little: the chain is nilpotent, all its
# eigenvalues are 0. Its ε-pseudospectra, Henrici index and Fisher memory tell the difference.

# %%
import matplotlib.pyplot as plt
import numpy as np

import spectra
from spectra import matrices

n = 32
chain = matrices.chain(n, alpha=1.0)
orthogonal = matrices.random_orthogonal(n, seed=0)

for name, W in [("chain", chain), ("orthogonal", orthogonal)]:
    print(
        f"{name:10s} rho={spectra.spectral_radius(W):.3f} "
        f"norm={spectra.spectral_norm(W):.3f} "
        f"henrici_rel={spectra.henrici(W, relative=True):.3f} "
        f"chain_length={spectra.chains(W).length}"
    )

# %% [markdown]
# ## ε-pseudospectra
# The chain's ε-pseudospectra are large disks although every eigenvalue is 0; the orthogonal
# matrix's are thin ε-neighbourhoods of its eigenvalues on the unit circle.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (name, W) in zip(axes, [("chain", chain), ("orthogonal", orthogonal)], strict=True):
    ps = spectra.pseudospectrum(W, re=(-1.6, 1.6), im=(-1.6, 1.6), n=120)
    spectra.plot.pseudospectrum(ps, eps=[1e-3, 1e-2, 1e-1], ax=ax)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# The pseudospectral radius measures how far the ε-pseudospectrum reaches: for a normal matrix
# it is exactly ρ(W) + ε.

# %%
for eps in [1e-3, 1e-2, 1e-1]:
    r_chain = spectra.pseudospectral_radius(chain, eps)
    r_orth = spectra.pseudospectral_radius(orthogonal, eps)
    print(f"eps={eps:g}: chain {r_chain:.3f}, orthogonal {r_orth:.4f} (rho + eps = {1 + eps:.4f})")

# %% [markdown]
# ## Memory: Fisher information of a pulse (Ganguli et al. 2008)
# For any normal matrix the total Fisher memory is 1; a chain of length 100 stores
# :math:`H_{100} \approx 5.19`.

# %%
e1 = np.zeros(100)
e1[0] = 1.0
for alpha in [0.95, 1.0, 1.05]:
    J = spectra.fisher_memory(matrices.chain(100, alpha=alpha), e1, 100)
    print(f"chain alpha={alpha}: J_tot = {J.sum():.2f}")
J_orth = spectra.fisher_memory(matrices.random_orthogonal(100, seed=1), e1, 100)
print(f"orthogonal: J_tot = {J_orth.sum():.2f}")

# %% [markdown]
# ## Transient growth
# Bounding the spectral radius does not bound ‖W^k‖: a scaled chain with ρ = 0 amplifies
# before it decays. The Kreiss constant is a lower bound on the peak.

# %%
W = matrices.chain(16, alpha=1.0) + 0.5 * np.eye(16)
growth = spectra.transient_growth(W, 60)
print(
    f"rho={spectra.spectral_radius(W):.2f}, peak ||W^k|| = {growth.max():.1f}, "
    f"Kreiss lower bound = {spectra.kreiss_lower_bound(W):.1f}"
)
ax = spectra.plot.transient(growth)
