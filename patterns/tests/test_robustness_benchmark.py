"""The robustness benchmark and the targets it holds (when the bench data is here)."""

import json

import pytest

from patterns.benchmarks import robustness
from patterns.tests.test_grouping_benchmark import BENCH_DIR, needs_data


@needs_data
def test_every_rendering_keeps_the_pattern_and_mixing_costs_no_quality(capsys):
    assert robustness.main([str(BENCH_DIR), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)  # one document, nothing else
    assert set(figures) == {"bare", "mixed", "renderings"}
    names = [row["name"] for row in figures["renderings"]]
    assert len(names) >= 12 and set(names) == set(robustness.RENDERINGS)
    for row in figures["renderings"]:
        assert row["messages"] > 0
        assert row["unchanged_share"] >= 0.98, row
    assert figures["mixed"]["FGA"] >= figures["bare"]["FGA"] - 0.02
    assert figures["bare"]["FGA"] >= 0.40  # the real set's unsupervised FGA holds


def test_renderings_are_seeded_and_keep_the_message():
    messages = ["No module named 'yaml'", "Builder produced an empty patch"]
    first = robustness.rendered_corpus(messages)
    assert first == robustness.rendered_corpus(messages)
    for item in first:
        if item.rendering != "value_swaps":
            assert messages[item.source] in item.text
    swapped = [item for item in first if item.rendering == "value_swaps"]
    assert [item.source for item in swapped] == [0]  # only the message with a slot
    assert "'yaml'" not in swapped[0].text


@pytest.mark.parametrize("rendering", sorted(robustness.RENDERINGS))
def test_each_rendering_is_a_function_of_message_and_seed(rendering):
    import random

    render = robustness.RENDERINGS[rendering]
    one = render("table runs has no column named foo", random.Random(7))
    assert one == render("table runs has no column named foo", random.Random(7))
