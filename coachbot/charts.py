"""The pain chart: daily pain over the program, phases as shaded bands, missed days as gaps,
flare-ups and escalations marked. Drawn with matplotlib's object API on the Agg canvas (no
pyplot, no global state); no Telegram, no SQL. matplotlib (and NumPy) are imported inside the
drawing functions, so the bot's process, which only builds the data, never loads them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coachbot.domain.progress import Progress

if TYPE_CHECKING:  # matplotlib is imported where it draws: in the renderer process only
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

# Colour-blind-safe (Okabe-Ito) shades for the phases, grey for "exercises stopped".
BAND_COLOURS = {
    "protect": "#E69F00",
    "isometric": "#F0E442",
    "mobility": "#009E73",
    "strength": "#56B4E9",
    "return": "#CC79A7",
    "maintain": "#0072B2",
    "escalated": "#777777",
    "paused": "#BBBBBB",
}
BAND_ALPHA = 0.25
NAMED_BAND_DAYS = 0.12  # a band this share of the chart wide or wider carries its name on top
LEVEL_COLOURS = {"emergency": "#B00020", "urgent": "#D55E00", "routine": "#6A3D9A"}
PHONE_SIZE = (8.0, 5.6)  # inches; 150 dpi gives 1200 x 840 px, sharp on a phone
PHONE_DPI = 150


@dataclass(frozen=True)
class ChartWords:
    """The chart's words, from the message catalogue."""

    title: str
    x_label: str
    y_label: str
    baseline: str
    missed: str
    flare_up: str
    escalation: str
    empty: str
    band_names: Mapping[str, str]  # phase id or status -> name


def draw(ax: Axes, progress: Progress, words: ChartWords, *, font: float = 12) -> list[Artist]:
    """Draw the chart on `ax` (the /progress picture and the report share this); return the
    legend's entries for the caller to place."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    last = max(progress.today, 1)
    ax.set_xlim(-0.5, last + 0.5)
    ax.set_ylim(-0.9, 11.4)
    ax.set_yticks(range(0, 11, 2))
    ax.set_xlabel(words.x_label, fontsize=font)
    ax.set_ylabel(words.y_label, fontsize=font)
    ax.tick_params(labelsize=font - 1)
    ax.grid(axis="y", color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    legend: list[Artist] = []
    shown: set[str] = set()
    for band in progress.bands:
        colour = BAND_COLOURS.get(band.label, "#EEEEEE")
        ax.axvspan(band.first - 0.5, band.last + 0.5, color=colour, alpha=BAND_ALPHA, linewidth=0)
        name = words.band_names.get(band.label, band.label)
        if band.last - band.first + 1 >= NAMED_BAND_DAYS * (last + 1):
            ax.text((band.first + band.last) / 2, 10.75, name, ha="center", va="top",
                    fontsize=font - 3, color="#333333", parse_math=False)  # fmt: skip
        if band.label not in shown:
            shown.add(band.label)
            legend.append(Patch(facecolor=colour, alpha=BAND_ALPHA * 2, label=name))
    ax.axhline(progress.baseline, color="#555555", linestyle="--", linewidth=1)
    legend.append(Line2D([], [], color="#555555", linestyle="--", label=words.baseline))
    if not progress.ratings:
        ax.text(last / 2, 5, words.empty, ha="center", va="center", fontsize=font,
                color="#444444", wrap=True, parse_math=False)  # fmt: skip
    # One point per day from day 1; a missed day is NaN, which breaks the line into a gap.
    by_day = dict(progress.ratings)
    days = list(range(1, last + 1))
    pain = [by_day.get(day, math.nan) for day in days]
    ax.plot(days, pain, color="#000000", linewidth=2, marker="o", markersize=3.5)
    legend.append(Line2D([], [], color="#000000", marker="o", markersize=4, label=words.y_label))
    if progress.missed:
        ax.plot(progress.missed, [-0.45] * len(progress.missed), linestyle="none", marker="|",
                markersize=7, color="#888888")  # fmt: skip
        legend.append(Line2D([], [], linestyle="none", marker="|", color="#888888",
                             markersize=8, label=words.missed))  # fmt: skip
    flares = [day for day in progress.flare_ups if day in by_day]
    if flares:
        ax.plot(flares, [by_day[day] for day in flares], linestyle="none", marker="*",
                markersize=15, color="#D55E00", markeredgecolor="#000000")  # fmt: skip
        legend.append(Line2D([], [], linestyle="none", marker="*", markersize=12,
                             color="#D55E00", label=words.flare_up))  # fmt: skip
    for escalation in progress.escalations:
        colour = LEVEL_COLOURS[escalation.level.value]
        ax.axvline(escalation.day, color=colour, linewidth=1.6)
        ax.plot([escalation.day], [10.0], marker="v", markersize=9, color=colour)
    if progress.escalations:
        legend.append(Line2D([], [], color=LEVEL_COLOURS["routine"], marker="v",
                             label=words.escalation))  # fmt: skip
    return legend


def chart_png(progress: Progress, words: ChartWords) -> bytes:
    """The /progress picture: a PNG sized for a phone screen."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=PHONE_SIZE, dpi=PHONE_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(words.title, fontsize=14, loc="left")
    legend = draw(ax, progress, words)
    figure.legend(handles=legend, loc="outside lower center", ncol=3, fontsize=10, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
