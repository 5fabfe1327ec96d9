"""Server-rendered SVG geometry for the dashboard's charts (no JavaScript, no CDN).

Pure: numbers in, rectangles and points out. Templates draw them, each shape with
a `<title>` naming its value, so a screen reader and a hover both read the figure.
"""

from dataclasses import dataclass

WIDTH, HEIGHT = 720, 240
MAX_BAR_WIDTH = 48  # a chart of two bars stays a bar chart
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 36


@dataclass(frozen=True)
class Segment:
    """One series' part of one bar."""

    x: float
    y: float
    width: float
    height: float
    series: str
    series_index: int  # its place in the legend (its colour)
    value: int
    label: str  # the bar's label (a day)


@dataclass(frozen=True)
class AxisTick:
    y: float
    value: int


@dataclass(frozen=True)
class StackedChart:
    width: int
    height: int
    segments: list[Segment]
    labels: list[tuple[float, str]]  # (x of the bar's centre, label) for a readable subset
    ticks: list[AxisTick]
    series: list[str]  # legend order, bottom of the stack first
    total: int
    baseline_y: float


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above value (an axis top)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # unreachable: 10 × magnitude > value by construction


def stacked_bars(
    labels: list[str], series: dict[str, list[int]], *, label_every: int = 5
) -> StackedChart:
    """One bar per label, each series stacked in the dict's order (bottom first).
    Zero values draw nothing; every series must have one value per label."""
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
        if any(value < 0 for value in values):
            raise ValueError(f"series {name!r} has a negative value")
    totals = [sum(values[index] for values in series.values()) for index in range(len(labels))]
    top = _nice_ceiling(max(totals, default=0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(labels), 1)
    bar_width = min(slot * 0.8, MAX_BAR_WIDTH)
    segments = []
    for index, label in enumerate(labels):
        stacked = 0
        for series_index, (name, values) in enumerate(series.items()):
            value = values[index]
            if value == 0:
                continue
            height = value / top * plot_height
            y = baseline - (stacked + value) / top * plot_height
            segments.append(
                Segment(
                    x=LEFT + index * slot + (slot - bar_width) / 2,
                    y=y,
                    width=bar_width,
                    height=height,
                    series=name,
                    series_index=series_index,
                    value=value,
                    label=label,
                )
            )
            stacked += value
    every = max(label_every, 1)
    shown = [
        (LEFT + index * slot + slot / 2, label)
        for index, label in enumerate(labels)
        if index % every == 0 or index == len(labels) - 1
    ]
    # Gridlines at whole values: top is 1, 2 or 5 × 10^k, so one of these divides it.
    divisions = next(count for count in (5, 4, 2, 1) if top % count == 0)
    ticks = [
        AxisTick(y=baseline - step / divisions * plot_height, value=top * step // divisions)
        for step in range(divisions + 1)
    ]
    return StackedChart(
        width=WIDTH,
        height=HEIGHT,
        segments=segments,
        labels=shown,
        ticks=ticks,
        series=list(series),
        total=sum(totals),
        baseline_y=baseline,
    )


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: str  # an SVG polyline's points attribute
    values: list[int]
    peak: int


def sparkline(values: list[int], *, width: int = 120, height: int = 24) -> Sparkline:
    """A small line of values over equal steps, scaled to its own peak."""
    peak = max(values, default=0)
    steps = max(len(values) - 1, 1)
    scale = (height - 2) / peak if peak else 0.0
    points = " ".join(
        f"{index * (width - 2) / steps + 1:.1f},{height - 1 - value * scale:.1f}"
        for index, value in enumerate(values)
    )
    return Sparkline(width=width, height=height, points=points, values=values, peak=peak)
