"""Server-rendered SVG geometry for the per-test A/B summary (no JavaScript, no CDN)."""

from dataclasses import dataclass

WIDTH, HEIGHT, MARGIN = 640, 260, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    positive: bool


@dataclass(frozen=True)
class DeltaChart:
    width: int
    height: int
    bars: list[Bar]
    zero_y: float
    mean_y: float | None
    ci_top: float | None
    ci_height: float | None


def delta_chart(
    deltas: list[tuple[str, int]], mean: float | None, low: float | None, high: float | None
) -> DeltaChart:
    """Lay out one bar per pair (token delta) around zero, with the mean and its CI band."""
    values = [value for _, value in deltas] + [v for v in (mean, low, high) if v is not None]
    top = max([0.0, *values])
    bottom = min([0.0, *values])
    span = (top - bottom) or 1.0
    plot_height = HEIGHT - 2 * MARGIN

    def y(value: float) -> float:
        return MARGIN + (top - value) / span * plot_height

    slot = (WIDTH - 2 * MARGIN) / max(len(deltas), 1)
    bars = []
    for index, (label, value) in enumerate(deltas):
        y_value, y_zero = y(value), y(0.0)
        bars.append(
            Bar(
                x=MARGIN + index * slot + slot * 0.15,
                y=min(y_value, y_zero),
                width=slot * 0.7,
                height=max(abs(y_zero - y_value), 1.0),
                label=label,
                value=value,
                positive=value >= 0,
            )
        )
    ci_top = y(high) if high is not None else None
    return DeltaChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        zero_y=y(0.0),
        mean_y=y(mean) if mean is not None else None,
        ci_top=ci_top,
        ci_height=(y(low) - ci_top) if low is not None and ci_top is not None else None,
    )


def summary_delta_chart(pair_token_deltas: list[dict], total: dict) -> DeltaChart:
    """The summary's chart: each valid pair's total token delta, with the mean of
    `total` ({mean, ci_low, ci_high}) and its confidence interval."""
    return delta_chart(
        [
            (f"{p['control_run']} → {p['treatment_run']}", p["token_delta"])
            for p in pair_token_deltas
        ],
        total["mean"],
        total["ci_low"],
        total["ci_high"],
    )
