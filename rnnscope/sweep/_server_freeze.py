"""Imported last by the worker server: keep the objects of its imports out of every collection.

The worker server (:mod:`rnnscope.sweep.server`) imports this module after the modules its
workers need. :func:`gc.freeze` moves every object that exists then (the modules, their
functions and constants: some 230,000 objects with torch, scipy and foolbox) to the permanent
generation. A worker forked from the server then never scans them in its collections: a
collection does not write to their pages, which stay shared with the server instead of being
copied, and takes less time. The server itself, when it ends, does not collect them again and
again while the interpreter shuts down. Objects are still freed when their last reference
goes. The collector, off during the imports (:mod:`rnnscope.sweep._server_start`), is then
turned on again: the workers inherit it on.

The freeze happens only in a process whose environment has ``RNNSCOPE_WORKER_SERVER=1``, which
:func:`rnnscope.sweep.server.start_worker_server` sets for the server: importing this module
anywhere else (a doctest collector, the documentation) changes nothing.
"""

from __future__ import annotations

import gc
import os

if os.environ.get("RNNSCOPE_WORKER_SERVER") == "1":
    gc.freeze()
    gc.enable()
