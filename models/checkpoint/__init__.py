"""Checkpoints: save and load rnnscope models, and read recurrent weights from other code.

An rnnscope checkpoint is a directory with two files:

* ``model.safetensors`` (:data:`WEIGHTS_FILE`): the model's ``state_dict``;
* ``config.json`` (:data:`CONFIG_FILE`): ``kind``, ``input_size``, ``hidden_size``,
  ``output_size``, ``seed`` and ``options`` (the model's :attr:`~models.RecurrentModel.config`),
  ``task``, ``training``, ``metrics``, the library ``versions``, the SHA-256 of the weights file
  and any further metadata, with sorted keys.

:func:`load` also reads, for analysis only, files written by other code: ``torch.save``-d state
dicts of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, expRNN / dtriv, nnRNN and NRU checkpoints, and
bare matrices in ``.npy``, ``.npz``, ``.safetensors`` or torch files (see
:mod:`models.formats`). Files are never unpickled beyond tensors: torch files are read with
``torch.load(weights_only=True)`` and numpy files with ``allow_pickle=False``.

Matrices are always returned in the column convention :math:`h_t = f(W h_{t-1} + U x_t + b)`;
a matrix saved by row-vector code (Keras, TensorFlow: ``h @ W``) is transposed when loaded with
``convention="row"``.

The implementation is split by job: :mod:`~models.checkpoint.writing` (:func:`save`),
:mod:`~models.checkpoint.atomic` (crash-safe file replacement), :mod:`~models.checkpoint.reading`
(:func:`load`, :func:`read_config`), :mod:`~models.checkpoint.listing` (:func:`list_tensors`),
:mod:`~models.checkpoint.record` (:class:`Checkpoint`, :class:`TensorInfo`) and
:mod:`~models.checkpoint.layout` (file names).

Examples
--------
>>> import models, tempfile
>>> model = models.build("rnn", input_size=1, hidden_size=4, output_size=10)
>>> task = models.tasks.get("digits")
>>> folder = models.save(model, tempfile.mkdtemp(), task=task, metrics={"test_metric": 0.1})
>>> ckpt = models.load(folder)
>>> ckpt.task["name"], ckpt.metrics["test_metric"], tuple(ckpt.recurrent_matrix().shape)
('digits', 0.1, (4, 4))
"""

from __future__ import annotations

from models.checkpoint.layout import (
    CONFIG_FILE,
    FORMAT_VERSION,
    LOCK_FILE,
    METRICS_FILE,
    STATE_FILE,
    WEIGHTS_FILE,
)
from models.checkpoint.listing import list_tensors
from models.checkpoint.reading import load, read_config
from models.checkpoint.record import Checkpoint, TensorInfo
from models.checkpoint.writing import save

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "LOCK_FILE",
    "METRICS_FILE",
    "STATE_FILE",
    "WEIGHTS_FILE",
    "Checkpoint",
    "TensorInfo",
    "list_tensors",
    "load",
    "read_config",
    "save",
]
