"""``report.pdf``: one multi-page PDF that tells the story of a run folder, read from its results registry.

:func:`build_report` reads a run folder as :func:`musiclass.demo.run_demo` (or ``musiclass run``)
writes it (``genre/`` and/or ``mood/`` study folders with ``registry/*.json``, ``stores/``, ``models/``;
a single study folder works too) and writes, with matplotlib's ``PdfPages`` only::

    1  title page: dataset, profile, preset, date, version, contents; a SYNTHETIC-data warning
    2  the protocol: the original study's vs ours; training and frontend settings of this run
    3  the data: tracks and frames per class, every split's sizes and its measured leak
    4  genre results with 95 % intervals                 5  the leak: frame split vs song split
    6  confusion matrices under our split                 7  classical baselines, both protocols
    8  the original study's reported figures beside ours  9  mood: results, per-tag ROC-AUC,
                                                             resampled tag counts, MediaEval references

Everything shown is read from the run; only the protocol description and the published reference
figures (:mod:`musiclass.reference`) are fixed text. A section whose data the run lacks is left out
and named, with the reason, in the contents of the title page. Text is embedded as TrueType
(``pdf.fonttype`` 42), so it can be searched and extracted; figures stay vector graphics. The PDF
is written to a temporary file and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

from .. import __version__
from ..registry import load_run, shown_path
from ..utils import atomic_path
from .page import FONT
from .page import _Flow as _Flow  # re-exported: the tests lay text out on a page
from .sections import (
    SECTIONS,
    _beside,
    _classical,
    _confusions,
    _data,
    _genre_results,
    _leak,
    _mood,
    _protocol,
    _Report,
    _settings,
    _title_page,
)

__all__ = ["build_report", "SECTIONS"]


def build_report(run_dir: str | Path, out: str | Path = "report.pdf", *, echo=print) -> Path:
    """Write the report of the run folder ``run_dir`` to ``out`` (a PDF; written atomically).

    See the module docstring for the pages.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A run folder (``musiclass demo``) or one study folder (``musiclass run``).
    out : str or pathlib.Path, default="report.pdf"
        The PDF; a path like any other (relative to the working directory; the command line's
        default is ``RUN_DIR/report.pdf``).
    echo : callable, default=print
        Called with progress lines and, at the end, the file written and its number of pages.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    musiclass.errors.FileError
        Naming ``run_dir`` when it is missing or holds no results.
    musiclass.errors.MetadataError
        If a registry record or a settings file of the run is not valid JSON.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    run = load_run(run_dir)
    out = Path(out)
    with mpl.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42, "font.family": FONT}):
        report = _Report(run, echo)
        for section in (
            _protocol,
            _settings,
            _data,
            _genre_results,
            _leak,
            _confusions,
            _classical,
            _beside,
            _mood,
        ):
            section(report)
        title = _title_page(report, __version__)
        with atomic_path(out) as tmp:
            with PdfPages(
                tmp,
                metadata={
                    "Title": "musiclass report",
                    "Subject": f"run folder {shown_path(run.folder)}",
                    "Creator": f"musiclass {__version__}",
                },
            ) as pdf:
                pdf.savefig(title)
                for _, fig in report.pages:
                    pdf.savefig(fig)
                n_pages = pdf.get_pagecount()
    echo(f"wrote {out} ({n_pages} pages)")
    return out
