"""File names and layout of an rnnscope checkpoint directory.

A checkpoint directory holds :data:`WEIGHTS_FILE` (the model's ``state_dict`` in safetensors)
and :data:`CONFIG_FILE` (JSON: the model's sizes, seed and options, its task, training settings
and metrics). :func:`models.train` adds :data:`METRICS_FILE` and :data:`STATE_FILE`, and holds
:data:`LOCK_FILE` while it writes.

Examples
--------
>>> from models.checkpoint import layout
>>> layout.WEIGHTS_FILE, layout.CONFIG_FILE
('model.safetensors', 'config.json')
"""

from __future__ import annotations

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "LOCK_FILE",
    "METRICS_FILE",
    "MODEL_KEYS",
    "STATE_FILE",
    "WEIGHTS_FILE",
]

#: Name of the weights file inside a checkpoint directory.
WEIGHTS_FILE = "model.safetensors"
#: Name of the configuration file inside a checkpoint directory.
CONFIG_FILE = "config.json"
#: Name of the per-step metrics log written by :func:`models.train`.
METRICS_FILE = "metrics.jsonl"
#: Name of the resume state written by :func:`models.train`.
STATE_FILE = "train_state.pt"
#: Name of the lock file held in a directory while it is being written.
LOCK_FILE = ".rnnscope.lock"
#: Version of the directory layout written by :func:`models.save`.
FORMAT_VERSION = 1
#: Keys of ``config.json`` that describe the model (``models.build(**...)`` arguments).
MODEL_KEYS = ("kind", "input_size", "hidden_size", "output_size", "seed", "options")

#: Keys of ``config.json`` that metadata passed to :func:`models.save` may not use.
RESERVED = (*MODEL_KEYS, "format", "format_version", "versions", "weights_sha256")
#: Files whose temporary copies (``.NAME.XXXXXXXX.tmp``) the writers create.
OWN_FILES = (WEIGHTS_FILE, CONFIG_FILE, METRICS_FILE, STATE_FILE)
