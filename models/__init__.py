"""Recurrent models: cells, initialisations, and ``build``.

Examples
--------
>>> import models, torch
>>> model = models.build("exprnn", input_size=10, hidden_size=64, output_size=9, readout="all")
>>> model(torch.zeros(8, 30, 10)).shape
torch.Size([8, 30, 9])
"""

from models import errors, inits, tasks
from models.base import RecurrentModel
from models.build import KINDS, build
from models.checkpoint import Checkpoint, TensorInfo, list_tensors, load, save
from models.train import TrainResult, train

__all__ = [
    "KINDS",
    "Checkpoint",
    "RecurrentModel",
    "TensorInfo",
    "TrainResult",
    "build",
    "errors",
    "inits",
    "list_tensors",
    "load",
    "save",
    "tasks",
    "train",
]
