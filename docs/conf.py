"""Sphinx configuration of the musiclass documentation site (``make docs``)."""

project = "musiclass"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc", "myst_nb"]
html_theme = "alabaster"
exclude_patterns = ["_build"]
nb_execution_mode = "off"
