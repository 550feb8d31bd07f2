"""The clinician report: one A4 page a physiotherapist or doctor can read in a minute.

Laid out with matplotlib (the same library as the chart, so one dependency draws both) on its
PDF backend; text is placed line by line from the top, the chart sits in the middle. The service
prepares every line (coachbot/services/progress.py); nothing here reads storage or Telegram.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coachbot.charts import ChartWords, draw
from coachbot.content import Exercise
from coachbot.domain.progress import Progress

if TYPE_CHECKING:  # matplotlib is imported where it draws: in the renderer process only
    from matplotlib.figure import Figure

A4 = (8.27, 11.69)  # inches
MARGIN = 0.06  # of the page width/height
LINE = 0.0135  # one 8-point line, as a share of the page height
TEXT_WIDTH = A4[0] * (1 - 2 * MARGIN) * 72  # points
MAX_LINES = 6  # per section; older entries are summarised in one line
CHART_HEIGHT = 0.2  # of the page
STILL = (0.14, 0.07)  # an exercise still's width and height, as a share of the page
STILLS_PER_ROW = 6


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ReportData:
    title: str
    subtitle: str  # produced when, covering which days
    disclaimer: str
    before_chart: tuple[Section, ...]
    after_chart: tuple[Section, ...]
    progress: Progress
    chart: ChartWords
    more: str  # "... and {count} earlier" (an already formatted template with {count})
    footer: str = ""  # replaces the closing disclaimer when the page ran out of room
    exercises: tuple[Exercise, ...] = ()  # today's: a small still of each beside the list


def _fit(section: Section, more: str) -> Section:
    """At most MAX_LINES lines: the most recent, and a line saying how many were left out."""
    if len(section.lines) <= MAX_LINES:
        return section
    kept = section.lines[-(MAX_LINES - 1) :]
    return Section(section.heading, (more.format(count=len(section.lines) - len(kept)), *kept))


class _Writer:
    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.y = 1 - MARGIN
        self.full = False

    def text(self, text: str, *, size: float = 8, weight: str = "normal", gap: float = 1.0,
             colour: str = "#000000") -> None:  # fmt: skip
        # DejaVu Sans averages about 0.52 em a character (0.6 bold) in English text.
        width = int(TEXT_WIDTH / (size * (0.6 if weight == "bold" else 0.52)))
        for line in textwrap.wrap(text, width) or [""]:
            if self.y < MARGIN + LINE:  # the page is full: one page, always
                self.full = True
                return
            self.figure.text(MARGIN, self.y, line, fontsize=size, fontweight=weight,
                             va="top", color=colour, parse_math=False)  # fmt: skip
            self.y -= LINE * size / 8 * gap

    def section(self, section: Section, more: str) -> None:
        section = _fit(section, more)
        self.y -= LINE * 0.4
        self.text(section.heading, size=9.5, weight="bold")
        for line in section.lines:
            self.text(line)


def _stills(figure: Figure, writer: _Writer, exercises: tuple[Exercise, ...]) -> None:
    """A small key-frame picture of each of today's exercises, named, under their list."""
    from matplotlib.image import imread

    from coachbot.pictures import still_png

    for index, exercise in enumerate(exercises):
        row, column = divmod(index, STILLS_PER_ROW)
        top = writer.y - LINE * 0.5 - row * (STILL[1] + LINE * 1.5)
        if top - STILL[1] - LINE < MARGIN:
            writer.full = True
            return
        ax = figure.add_axes((MARGIN + column * (STILL[0] + 0.01), top - STILL[1], *STILL))
        ax.imshow(imread(io.BytesIO(still_png(exercise)), format="png"))
        ax.set_axis_off()
        figure.text(MARGIN + column * (STILL[0] + 0.01), top - STILL[1] - LINE * 0.2,
                    exercise.name, fontsize=5.5, va="top", parse_math=False)  # fmt: skip
    if exercises:
        rows = (len(exercises) - 1) // STILLS_PER_ROW + 1
        writer.y -= LINE * 0.5 + rows * (STILL[1] + LINE * 1.5)


def report_pdf(data: ReportData) -> bytes:
    """The report as a one-page PDF."""
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.figure import Figure

    figure = Figure(figsize=A4)
    FigureCanvasPdf(figure)
    writer = _Writer(figure)
    writer.text(data.title, size=13, weight="bold", gap=1.4)
    writer.text(data.subtitle, size=8.5, colour="#444444")
    writer.text(data.disclaimer, size=8.5, weight="bold", colour="#B00020", gap=1.2)
    for section in data.before_chart:
        writer.section(section, data.more)
    writer.y -= LINE
    ax = figure.add_axes((MARGIN + 0.05, writer.y - CHART_HEIGHT, 1 - 2 * MARGIN - 0.06,
                          CHART_HEIGHT))  # fmt: skip
    legend = draw(ax, data.progress, data.chart, font=8)
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5,
              fontsize=6.5, frameon=False)  # fmt: skip
    writer.y -= CHART_HEIGHT + 0.085  # the axis label and the legend sit under the axes
    for section in data.after_chart:
        writer.section(section, data.more)
    _stills(figure, writer, data.exercises)
    figure.text(MARGIN, MARGIN / 2, data.footer if writer.full else data.disclaimer, fontsize=7, color="#444444",
                parse_math=False)  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf", metadata={"Title": data.title, "Creator": "coachbot"})
    return buffer.getvalue()
