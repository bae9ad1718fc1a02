"""kwshost params: show or change a model's runtime parameters (SL_PARAMSv1 metadata)."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from pathlib import Path

from kwshost.cli._args import positive_number
from kwshost.errors import KwsError

NAME = "params"
HELP = "show a model's runtime parameters, or write a copy with some of them changed"
DESCRIPTION = """\
Prints the parameters a .tflite model carries in its SL_PARAMSv1 metadata (MLTK's format):
classes, every fe.* frontend setting and the detector's settings. The firmware and every
kwshost command read them from the model itself, so changing one here changes what the board
does, with no retraining and no reconversion; the model's weights and graph are kept byte for
byte. A new value keeps the type the key had (an int stays an int); classes are given
comma-separated. The changed model is checked with the firmware's own reader before it is
written: a value the device would refuse (detection_threshold = 300) is refused here. New
parameters that fit where the old ones were are written over them, so the file keeps its
size; a larger set goes in front of the file once.

--temperature T divides the logits by T before the softmax of any int8 model, by changing the
SOFTMAX operator's beta where it lies in the file (nothing else moves): a model whose scores
sit at the top (255 for keywords and near misses alike) spreads them below it, so a detection
threshold can separate them. The order of the scores does not change; choose the threshold
afterwards (`kwshost evaluate --tune`). On a model made by `kwshost convert --temperature`,
the two multiply.

A typical use: choose the detector threshold on streams of your own or of validation voices
(`kwshost evaluate --stream ... --fa-per-hour R` prints the threshold for a false-accept
budget), then write it into the model.

examples:
  kwshost params models/alexa_kwshost.tflite
  kwshost params models/alexa_kwshost.tflite --json
  kwshost params models/alexa_kwshost.tflite --set detection_threshold=216 -o alexa_216.tflite
  kwshost params my.tflite --set suppression_ms=1500 --set minimum_count=3 --in-place
  kwshost params models/mltk_keyword_spotting_alexa.tflite --temperature 2 -o mltk_t2.tflite
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, metavar="M.tflite")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="changes", help="change (or add) one parameter; repeatable")
    parser.add_argument("--temperature", type=positive_number(), metavar="T",
                        help="divide the logits by T before the softmax (its beta / T)")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT.tflite",
                        help="where to write the changed model")
    parser.add_argument("--in-place", action="store_true", help="overwrite M.tflite instead")
    parser.add_argument("--json", action="store_true", help="print the parameters as JSON")


def _coerce(key: str, raw: str, old: object) -> object:
    """RAW as the type KEY already has (a new key: int, then float, then text)."""
    name = type(old).__name__
    kind = f"{'an' if name[0] in 'aeiou' else 'a'} {name} in this model"
    if old is None and key in _LISTS:
        old = _LISTS[key]  # a new list key is a list, as the firmware reads it, not text
        kind = "a comma-separated list"
    try:
        if isinstance(old, bool):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        if isinstance(old, int):
            return int(raw)
        if isinstance(old, float):
            return float(raw)
        if isinstance(old, list):
            items = [s.strip() for s in raw.split(",") if s.strip()]
            if not items:  # else the reader says the model "has no 'classes' list"
                raise KwsError(f"--set {key}={raw}: give the {key} comma-separated, at "
                               f"least one", hint=f"e.g. --set {key}={','.join(map(str, old))}")
            if old and all(isinstance(x, int) and not isinstance(x, bool) for x in old):
                return [int(x) for x in items]   # an int list stays one (thresholds)
            return items
        if old is None:
            for kind in (int, float):
                try:
                    return kind(raw)
                except ValueError:
                    pass
        return raw
    except ValueError:
        raise KwsError(f"--set {key}={raw}: {key} is {kind}, and {raw!r} is not one") from None


# The list-valued keys the firmware reads, with an example value for a model that lacks one.
_LISTS: dict[str, list] = {"classes": ["keyword", "_unknown_"],
                           "detection_threshold_list": [200, 255]}


def changed_params(params: dict[str, object],
                   changes: list[str]) -> tuple[dict[str, object], list[str]]:
    """PARAMS with each KEY=VALUE of CHANGES applied, and the keys changed, in order."""
    out, keys = dict(params), []
    for change in changes:
        key, raw = _key_value(change)
        if key not in params:
            _refuse_near_miss(key, params)
        out[key] = _coerce(key, raw, params.get(key))
        keys.append(key)
    listed = out.get("detection_threshold_list")
    if "detection_threshold" in keys and "detection_threshold_list" not in keys and listed:
        print(f"note: detection_threshold_list ({', '.join(map(str, listed))}) still sets its "
              "classes' thresholds; change it too: --set detection_threshold_list=A,B,...",
              file=sys.stderr)
    return out, keys


def _key_value(change: str) -> tuple[str, str]:
    """(KEY, VALUE) of a --set KEY=VALUE, each stripped; KwsError for anything else."""
    key, sep, raw = change.partition("=")
    if not sep or not key.strip():
        raise KwsError(f"--set {change!r}: write KEY=VALUE",
                       hint="e.g. --set detection_threshold=216")
    return key.strip(), raw.strip()


def _refuse_near_miss(key: str, params: dict[str, object]) -> None:
    """A new key that nothing reads but that is spelled like one the model has is a typo:
    written as given it would change nothing (`detection_treshold=200`)."""
    from difflib import get_close_matches

    from kwshost.pipeline import firmware_reads

    if firmware_reads(key):
        return
    near = get_close_matches(key, list(params), n=1, cutoff=0.8)
    if near:
        raise KwsError(f"--set {key}: the model has no {key!r}, and the firmware reads no "
                       "such setting", hint=f"did you mean {near[0]}?")


def _print(params: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(params, indent=1))
        return
    from kwshost.pipeline import firmware_reads

    width = max((len(k) for k in params), default=0)
    for key, value in params.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        # MLTK's descriptive entries aside, a setting the firmware does not read is said so.
        note = ("" if key in _DESCRIPTIVE or firmware_reads(key)
                else "  (the firmware ignores it)")
        print(f"{key:<{width}}  {shown}{note}")


_DESCRIPTIVE = {"name", "version", "classes", "hash", "date", "runtime_memory_size",
                "description", "training_data_terms"}


def run(args: argparse.Namespace) -> int:
    from kwshost.metadata import read_params
    from kwshost.model_file import read_model

    if args.output and args.in_place:
        raise KwsError("--in-place and -o exclude each other",
                       hint="--in-place overwrites M.tflite; -o OUT.tflite writes a copy")
    for change in args.changes:   # a malformed one is said before where the output goes
        _key_value(change)
    data = read_model(args.model)
    params = read_params(data)
    # Settings read from a microWakeWord manifest beside the model are not in the file yet.
    from_manifest = data != Path(args.model).read_bytes()
    if not args.changes and args.temperature is None:
        if (args.output or args.in_place) and from_manifest:
            size = save_with_params(data, None, args.model if args.in_place else args.output)
            print(f"wrote {args.model if args.in_place else args.output} ({size} bytes) with "
                  "its manifest's settings as SL_PARAMSv1 metadata")
            return 0
        if args.output or args.in_place:
            raise KwsError("nothing to change: give --set KEY=VALUE or --temperature T")
        if not params:
            raise KwsError(f"{args.model} has no SL_PARAMSv1 metadata",
                           hint="models made by kwshost convert or MLTK carry it; add it with "
                                "--set classes=A,B,... (and fe.* settings) -o OUT.tflite")
        _print(params, args.json)
        return 0
    if not (args.output or args.in_place):
        raise KwsError("say where the changed model goes: -o OUT.tflite or --in-place")
    new, keys = changed_params(params, args.changes)
    target = args.model if args.in_place else args.output
    betas = []
    if args.temperature is not None:
        from kwshost.tflite_graph import with_softmax_temperature

        data, betas = with_softmax_temperature(data, args.temperature)
    size = save_with_params(data, new if keys else None, target)
    for key in keys:
        note = ""
        if key not in params:
            from kwshost.pipeline import firmware_reads

            note = "" if firmware_reads(key) else " (kept in the metadata; the firmware ignores it)"
        print(f"{key}: {params.get(key, '(new)')} -> {new[key]}{note}")
    for index, old, beta in betas:
        print(f"operator {index} (SOFTMAX) beta: {old:g} -> {beta:g}")
    print(f"wrote {target} ({size} bytes)")
    return 0


def save_with_params(data: bytes, params: dict[str, object] | None, target: Path) -> int:
    """Writes the model `data` with `params` as its metadata (None: the metadata it has) to
    `target` (whole or not at all), once the firmware's own reader has accepted it, as the
    board's would; its size."""
    from kwshost.metadata import read_params, write_params
    from kwshost.pipeline import PcPipeline

    out = data if params is None else write_params(data, params)
    meta = read_params(out)
    if meta or params is not None:
        PcPipeline(out, meta)
    else:
        from kwshost.runtime import Interpreter

        Interpreter(out)  # no metadata to check: the runtime must still take the graph
    mode = None
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        pass  # a new file
    if mode is not None and not mode & 0o222:
        # replace() renames over a file whatever its own permissions: a model made read-only
        # to keep it would be rewritten (also for root, which os.access lets write anything)
        raise KwsError(f"cannot write {target}: the file is read-only",
                       hint="make it writable (chmod u+w) or write a copy with -o OUT.tflite")
    tmp = target.with_name(target.name + ".partial")
    try:
        tmp.write_bytes(out)
        if mode is not None:
            tmp.chmod(mode)  # the file keeps its permissions, not the umask's
        tmp.replace(target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise KwsError(f"cannot write {target}: {e.strerror}") from None
    return len(out)
