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
from models.build import KINDS, build, register_kind, registered_kinds, unregister_kind
from models.checkpoint import (
    CONFIG_FILE,
    LOCK_FILE,
    METRICS_FILE,
    STATE_FILE,
    WEIGHTS_FILE,
    Checkpoint,
    TensorInfo,
    list_tensors,
    load,
    read_config,
    save,
)
from models.train import TrainResult, train
from models.train_config import TrainConfig, TrainStep

__all__ = [
    "CONFIG_FILE",
    "KINDS",
    "LOCK_FILE",
    "METRICS_FILE",
    "STATE_FILE",
    "WEIGHTS_FILE",
    "Checkpoint",
    "RecurrentModel",
    "TensorInfo",
    "TrainConfig",
    "TrainResult",
    "TrainStep",
    "build",
    "errors",
    "inits",
    "list_tensors",
    "load",
    "read_config",
    "register_kind",
    "registered_kinds",
    "save",
    "tasks",
    "train",
    "unregister_kind",
]
