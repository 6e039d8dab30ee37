"""Small pieces the page's components share: a figure, a block of HTML, a percentage."""

from __future__ import annotations

from typing import Any

import solara
from matplotlib.figure import Figure

FIGURE_DPI = 80  # the page's figures: smaller PNGs, faster steps


def figure(fig: Figure, dependencies: list[Any] | None = None) -> None:
    """A matplotlib figure as a PNG (Solara's component; figures are built without pyplot)."""
    solara.FigureMatplotlib(fig, dependencies=dependencies, format="png", dpi=FIGURE_DPI)


def markup(text: str, tag: str = "div", style: str = "") -> None:
    """A block of HTML (escaped by the caller). Not Markdown: its scripts come from a CDN."""
    solara.HTML(tag=tag, unsafe_innerHTML=text, style=style)


def percent(p: float) -> str:
    """A probability as a percentage (a decimal below 1%)."""
    return f"{100 * p:.0f}%" if p >= 0.01 or p == 0 else f"{100 * p:.1f}%"
