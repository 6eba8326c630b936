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
# # Stable is not robust: normalising the spectrum (Sengupta & Friston)
#
# We train two small vanilla RNNs on the permuted 8x8 digits: one free, one whose recurrent
# matrix is projected onto the unit disk (spectral radius <= 1) after every step. Then we compare
# their spectra, their non-normality and their robustness to input and weight perturbations.

# %%
import matplotlib.pyplot as plt
import torch

import attacks
import models
import spectra

torch.set_num_threads(1)
task = models.tasks.get("digits", permuted=True)
nets = {}
for name, constrain in [("free", None), ("radius", "radius")]:
    model = models.build(
        "rnn",
        input_size=task.input_size,
        hidden_size=32,
        output_size=task.output_size,
        init="orthogonal",
        nonlinearity="tanh",
        constrain=constrain,
        seed=0,
    )
    config = models.TrainConfig(steps=150, batch_size=32, lr=2e-3, seed=0)
    result = models.train(model, task, config)
    nets[name] = model
    print(f"{name}: test {result.metric_name} = {result.test_metric:.3f}")

# %% [markdown]
# ## Spectra
# The constrained network has ρ(W) <= 1 but its spectral norm and non-normality are free.

# %%
for name, model in nets.items():
    W = model.recurrent_matrix().double().numpy()
    print(
        f"{name:6s} rho={spectra.spectral_radius(W):.3f} "
        f"rho_power={spectra.spectral_radius(W, method='power'):.3f} "
        f"norm={spectra.spectral_norm(W):.3f} "
        f"henrici_rel={spectra.henrici(W, relative=True):.3f} "
        f"kreiss>={spectra.kreiss_lower_bound(W):.2f}"
    )

# %% [markdown]
# ## Input perturbations: the default attack ensemble against uniform noise (L∞)
# APGD-CE, APGD-DLR and Square (plus an adaptive attack for modReLU cells), worst case per sample;
# ``quick`` budgets keep this notebook fast, ``standard`` is the default.

# %%
x, y = task.test_set()
x, y = x[:96], y[:96]
eps = [0.01, 0.03, 0.1]
for name, model in nets.items():
    adv = attacks.adversarial(
        model, x, y, norm="linf", epsilons=eps, strength="quick", bounds=task.bounds
    )
    rnd = attacks.noise(model, x, y, norm="linf", epsilons=eps, draws=5, bounds=task.bounds)
    print(f"{name}: clean {adv.clean_accuracy:.3f}")
    print(f"  attack {[round(a, 3) for a in adv.robust_accuracy]}")
    print(f"  noise {[round(a, 3) for a in rnd.robust_accuracy]}")

# %% [markdown]
# ## Weight perturbations and the pseudospectrum
# Every eigenvalue of W + E with ‖E‖₂ = ε lies inside the ε-pseudospectrum of W.

# %%
model = nets["radius"]
W = model.recurrent_matrix().double().numpy()
wn = attacks.weight_noise(model, x, y, epsilons=[0.05], draws=5, relative=False)
print(f"accuracy with ||E|| = 0.05: {wn.mean_accuracy[0]:.3f} ± {wn.std_accuracy[0]:.3f}")
ps = spectra.pseudospectrum(W, n=80)
fig, ax = plt.subplots(figsize=(5, 5))
spectra.plot.pseudospectrum(ps, eps=[0.01, 0.05, 0.1], ax=ax, overlay=wn.eigenvalues.ravel())
ax.set_title("W of the radius-constrained RNN")
