"""Sphinx configuration for the rnnscope documentation.

The notebooks are rendered from their executed copies in ``docs/notebooks/`` (written by
``docs/execute_notebooks.py``, which ``make docs`` and the test suite run); myst-nb never executes
them again, so the docs show exactly the outputs that were tested.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "rnnscope"
author = "rnnscope developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "cli_reference",
    "papers_table",
]
numpydoc_show_class_members = False
autodoc_typehints = "none"
exclude_patterns = ["_build", "notebooks/.*", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
nb_execution_mode = "off"
nb_output_stderr = "remove-warn"
myst_enable_extensions = ["dollarmath", "amsmath"]
html_theme = "pydata_sphinx_theme"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []
intersphinx_mapping: dict[str, tuple[str, None]] = {}
