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
# # Pseudospectra: what eigenvalues do not say
#
# **Claim** (Trefethen & Embree; Sengupta & Friston): for a non-normal matrix the eigenvalues
# say little about how the matrix acts; the ε-pseudospectra
# $\Lambda_\varepsilon(A) = \{z : \sigma_{\min}(zI - A) \le \varepsilon\}$ show where the
# eigenvalues of every perturbed matrix $A + E$, $\|E\|_2 \le \varepsilon$, can go, and bound the
# transient growth of $\|A^k\|$. This notebook draws them for the classic test matrices and for the
# initialisations of recurrent networks, checks the perturbation theorem on random $E$, and
# computes the certified pseudospectral radius with its witness point. Every number printed below
# is what we **measured**.

# %%
# Settings. These run in seconds on a laptop CPU; the figures of Trefethen & Embree use the same
# sizes (N = 32-100) and grids of 200-300 points per axis (paper scale: GRID = 300).
N = 32
GRID = 120
EPS = [1e-3, 1e-2, 1e-1]
DRAWS = 50
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.optimize import brentq

import spectra
from models import inits
from spectra import matrices

# %% [markdown]
# ## The classic non-normal matrices
# Grcar, Kahan, the limaçon (a banded Toeplitz matrix) and a Jordan block: their eigenvalues
# (dots) are tiny or clustered, their pseudospectra are large.

# %%
classic = {
    "Grcar": matrices.grcar(N),
    "Kahan": matrices.kahan(N),
    "limaçon": matrices.limacon(N),
    "Jordan": matrices.jordan(N),
}
fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for ax, (name, A) in zip(axes, classic.items(), strict=True):
    ps = spectra.pseudospectrum(A, n=GRID)
    spectra.plot.pseudospectrum(ps, ax=ax, unit_circle=False)
    ax.set_title(name)
fig.tight_layout()
for name, A in classic.items():
    print(
        f"{name:8s} rho={spectra.spectral_radius(A):.3f}  ||A||2={spectra.spectral_norm(A):.3f}  "
        f"henrici_rel={spectra.henrici(A, relative=True):.3f}"
    )

# %% [markdown]
# ## Initialisations of recurrent networks
# Orthogonal, identity, Henaff and Cayley matrices are normal: their pseudospectra are ε-disks
# around eigenvalues on the unit circle. The chain and the feedback chain of Orhan & Pitkow are
# non-normal: all eigenvalues of the chain are 0, yet its ε-pseudospectra reach beyond the unit
# circle.

# %%
generator = torch.Generator().manual_seed(SEED)
initial = {
    "orthogonal": inits.orthogonal(N, generator=generator),
    "identity": inits.identity(N),
    "Henaff": inits.henaff(N, generator=generator),
    "Cayley": inits.cayley(N, generator=generator),
    "chain": inits.chain(N, alpha=1.0),
    "fbchain": inits.fbchain(N, alpha=1.0, beta=0.05),
}
initial = {name: W.double().numpy() for name, W in initial.items()}
fig, axes = plt.subplots(2, 3, figsize=(12, 8))
for ax, (name, W) in zip(axes.ravel(), initial.items(), strict=True):
    ps = spectra.pseudospectrum(W, re=(-1.6, 1.6), im=(-1.6, 1.6), n=GRID)
    spectra.plot.pseudospectrum(ps, eps=EPS, ax=ax)
    ax.set_title(name)
fig.tight_layout()
print(f"{'init':10s} {'rho':>6s} {'||W||2':>7s} {'henrici':>8s} {'rho_0.1':>8s}")
for name, W in initial.items():
    radius = spectra.pseudospectral_radius(W, 0.1)
    print(
        f"{name:10s} {spectra.spectral_radius(W):6.3f} {spectra.spectral_norm(W):7.3f} "
        f"{spectra.henrici(W, relative=True):8.3f} {float(radius):8.3f}"
    )

# %% [markdown]
# ## Eigenvalues of $W + E$ lie inside $\Lambda_\varepsilon(W)$
# For random perturbations with $\|E\|_2 = \varepsilon$ every eigenvalue of $W + E$ must satisfy
# $\sigma_{\min}(\lambda I - W) \le \varepsilon$. We check it on the chain, where the theorem is
# least obvious (eigenvalues move by $\varepsilon^{1/N}$, far more than $\varepsilon$).

# %%
rng = np.random.default_rng(SEED)
W = initial["chain"]
eps = 1e-2
moved = []
for _ in range(DRAWS):
    E = rng.standard_normal((N, N))
    E *= eps / np.linalg.norm(E, 2)
    moved.append(np.linalg.eigvals(W + E))
moved = np.concatenate(moved)
sigma = spectra.sigma_min(W, moved)
print(
    f"{moved.size} eigenvalues of W + E: max sigma_min / eps = {sigma.max() / eps:.4f} "
    f"(the theorem says <= 1); farthest |lambda| = {np.abs(moved).max():.3f}"
)
ps = spectra.pseudospectrum(W, re=(-1.3, 1.3), im=(-1.3, 1.3), n=GRID)
fig, ax = plt.subplots(figsize=(5, 5))
spectra.plot.pseudospectrum(ps, eps=[eps], ax=ax, overlay=moved)
ax.set_title("chain: eigenvalues of W + E, ||E|| = 0.01")

# %% [markdown]
# ## Transient growth and the Kreiss bound
# Bounding the spectral radius does not bound $\|W^k\|$: $W = 0.5 I + $ chain has $\rho = 0.5$
# but amplifies by orders of magnitude before it decays. The Kreiss constant is a lower bound on
# the peak, $\mathcal{K}(W) \le \max_k \|W^k\|_2$.

# %%
W = matrices.chain(16, alpha=1.0) + 0.5 * np.eye(16)
growth = spectra.transient_growth(W, 80)
kreiss = spectra.kreiss_lower_bound(W)
print(
    f"rho = {spectra.spectral_radius(W):.2f}, peak ||W^k|| = {growth.max():.1f} at k = "
    f"{int(growth.argmax())}, Kreiss lower bound = {kreiss:.1f} (<= peak: {kreiss <= growth.max()})"
)
ax = spectra.plot.transient(growth)
ax.axhline(kreiss, color="C1", linestyle="--", label="Kreiss lower bound")
ax.legend()

# %% [markdown]
# ## The certified pseudospectral radius
# `spectra.pseudospectral_radius` returns a *witness* point $z$ with
# $\sigma_{\min}(zI - A) \le \varepsilon$ (so `value` $= |z|$ is attained) and a certified upper
# bound `upper`: no point farther out belongs to $\Lambda_\varepsilon$. For a Jordan block the
# pseudospectra are disks and the radius solves $\sigma_{\min}(rI - J) = \varepsilon$ exactly.

# %%
J = matrices.jordan(8)
for eps in EPS:
    result = spectra.pseudospectral_radius(J, eps)
    # The pseudospectra of a Jordan block are disks: solve sigma_min(rI - J) = eps for r.
    exact = brentq(lambda r, eps=eps: spectra.sigma_min(J, [r])[0] - eps, 0.0, 2.0, xtol=1e-14)
    print(
        f"eps={eps:g}: value={result.value:.6f} upper={result.upper:.6f} "
        f"certified={result.certified} exact={exact:.6f} "
        f"sigma_min(witness)/eps={spectra.sigma_min(J, [result.witness])[0] / eps:.6f}"
    )
W = initial["fbchain"]
result = spectra.pseudospectral_radius(W, 0.1)
ps = spectra.pseudospectrum(W, re=(-1.6, 1.6), im=(-1.6, 1.6), n=GRID)
fig, ax = plt.subplots(figsize=(5, 5))
spectra.plot.pseudospectrum(ps, eps=[0.1], ax=ax)
ax.plot(result.witness.real, result.witness.imag, "r*", markersize=14, label="witness")
theta = np.linspace(0, 2 * np.pi, 400)
ax.plot(result.upper * np.cos(theta), result.upper * np.sin(theta), "r:", label="certified bound")
ax.legend(loc="lower left")
ax.set_title(f"fbchain: rho_0.1 = {result.value:.4f}, upper = {result.upper:.4f}")
print(f"Measured: fbchain rho_0.1 in [{result.value:.6f}, {result.upper:.6f}]")
