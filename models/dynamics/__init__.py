r"""Dynamics of the nonlinear network: state Jacobians, gradient flow, fixed points, chains.

Every kind's one-step map :math:`s_t = F(s_{t-1}, x_t)` on its full state
(:meth:`models.RecurrentModel.step`, :meth:`~models.RecurrentModel.step_jacobian`) is the
object here; :func:`spectra.lyapunov` turns the Jacobians into Lyapunov exponents.

Examples
--------
>>> import models, spectra, torch
>>> from models import dynamics
>>> model = models.build("rnn", input_size=1, hidden_size=8, output_size=1)
>>> J = dynamics.jacobians(model, torch.zeros(2, 50, 1))
>>> spectra.lyapunov(J.numpy(), k=2).exponents.shape
(2,)
"""

from models.dynamics.chains import ChainProfile, chain_profile
from models.dynamics.fixed_points import FixedPoints, fixed_points
from models.dynamics.foreign import TorchStack, from_torch, load_torch
from models.dynamics.gradient_flow import GradientFlow, gradient_flow
from models.dynamics.trajectories import iter_jacobians, jacobians, states

__all__ = [
    "ChainProfile",
    "FixedPoints",
    "GradientFlow",
    "TorchStack",
    "chain_profile",
    "fixed_points",
    "from_torch",
    "gradient_flow",
    "iter_jacobians",
    "jacobians",
    "load_torch",
    "states",
]
