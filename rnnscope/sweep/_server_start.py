"""Imported first by the worker server: no cyclic garbage collection while it imports.

The worker server (:mod:`rnnscope.sweep.server`) does nothing but import the modules of its
workers, whose objects live as long as the process. Python's cyclic collector would still run
every few hundred allocations and scan the growing heap again and again: about a fifth of the
CPU time of those imports here. This module turns the collector off;
:mod:`rnnscope.sweep._server_freeze`, imported last, freezes what the imports made and turns
it on again, so that every worker forked from the server collects as usual. This is the order
that the documentation of :func:`gc.freeze` gives for a process that forks without exec.

As there, nothing happens unless the environment has ``RNNSCOPE_WORKER_SERVER=1``, which only
the server's has.
"""

from __future__ import annotations

import gc
import os

if os.environ.get("RNNSCOPE_WORKER_SERVER") == "1":
    gc.disable()
