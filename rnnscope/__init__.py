"""rnnscope: robustness and spectral analysis of recurrent neural networks.

The command line (``rnnscope``) trains models, analyzes the recurrent matrices of checkpoints,
attacks models on their tasks and writes reports; see :mod:`rnnscope.cli`.
"""

from __future__ import annotations

import importlib.metadata

__all__ = ["__version__"]

try:
    __version__ = importlib.metadata.version("rnnscope")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"
