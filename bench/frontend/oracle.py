"""MLTK's AudioFeatureGenerator as an oracle. Runs in the reference venv (.venv-ref), never in
the project's: `python oracle.py SETTINGS.json IN.npy OUT.npy [--dtype uint16|int8]`.

IN.npy holds int16 clips [n_clips, n_samples]; OUT.npy gets the wrapper's output for each
clip [n_clips, rows, channels]. The compiled wrapper is loaded straight from its file, so
TensorFlow (which the mltk package imports) is not loaded: startup stays under a second.
Prints the seconds spent inside the wrapper on stderr.
"""

import glob
import importlib.util
import json
import sys
import time

import numpy as np


def load_wrapper():
    pattern = (sys.prefix + "/lib/python3*/site-packages/mltk/core/preprocess/audio/"
               "audio_feature_generator/_audio_feature_generator_wrapper*.so")
    path = glob.glob(pattern)[0]
    spec = importlib.util.spec_from_file_location("_audio_feature_generator_wrapper", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip() + "\n\n(a helper of bench/frontend/run.py, not a bench itself)")
        raise SystemExit(0 if sys.argv[1:2] in (["-h"], ["--help"]) else 2)
    settings_path, in_path, out_path = sys.argv[1:4]
    dtype = np.uint16
    if "--dtype" in sys.argv:
        dtype = np.dtype(sys.argv[sys.argv.index("--dtype") + 1])
    settings = json.load(open(settings_path))
    clips = np.load(in_path)
    rate = settings["fe.sample_rate_hz"]
    settings["fe.sample_length_ms"] = int(round(clips.shape[1] * 1000 / rate))
    assert settings["fe.sample_length_ms"] * rate // 1000 == clips.shape[1], "length in ms"
    wrapper = load_wrapper().AudioFeatureGeneratorWrapper(settings)
    win = settings["fe.window_size_ms"] * rate // 1000
    step = settings["fe.window_step_ms"] * rate // 1000
    rows = (clips.shape[1] - win) // step + 1
    out = np.zeros((clips.shape[0], rows, settings["fe.filterbank_n_channels"]), dtype=dtype)
    spent = 0.0
    for i in range(clips.shape[0]):
        one = np.zeros(out.shape[1:], dtype=dtype)
        clip = np.ascontiguousarray(clips[i], dtype=np.int16)
        t = time.perf_counter()
        wrapper.process_sample(clip, one)
        spent += time.perf_counter() - t
        out[i] = one
    np.save(out_path, out)
    print(f"{spent:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
