"""Threshold choice for a false-accept budget (frr_at), keyword matching and detector tuning."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from kwshost import evaluate as ev
from kwshost.cli import main
from kwshost.detector import one_threshold
from kwshost.metadata import read_params
from kwshost.paths import REPO_ROOT


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


def test_intervals_of_an_frr_and_a_false_accept_rate() -> None:
    """Wilson's interval for a proportion and Garwood's for a Poisson rate (values from their
    formulas' tables)."""
    assert ev.proportion_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert ev.proportion_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert ev.proportion_interval(160, 160)[1] == 1.0
    assert ev.rate_interval(0, 1.0) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert ev.rate_interval(10, 2.0) == pytest.approx((4.795 / 2, 18.39 / 2), abs=1e-2)
    with pytest.raises(ValueError):
        ev.proportion_interval(0, 0)


def test_paired_comparison_counts_discordant_keywords() -> None:
    """Which keywords a detection list hits (match's rule), and McNemar's exact test on two
    models' hits: 9 found by one only against 1 by the other is p = 0.021 (2 x 11/1024)."""
    events = [(1.0, 1.5), (3.0, 3.5), (5.0, 5.5)]
    hit = ev.found([1.2, 1.3, 9.0, 5.4], events)
    assert hit.tolist() == [True, False, True]
    assert ev.match([1.2, 1.3, 9.0, 5.4], events, 1.0) == (2, 1)   # 1.3: the same keyword
    a = [1] * 9 + [0] + [1] * 20
    b = [0] * 9 + [1] + [1] * 20
    c = ev.paired(a, b)
    assert (c["only_a"], c["only_b"]) == (9, 1)
    assert c["p_value"] == pytest.approx(2 * 11 / 1024)
    assert ev.paired(a, a) == {"only_a": 0, "only_b": 0, "p_value": 1.0}
    with pytest.raises(ValueError):
        ev.paired(a, b[:-1])


def test_match_hits_each_keyword_once_and_counts_the_rest() -> None:
    events = [(1.0, 2.0), (1.5, 2.5), (10.0, 11.0)]
    # 1.8 hits the first, 2.2 the second (the first is taken), 2.4 lands in taken keywords
    # only (no false accept), 5 is a false accept, 11.9 hits the third within the tolerance.
    assert ev.match([1.8, 2.2, 2.4, 5.0, 11.9], events, 1.0) == (3, 1)
    assert ev.match([0.5, 12.5], events, 1.0) == (0, 2)
    assert ev.match([1.0, 3.0], [], 1.0) == (0, 2)


def test_tune_finds_the_window_that_separates_keywords_from_near_misses() -> None:
    """Keywords score high on two inferences in a row; a near miss on two inferences 400 ms
    apart. Only a window of two results (200 ms) has neither misses nor false accepts: one
    result fires on each near-miss peak, three or more average a keyword as low as a near
    miss."""
    import numpy as np

    kw, near, quiet = "11", "101", "0" * 10
    pattern = (quiet + kw) * 10 + (quiet + near) * 10 + quiet
    scores = np.array([(127, -128) if c == "1" else (-128, 127) for c in pattern], np.int8)
    times = 1000 + 200 * np.arange(len(pattern))
    starts = [(1000 + 200 * (i * 12 + 10)) / 1000 for i in range(10)]
    result = ev.StreamResult("synthetic", times[-1] / 1000, 10, 0, 0, [], scores, times,
                             [(s, s + 0.2) for s in starts])
    params = {"classes": ["alexa", "_unknown_"], "average_window_duration_ms": 1000,
              "minimum_count": 3, "detection_threshold": 200, "suppression_ms": 900}
    t = ev.tune([result], params, fa_per_hour=0.0)
    assert t["interval_ms"] == 200
    by_window = {r["average_window_duration_ms"]: r for r in t["windows"]}
    assert t["choice"] is by_window[200]
    assert (t["choice"]["frr"], t["choice"]["fa_per_hour"]) == (0.0, 0.0)
    assert t["choice"]["minimum_count"] == 2        # the model's 3, capped at the window's 2
    assert by_window[0]["frr"] is None              # one result: a near miss always fires
    assert by_window[400]["frr"] == 1.0             # three: silent, or fires on near misses
    curve = t["_curves"][200]
    assert ev.stricter(curve, 254) is None
    step = ev.stricter(curve, 0)
    assert step is not None and step[2] < curve["fa_per_hour"][0]


MODEL = REPO_ROOT / "models" / "alexa_kwshost.tflite"


@pytest.fixture(scope="module")
def streams(tmp_path_factory) -> list[str]:
    """A short keyword stream and a short speech stream, as --stream/--events arguments."""
    d = tmp_path_factory.mktemp("streams")
    kw, speech = d / "kw.wav", d / "speech.wav"
    assert main(["dataset", "stream", str(kw), "--keywords", "--minutes", "0.4",
                 "--seed", "5"]) == 0
    assert main(["dataset", "stream", str(speech), "--minutes", "0.3", "--seed", "5"]) == 0
    return ["--stream", str(kw), "--events", str(kw.with_suffix(".json")),
            "--stream", str(speech), "--events", str(speech.with_suffix(".json"))]


def test_tuned_model_gives_what_the_tuning_checked(tmp_path, capsys, streams) -> None:
    """`evaluate --tune --tuned-model`: the written model carries the chosen settings, and the
    device pipeline with it gives exactly the figures the tuning reported."""
    model, tuned = MODEL, tmp_path / "tuned.tflite"
    speech = streams[streams.index("--stream", 1) + 1]
    capsys.readouterr()
    assert main(["evaluate", str(model), *streams, "--fa-per-hour", "200",
                 "--tuned-model", str(tuned), "--json"]) == 0
    t = json.loads(capsys.readouterr().out)["tuning"]
    choice, checked = t["choice"], t["checked"]
    params, before = read_params(tuned), read_params(model)
    assert t["interval_ms"] == before["latency_ms"]
    assert len(t["windows"]) == ev.tune_results(t["interval_ms"]) + 1
    assert t["windows"][-1]["average_window_duration_ms"] >= min(ev.TUNE_WINDOW_MS,
                                                                 6 * t["interval_ms"])
    for key in ("average_window_duration_ms", "minimum_count", "detection_threshold"):
        assert params.pop(key) == choice[key]
        before.pop(key)
    assert params == before                         # every other parameter as it was
    assert checked["detection_threshold"] == choice["detection_threshold"]
    assert main(["evaluate", str(tuned), *streams, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{")   # the progress bar keeps to stderr: `--json | jq` reads JSON only
    s = json.loads(out)["stream"]
    assert (s["hits"], s["false_accepts"]) == (checked["hits"], checked["false_accepts"])
    lo, hi = s["frr_interval"]
    assert lo <= s["frr"] <= hi and hi - lo > 0
    lo, hi = s["fa_per_hour_interval"]
    assert lo <= s["fa_per_hour"] < hi
    assert main(["evaluate", str(model), "--stream", speech, "--tune"]) == 2
    assert "needs streams with keyword events" in capsys.readouterr().err


def test_a_model_naming_no_threshold_is_reported_at_the_detectors_default(tmp_path, capsys,
                                                                          streams) -> None:
    """A model without detection_threshold (or name) in its metadata was reported "at
    threshold None" for "(None)": the detector runs it at its default, which is what counts."""
    from kwshost.detector import DetectorSettings
    from kwshost.metadata import write_params

    params = {k: v for k, v in read_params(MODEL).items()
              if k not in ("detection_threshold", "name")}
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(write_params(MODEL, params))
    speech = streams[streams.index("--stream", 1) + 1]
    default = DetectorSettings(classes=()).detection_threshold
    capsys.readouterr()
    assert main(["evaluate", str(bare), "--stream", speech]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and f"at threshold {default} (the detector's default" in out
    assert main(["evaluate", str(bare), "--stream", speech, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stream"]["threshold"] == default
    # The C detector's default is the one reported: the same figures as naming it outright.
    named = tmp_path / "named.tflite"
    named.write_bytes(write_params(MODEL, {**params, "detection_threshold": default}))
    assert main(["evaluate", str(named), "--stream", speech, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stream"]["false_accepts"] == \
        ev.stream(bare, Path(speech), None).false_accepts


def test_no_tuned_model_when_the_device_pipeline_stays_over_the_budget(tmp_path, capsys,
                                                                        monkeypatch,
                                                                        streams) -> None:
    """When the device-pipeline check fires more than the budget even after the threshold is
    raised, --tuned-model writes nothing, says why, and exits 1."""
    real = ev.stream
    checks = []

    def noisy_check(*args, params=None, **kwargs):
        r = real(*args, params=params, **kwargs)
        if params is not None:     # only the check after the sweep passes settings
            checks.append(params["detection_threshold"])
            r = dataclasses.replace(r, false_accepts=r.false_accepts + 1000)
        return r

    monkeypatch.setattr(ev, "stream", noisy_check)
    tuned = tmp_path / "tuned.tflite"
    capsys.readouterr()
    assert main(["evaluate", str(MODEL), *streams, "--fa-per-hour", "200",
                 "--tuned-model", str(tuned)]) == 1
    out = capsys.readouterr().out
    assert not tuned.exists()
    assert "not written: the device pipeline still gives" in out
    assert len(checks) >= 1 and checks == sorted(checks)    # each retry is stricter


def test_false_accepts_are_named_by_what_was_said(tmp_path) -> None:
    """A detection on a keyword is a hit; the others are named by the utterance they fired on
    (from the events file's "said" list), or as a gap; without "said" nothing is named."""
    import argparse

    from kwshost.cli.evaluate import _fired_on

    events = tmp_path / "s.json"
    events.write_text(json.dumps({"duration_s": 20, "events": [
        {"label": "alexa", "start_s": 1.0, "end_s": 1.6}], "said": [
        {"start_s": 5.0, "end_s": 5.5, "text": "elixir", "kind": "confusable"},
        {"start_s": 9.0, "end_s": 11.0, "text": "turn on the lights", "kind": "sentence"}]}))
    r = ev.StreamResult("s.wav", 20.0, 1, 1, 3, detections=[1.4, 5.9, 11.8, 16.0],
                        events=[(1.0, 1.6)])
    fired = _fired_on(argparse.Namespace(events=[events]), [r])
    assert [(f["time_s"], f["text"], f["kind"]) for f in fired] == [
        (5.9, "elixir", "confusable"), (11.8, "turn on the lights", "sentence"),
        (16.0, ev.GAP, "gap")]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"duration_s": 20, "events": []}))
    assert _fired_on(argparse.Namespace(events=[bare]), [r]) is None
    assert _fired_on(argparse.Namespace(events=None), [r]) is None


def test_fit_window_centres_a_short_clip_and_keeps_the_loudest_part_of_a_long_one() -> None:
    import numpy as np

    word = (np.sin(np.arange(4000) / 5) * 8000).astype(np.int16)
    padded = np.concatenate([np.zeros(6000, np.int16), word, np.zeros(9000, np.int16)])
    out = ev.fit_window(padded, 19200)
    assert out.shape == (19200,) and out.dtype == np.int16
    nz = np.flatnonzero(out)
    # the silence around the word is trimmed (to 256-sample frames) and the word centred
    assert abs((nz[0] + nz[-1]) / 2 - 19200 / 2) < 300
    quiet = (np.sin(np.arange(40000) / 7) * 300).astype(np.int16)
    loud_at = 25000
    quiet[loud_at:loud_at + 4000] = word
    out = ev.fit_window(quiet, 19200)
    assert out.shape == (19200,)
    # the whole loud part is inside the window
    assert np.sum(out.astype(np.int64) ** 2) >= np.sum(word.astype(np.int64) ** 2)


@pytest.mark.skipif(__import__("shutil").which("espeak-ng") is None, reason="espeak-ng missing")
def test_evaluate_data_takes_labelled_recordings(tmp_path, capsys, caplog) -> None:
    import logging
    import shutil
    import subprocess

    import numpy as np
    from kwshost import frontend
    from kwshost.audio import read_wav

    rec = tmp_path / "rec"
    for label, texts in (("alexa", ["alexa", "alexa", "alexa"]),
                         ("_unknown_", ["banana", "the weather today", "election"])):
        (rec / label).mkdir(parents=True)
        for i, (text, voice) in enumerate(zip(texts, ["en", "en-us", "en-gb-x-rp"],
                                              strict=True)):
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(rec / label / f"{i}.wav"),
                            text], check=True)
    model = REPO_ROOT / "models" / "alexa_kwshost.tflite"
    with caplog.at_level(logging.WARNING, logger="kwshost.audio"):
        assert main(["evaluate", str(model), "--data", str(rec), "--json"]) == 0
    clips = json.loads(capsys.readouterr().out)["clips"]
    # espeak speaks at 22,050 Hz: one notice for the six conversions, not six
    assert len(caplog.records) == 1 and "6 of 6 recordings converted" in caplog.text
    assert clips["examples"] == 6 and clips["accuracy"] >= 5 / 6
    # The features are `kwshost features --warmup 1000`'s of the fitted clip.
    settings = frontend.FrontendSettings.from_params(read_params(model))
    items = ev.recordings(rec, ["alexa", "_unknown_"])
    x, y = ev.recording_features(items, settings)
    clip = ev.fit_window(read_wav(items[0][0], 16000), settings.sample_length)
    assert np.array_equal(x[0], frontend.spectrogram(clip, settings, warmup=1000))
    assert y.tolist() == [0, 0, 0, 1, 1, 1]
    # Clips of one class: no ROC AUC and no recall for the absent class, said so.
    one = tmp_path / "one"
    shutil.copytree(rec / "alexa", one / "alexa")
    assert main(["evaluate", str(model), "--data", str(one)]) == 0
    out = capsys.readouterr().out
    assert "ROC AUC n/a" in out and "recall n/a" in out
    # A class no clip was predicted as has no precision either (0/0), not 0.
    assert main(["evaluate", str(model), "--data", str(one), "--json"]) == 0
    unknown = json.loads(capsys.readouterr().out)["clips"]["per_class"]["_unknown_"]
    row = next(line for line in out.splitlines() if line.strip().startswith("_unknown_"))
    assert ("precision n/a" in row) == (unknown["predicted"] == 0)
    # Folders that are not the model's classes, or no recordings at all: named errors.
    (rec / "hello").mkdir()
    (rec / "hello" / "x.wav").write_bytes((rec / "alexa" / "0.wav").read_bytes())
    assert main(["evaluate", str(model), "--data", str(rec)]) == 2
    assert "hello are not classes of the model" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", str(model), "--data", str(tmp_path / "empty")]) == 2
    assert "neither a dataset" in capsys.readouterr().err
    assert main(["evaluate", str(model), "--data", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_sweeps_replay_uncut_scores_as_the_device_finds(streams) -> None:
    """The device clears its window after each detection, so scores recorded beside the
    detections drop there: a sweep over them found none of the keywords the device finds
    above the model's own threshold. `uncut` records the sweep's scores with detections
    off; replayed, they give the device's hits at every threshold (false accepts to within
    one: a cleared window can hide a second one)."""
    kw, events = Path(streams[1]), Path(streams[3])
    _, params = ev.load_model(MODEL)
    own = ev.stream(MODEL, kw, events)
    uncut = ev.stream(MODEL, kw, events, uncut=True)
    assert (uncut.hits, uncut.false_accepts, uncut.detections) == (
        own.hits, own.false_accepts, own.detections)   # the device's own figures, unchanged
    above = range(int(params["detection_threshold"]) + 5, 256, 10)
    cut_hits = {t: h for t, h, _ in ev.sweep(own, params, above)}
    for t, hits, fa in ev.sweep(uncut, params, above):
        device = ev.stream(MODEL, kw, None, events=own.events, params=one_threshold(params, t))
        assert hits == device.hits, t
        assert abs(fa - device.false_accepts) <= 1, t
    assert sum(cut_hits.values()) < sum(d for _, d, _ in ev.sweep(uncut, params, above))


def test_tune_tries_other_latencies_and_writes_the_chosen_one(tmp_path, capsys, streams) -> None:
    """`--tune --latencies 100 200`: each time between inferences is swept (the other one on
    streams recorded again), the best within the budget is chosen, and the written model
    carries its latency_ms with the window and threshold, checked on the device pipeline."""
    tuned = tmp_path / "tuned.tflite"
    capsys.readouterr()
    assert main(["evaluate", str(MODEL), *streams, "--fa-per-hour", "200", "--latencies",
                 "100", "200", "--tuned-model", str(tuned), "--json"]) == 0
    t = json.loads(capsys.readouterr().out)["tuning"]
    assert [row["latency_ms"] for row in t["latencies"]] == [100, 200]
    assert [row["interval_ms"] for row in t["latencies"]] == [100, 200]
    best = min((row for row in t["latencies"] if row["choice"]),
               key=lambda row: (row["choice"]["frr"], row["choice"]["fa_per_hour"],
                                row["latency_ms"] != read_params(MODEL)["latency_ms"]))
    assert t["latency_ms"] == best["latency_ms"]
    params = read_params(tuned)
    assert params["latency_ms"] == t["latency_ms"]
    assert params["average_window_duration_ms"] == t["choice"]["average_window_duration_ms"]
    assert main(["evaluate", str(tuned), *streams, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{")   # the progress bar keeps to stderr: `--json | jq` reads JSON only
    s = json.loads(out)["stream"]
    assert (s["hits"], s["false_accepts"]) == (t["checked"]["hits"],
                                               t["checked"]["false_accepts"])
    assert main(["evaluate", str(MODEL), *streams, "--latencies", "100"]) == 2
    assert "--latencies is for --tune" in capsys.readouterr().err
    assert main(["evaluate", str(MODEL), *streams, "--tune", "--latencies", "105"]) == 2
    assert "Traceback" not in capsys.readouterr().err
