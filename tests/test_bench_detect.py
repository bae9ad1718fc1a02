"""bench/detect's split of false accepts into confusable words and other speech."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "bench" / "detect" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_detect_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_false_accepts_by_kind(bench) -> None:
    said = [{"start_s": 0.0, "end_s": 1.0, "text": "v: elixir"},          # a confusable
            {"start_s": 2.0, "end_s": 5.0, "text": "v: what time is it"},  # other speech
            {"start_s": 6.0, "end_s": 6.0, "text": "v: open"}]             # zero length
    fired = ["v: elixir", "v: elixir", "v: what time is it", "(noise or a gap)"]
    k = bench.by_kind(said, fired, hours=2.0)
    assert (k["fa_on_confusables"], k["fa_on_other_speech"]) == (2, 1)
    assert k["other_speech_share"] == pytest.approx(0.75)
    assert k["fa_per_hour_without_confusables"] == pytest.approx(1 / (2.0 * 0.75))
    assert bench.by_kind([], [], hours=1.0)["fa_per_hour_without_confusables"] is None
