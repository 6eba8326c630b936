"""The flip-flop task now lives in :mod:`models.tasks.flipflop`; this name stays importable."""

from models.tasks.flipflop import FlipFlopTask

__all__ = ["FlipFlopTask"]
