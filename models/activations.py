"""Point-wise nonlinearities of the recurrent cells, including modReLU."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["NONLINEARITIES", "activation", "modrelu"]

NONLINEARITIES: tuple[str, ...] = ("tanh", "relu", "elu", "modrelu")


def modrelu(z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    r"""ModReLU :math:`\operatorname{sign}(z)\, \operatorname{relu}(|z| + b)`.

    With :math:`b \le 0` it is 1-Lipschitz (zero on :math:`[-|b|, |b|]`, slope 1 outside); with
    :math:`b > 0` it jumps at 0.

    Parameters
    ----------
    z : (..., H) torch.Tensor
        Pre-activations.
    bias : (H,) torch.Tensor
        The learnable bias :math:`b`.

    Returns
    -------
    (..., H) torch.Tensor

    Examples
    --------
    >>> import torch
    >>> modrelu(torch.tensor([-2.0, 0.5, 3.0]), torch.tensor([-1.0, -1.0, 0.0]))
    tensor([-1.,  0.,  3.])
    """
    # |z| + b as sign(z) * z + b in one op; the sign is constant almost everywhere, so it is taken
    # outside autograd (saves a backward node per time step and gives the same gradients).
    s = torch.sign(z.detach())
    return s * F.relu(torch.addcmul(bias, s, z))


def activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the point-wise function named ``name`` (``tanh``, ``relu`` or ``elu``).

    Parameters
    ----------
    name : str
        One of ``"tanh"``, ``"relu"``, ``"elu"``; modReLU needs its bias and is applied with
        :func:`modrelu`.

    Returns
    -------
    callable
        Tensor-to-tensor function.

    Raises
    ------
    KeyError
        If ``name`` is not one of the three names (models validate their options first).

    Examples
    --------
    >>> import torch
    >>> activation("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return {"tanh": torch.tanh, "relu": torch.relu, "elu": F.elu}[name]
