"""Threshold choice for a false-accept budget (kwshost.evaluate.frr_at)."""

from __future__ import annotations

from kwshost import evaluate as ev


def _curve(rows: list[tuple[int, float, float]]) -> dict:
    return {"threshold": [r[0] for r in rows], "frr": [r[1] for r in rows],
            "fa_per_hour": [r[2] for r in rows]}


def test_lowest_frr_within_the_budget() -> None:
    curve = _curve([(100, 0.02, 40.0), (150, 0.05, 20.0), (200, 0.10, 5.0), (250, 0.40, 0.0)])
    assert ev.frr_at(curve, 25.0) == (0.05, 150)
    assert ev.frr_at(curve, 5.0) == (0.10, 200)
    assert ev.frr_at(curve, 100.0) == (0.02, 100)


def test_a_tie_in_frr_goes_to_fewer_false_accepts_then_the_higher_threshold() -> None:
    """Session 4 found a rule that took the lower of equal-FRR thresholds: more false accepts
    for no more keywords."""
    curve = _curve([(180, 0.05, 30.0), (190, 0.05, 22.0), (200, 0.05, 22.0), (210, 0.08, 10.0)])
    assert ev.frr_at(curve, 30.0) == (0.05, 200)


def test_no_threshold_meets_the_budget() -> None:
    curve = _curve([(100, 0.02, 40.0), (250, 0.40, 3.0)])
    assert ev.frr_at(curve, 1.0) is None
