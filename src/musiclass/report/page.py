"""The report's page layout: landscape A4 pages that text, tables and figures flow onto.

Text widths are measured, so nothing runs off a page. The module also holds the number formats
every page uses.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

#: landscape A4, inches
PAGE = (11.69, 8.27)


MARGIN = 0.6


DASH = "\u2013"


FONT = "DejaVu Sans"


#: networks per page of a results table, confusion matrices per page
TABLE_ROWS_PER_PAGE = 12


CONFUSIONS_PER_PAGE = (2, 3)


def _missing(v) -> bool:
    """None, NaN or pandas' NA."""
    try:
        return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v))
    except TypeError:
        return False


def _num(v, digits: int = 3) -> str:
    """A number with ``digits`` decimals, "–" when missing."""
    return DASH if _missing(v) else f"{float(v):.{digits}f}"


def _ci(v, lo, hi, digits: int = 3) -> str:
    """A point estimate and its interval: "0.866 [0.820, 0.900]" (the point alone without one)."""
    text = _num(v, digits)
    if not _missing(v) and not _missing(lo) and not _missing(hi):
        text += f" [{float(lo):.{digits}f}, {float(hi):.{digits}f}]"
    return text


def _signed(v, digits: int = 3) -> str:
    """A difference, always with its sign."""
    return DASH if _missing(v) else f"{float(v):+.{digits}f}"


def _pct(v) -> str:
    """A fraction as a whole percentage."""
    return DASH if _missing(v) else f"{float(v):.0%}"


@functools.lru_cache(maxsize=8192)
def _text_w(text: str, size: float, bold: bool = False) -> float:
    """The width of one line of text in the report's font, in inches (measured, not guessed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    if not text:
        return 0.0
    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    return TextToPath().get_text_width_height_descent(text, prop, ismath=False)[0] / 72


def _wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` inches."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(" "), ""
        for word in words:
            trial = f"{line} {word}" if line else word
            if line and _text_w(trial, size, bold) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def _shorten(text: str, width: float, size: float, bold: bool = False) -> str:
    """``text`` cut (with "…") to fit ``width`` inches."""
    if _text_w(text, size, bold) <= width:
        return text
    while len(text) > 1 and _text_w(text + "\u2026", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def _blank_page() -> tuple[Figure, Any]:
    """A landscape page whose axes spans it, in inches, y downwards."""
    fig = Figure(figsize=PAGE)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, PAGE[0])
    ax.set_ylim(PAGE[1], 0)
    return fig, ax


class _Flow:
    """Text pages laid out top-down: headings, paragraphs, bullets and tables, with page breaks
    (a table split over pages repeats its header). Coordinates in inches, y downwards."""

    TOP = MARGIN + 0.6

    def __init__(self, title: str):
        self.title = title
        self.pages: list[Figure] = []
        self.width = PAGE[0] - 2 * MARGIN
        self._new_page()

    def _new_page(self) -> None:
        fig, ax = _blank_page()
        title = self.title + (" (continued)" if self.pages else "")
        ax.text(MARGIN, MARGIN, title, fontsize=15, fontweight="bold", va="top", ha="left")
        ax.plot([MARGIN, PAGE[0] - MARGIN], [MARGIN + 0.38] * 2, color="black", lw=0.8)
        self.ax, self.y = ax, self.TOP
        self.pages.append(fig)

    def _room(self, height: float) -> None:
        if self.y + height > PAGE[1] - MARGIN and self.y > self.TOP:
            self._new_page()

    def space(self, height: float = 0.12) -> None:
        self.y += height

    def heading(self, text: str, size: float = 12, keep: float = 0.6) -> None:
        """A bold line, kept on one page with the next ``keep`` inches (a whole table when it fits)."""
        if keep > PAGE[1] - MARGIN - self.TOP - 0.4:
            keep = 0.6
        self._room(size / 72 * 1.6 + keep)  # never alone at the foot of a page
        self.y += 0.08
        self.ax.text(MARGIN, self.y, text, fontsize=size, fontweight="bold", va="top")
        self.y += size / 72 * 1.6

    def para(
        self, text: str, size: float = 9.5, indent: float = 0.0, bullet: str = "", **style
    ) -> None:
        hang = 0.22 if bullet else 0.0
        lines = _wrap(text, self.width - indent - hang, size)
        line_h = size / 72 * 1.45
        for i, line in enumerate(lines):
            self._room(line_h)
            if bullet and i == 0:
                self.ax.text(MARGIN + indent, self.y, bullet, fontsize=size, va="top", **style)
            self.ax.text(MARGIN + indent + hang, self.y, line, fontsize=size, va="top", **style)
            self.y += line_h
        self.y += line_h * 0.3

    @staticmethod
    def height(rows: int, size: float = 8.5, header_lines: int = 1) -> float:
        """At most the height of a table of ``rows`` rows at font ``size``."""
        return (rows + header_lines) * size / 72 * 1.65 + 0.2

    def bullets(
        self, items: Sequence[str], size: float = 9.5, indent: float = 0.1, **style
    ) -> None:
        for item in items:
            self.para(item, size=size, indent=indent, bullet="\u2022", **style)

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        size: float = 8.5,
        min_size: float = 5.5,
        note: str | None = None,
    ) -> None:
        """A table, one line per row (a header cell may hold "\\n"). The font shrinks (down to
        ``min_size``) until the table fits the page width, and cells are cut with "…" beyond
        that. A table that fits on a page is not split; a longer one flows over pages."""
        head = [str(c).split("\n") for c in columns]
        body = [["" if _missing(v) else str(v) for v in r] for r in rows]
        n, pad = len(head), 0.14

        def widths_at(sz: float) -> list[float]:
            return [
                max([_text_w(h, sz, True) for h in head[j]] + [_text_w(r[j], sz) for r in body])
                + pad
                for j in range(n)
            ]

        widths = widths_at(size)
        while sum(widths) > self.width and size > min_size:
            size = max(
                min_size,
                size * min(0.97, (self.width - n * pad) / max(sum(widths) - n * pad, 1e-6)),
            )
            widths = widths_at(size)
        while (
            sum(widths) > self.width + 1e-6
        ):  # still too wide at the smallest font: cut the widest column
            j = int(np.argmax(widths))
            widths[j] = max(pad + 0.2, widths[j] - max(sum(widths) - self.width, 0.05))
            body = [
                [_shorten(c, widths[j] - pad, size) if k == j else c for k, c in enumerate(r)]
                for r in body
            ]
            head[j] = [_shorten(h, widths[j] - pad, size, True) for h in head[j]]
        xs = np.concatenate([[MARGIN], MARGIN + np.cumsum(widths)])
        numeric = [
            any(r[j] for r in body) and all(_numberish(r[j]) for r in body if r[j])
            for j in range(n)
        ]
        line_h = size / 72 * 1.65
        head_h = line_h * max(len(h) for h in head)
        right = xs[-1]

        def cell(j: int, y: float, text: str, **kw) -> None:
            x, ha = (xs[j + 1] - pad / 2, "right") if numeric[j] else (xs[j] + pad / 2, "left")
            self.ax.text(x, y, text, fontsize=size, va="center", ha=ha, **kw)

        def header() -> None:
            self.ax.plot([MARGIN, right], [self.y] * 2, color="black", lw=1.0)
            for j, lines in enumerate(head):
                for k, text in enumerate(lines):  # bottom-aligned
                    cell(
                        j,
                        self.y + head_h - (len(lines) - k - 0.5) * line_h,
                        text,
                        fontweight="bold",
                    )
            self.y += head_h
            self.ax.plot([MARGIN, right], [self.y] * 2, color="black", lw=0.6)

        whole = head_h + line_h * len(body) + 0.1
        if self.y + whole > PAGE[1] - MARGIN and self.TOP + whole <= PAGE[1] - MARGIN:
            self._new_page()  # fits on a page of its own: keep it together
        self._room(head_h + line_h * min(len(body), 3))
        header()
        for i, row in enumerate(body):
            if self.y + line_h > PAGE[1] - MARGIN:
                self.ax.plot([MARGIN, right], [self.y] * 2, color="black", lw=1.0)
                self._new_page()
                header()
            if i % 2 == 1:
                self.ax.add_patch(
                    Rectangle(
                        (MARGIN, self.y), right - MARGIN, line_h, color="#f0f0f0", lw=0, zorder=0
                    )
                )
            for j, text in enumerate(row):
                cell(j, self.y + line_h / 2, text)
            self.y += line_h
        self.ax.plot([MARGIN, right], [self.y] * 2, color="black", lw=1.0)
        self.y += 0.08
        if note:
            self.para(note, size=max(7.0, size - 0.5), color="dimgray", style="italic")
        self.y += 0.1


def _numberish(text: str) -> bool:
    """Whether a cell reads as a number (right-aligned)."""
    head = text.lstrip("+-\u2212")[:1]
    return head.isdigit() or text == DASH


def _folded(columns: list[str], rows: list[list], max_rows: int) -> tuple[list[str], list[list]]:
    """A long narrow table as side-by-side blocks of at most ``max_rows`` rows (up to 4 blocks)."""
    blocks = min(4, max(1, -(-len(rows) // max_rows)))
    per = -(-len(rows) // blocks)
    out = []
    for i in range(per):
        line: list = []
        for b in range(blocks):
            k = b * per + i
            line += rows[k] if k < len(rows) else [""] * len(columns)
        out.append(line)
    return columns * blocks, out
