"""The dashboard's chart geometry (pure): bars proportional to their values,
stacked without gaps or overlaps, inside the plot."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopack_site.dashboard import charts

values = st.integers(min_value=0, max_value=10**15)


@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda days: st.lists(
            st.lists(values, min_size=days, max_size=days), min_size=1, max_size=4
        )
    )
)
def test_stacked_bars_are_proportional_and_stay_inside_the_plot(columns):
    labels = [f"d{index}" for index in range(len(columns[0]))]
    series = {f"s{index}": column for index, column in enumerate(columns)}
    chart = charts.stacked_bars(labels, series)
    top_of_plot = charts.TOP
    assert chart.total == sum(map(sum, columns))
    assert len(chart.segments) == sum(1 for column in columns for value in column if value)
    by_bar: dict[str, list[charts.Segment]] = {}
    for segment in chart.segments:
        by_bar.setdefault(segment.label, []).append(segment)
        assert segment.value == series[segment.series][labels.index(segment.label)]
    for segments in by_bar.values():
        # Bottom first, each on the one below it, the stack's top within the plot.
        edge = chart.baseline_y
        for segment in segments:
            assert segment.y + segment.height == pytest.approx(edge, abs=1e-6)
            edge = segment.y
        assert edge >= top_of_plot - 1e-6
    # The same value is drawn the same height wherever it stands.
    heights = {}
    for segment in chart.segments:
        heights.setdefault(segment.value, set()).add(round(segment.height, 6))
    assert all(len(found) == 1 for found in heights.values())


def test_the_axis_top_is_a_round_number_at_or_above_the_tallest_bar():
    chart = charts.stacked_bars(["a", "b"], {"x": [30, 140], "y": [0, 5]})
    assert [tick.value for tick in chart.ticks] == [0, 40, 80, 120, 160, 200]
    tallest = min(segment.y for segment in chart.segments)
    assert tallest > charts.TOP  # 145 of 200: below the top


def test_an_empty_chart_has_no_segments_and_a_unit_axis():
    chart = charts.stacked_bars(["a"], {"x": [0]})
    assert chart.segments == [] and chart.total == 0
    assert [tick.value for tick in chart.ticks] == [0, 1]


@given(st.integers(min_value=0, max_value=10**15))
def test_axis_ticks_are_distinct_whole_values_up_to_the_top(tallest):
    ticks = charts.stacked_bars(["a"], {"x": [tallest]}).ticks
    values = [tick.value for tick in ticks]
    assert values[0] == 0 and values[-1] >= tallest
    assert values == sorted(set(values)) and len(values) >= 2
    steps = {b - a for a, b in itertools.pairwise(values)}
    assert len(steps) == 1  # evenly spaced


@pytest.mark.parametrize(
    "series, message",
    [({"x": [1]}, "has 1 values for 2 labels"), ({"x": [1, -1]}, "negative")],
)
def test_bad_series_are_refused(series, message):
    with pytest.raises(ValueError, match=message):
        charts.stacked_bars(["a", "b"], series)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60))
def test_a_sparkline_has_a_point_per_value_inside_its_box(values):
    line = charts.sparkline(values, width=120, height=24)
    points = [tuple(map(float, pair.split(","))) for pair in line.points.split()]
    assert len(points) == len(values)
    assert all(0 <= x <= 120 and 0 <= y <= 24 for x, y in points)
    assert line.peak == max(values)
    if line.peak:
        peak_y = min(y for _, y in points)
        assert points[values.index(line.peak)][1] == peak_y
