"""kwshost dataset: synthesize an offline keyword dataset (voices, unknowns, background noise)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kwshost.errors import KwsError

NAME = "dataset"
HELP = "synthesize an offline keyword dataset with local text-to-speech voices"
DESCRIPTION = """\
`dataset make OUT` speaks the keyword ("alexa") and many `_unknown_` utterances (confusable
words such as "alexis" or "a lexus", a vocabulary, whole sentences) with every offline voice
installed here: espeak-ng's accents and ~100 variants, festival's diphone/HTS voices and flite's
voices, each with random rate, pitch, word gap and a formant shift. It then synthesizes
background noise (coloured noise, babble, hum, tones, clatter, fans, music). Nothing is
downloaded. Voices reserved for held-out tests (festival cmu_us_slt_arctic_hts, flite slt)
are never used.

SIZE is the number of keyword clips (twice as many `_unknown_` clips are made) or one of
tiny (16), small (300), medium (3000), large (10000). The same --seed gives the same dataset
whatever --jobs is. Your own recordings in DIR/<class>/*.wav are added with --recordings.

OUT/manifest.json lists every clip with its voice, text and duration; augmentation and
features come later (`kwshost train` builds its feature cache from OUT).

examples:
  kwshost dataset make data/alexa --size small --jobs 2
  kwshost dataset make data/alexa --size 5000 --jobs 2 --seed 1 --recordings ~/my_alexas
  kwshost dataset info data/alexa
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    make = sub.add_parser("make", help="synthesize a dataset into OUT")
    make.add_argument("out", type=Path, metavar="OUT")
    make.add_argument("--size", default="small", help="keyword clips, or tiny/small/medium/large")
    make.add_argument("--jobs", "-j", type=int, default=2, help="parallel workers (default 2)")
    make.add_argument("--seed", type=int, default=1)
    make.add_argument("--recordings", type=Path, metavar="DIR",
                      help="also add your recordings DIR/<class>/*.wav")
    info = sub.add_parser("info", help="print a dataset's counts and durations")
    info.add_argument("out", type=Path, metavar="OUT")


def _summary(manifest: dict) -> str:
    lines = [f"clips:    {manifest['counts']}",
             f"seconds:  {manifest['durations_s']}",
             f"speakers: {manifest['groups']} voice groups",
             f"noise:    {manifest['noise_files']} files"]
    if manifest.get("n_errors"):
        lines.append(f"failed:   {manifest['n_errors']} clips (see manifest.json 'errors')")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import json

    if args.action == "info":
        path = args.out / "manifest.json"
        if not path.exists():
            raise KwsError(f"no manifest in {args.out}", hint="kwshost dataset make OUT")
        print(_summary(json.loads(path.read_text())))
        return 0
    if args.action != "make":
        raise KwsError("say what to do: `kwshost dataset make OUT` or `kwshost dataset info OUT`")
    from rich.progress import Progress

    from kwshost.data.make import make_dataset

    with Progress() as progress:
        manifest = make_dataset(args.out, args.size, args.jobs, args.seed, args.recordings,
                                progress=progress)
    print(_summary(manifest))
    print(f"manifest: {args.out / 'manifest.json'}")
    return 0
