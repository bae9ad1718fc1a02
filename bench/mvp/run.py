"""MVP benchmark: our MVP kernels on the simulated EFR32xG24 MVP, for the seed's model.

Prints, per layer:
  - the cycle model checked against what is known: MLTK 0.20's closed simulator (run here,
    `mltk profile --accelerator mvp`) and the seed's device table (older MLTK, 57.0 ms), next
    to our simulator running MLTK's own mapping of the layer (same programs, our cycle model),
    with the error;
  - our mapping's accelerator cycles against the MAC floor, alone and with the CPU's share;
  - the CPU's instructions counted on QEMU (bench/mvp/m33.py) and each layer's share of the
    measured timeline;
  - each layer's numerical difference from the reference int8 kernels (binary16 on the MVP),
    measured layer by layer on the reference layer inputs of a real clip;
then totals, time at 78 MHz and the ratio to the seed's 57.0 ms, and the agreement of whole-model
outputs over real clips (reference kernels vs MVP kernels).

    .venv/bin/python bench/mvp/run.py [--clips N] [--no-mltk] [--no-qemu]

MLTK runs from the reference venv (.venv-ref, `scripts/bootstrap --ref`, or the folder of
KWS_REF_PYTHON); the QEMU measurement needs arm-none-eabi-gcc and qemu-system-arm; the real
clips come from data/alexa. Each part that cannot run is skipped, and said so. How long on 2
cores: about 30 s with --clips 2, a little more with the default 10 (the first run also
builds the QEMU image, under build/bench_mvp_m33: up to a minute more).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))

from kwshost import mvp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import m33  # noqa: E402

MODEL = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"
REF_MLTK = (Path(os.environ["KWS_REF_PYTHON"]).with_name("mltk") if "KWS_REF_PYTHON" in os.environ
            else REPO / ".venv-ref" / "bin" / "mltk")
SEED_MS = 57.0
# The seed's device profile (older MLTK, physical EFR32xG24, MVP): accelerator cycles per layer.
SEED_ACC = [930.7e3, 307.9e3, 91.9e3, 145.7e3, 52.9e3, 6.6e3, 154.0e3, 90.4e3, 145.7e3, 6.6e3,
            154.0e3, 90.4e3, 145.7e3, 6.6e3, 154.0e3, 90.4e3, 145.7e3, 6.6e3, 154.5e3, 45.7e3,
            74.2e3, 27.4e3, 3.4e3, 78.6e3, 44.6e3, 74.2e3, 3.4e3, 78.6e3, 44.6e3, 74.2e3, 3.4e3,
            78.6e3, 44.6e3, 74.2e3, 3.4e3, 78.6e3, 22.3e3, 37.2e3, 13.7e3, 1.7e3, 39.4e3, 20.8e3,
            37.2e3, 1.7e3, 39.4e3, 20.8e3, 37.2e3, 1.7e3, 39.4e3, 20.8e3, 37.2e3, 1.7e3, 309.0, 0,
            123.0, 0]
SEED_CPU = [11.3e3, 5.2e3, 88.9e3, 5.3e3, 5.1e3, 2.8e3, 5.2e3, 88.7e3, 5.3e3, 2.7e3, 5.2e3,
            88.7e3, 5.3e3, 2.7e3, 5.2e3, 88.7e3, 5.3e3, 2.7e3, 5.2e3, 45.6e3, 5.3e3, 5.1e3, 2.7e3,
            5.2e3, 45.7e3, 5.3e3, 2.7e3, 5.2e3, 45.7e3, 5.3e3, 2.7e3, 5.2e3, 45.7e3, 5.3e3, 2.7e3,
            5.2e3, 23.4e3, 5.2e3, 5.1e3, 2.7e3, 5.2e3, 23.4e3, 5.2e3, 2.7e3, 5.2e3, 23.4e3, 5.2e3,
            2.7e3, 5.2e3, 23.4e3, 5.2e3, 2.7e3, 3.9e3, 595.0, 2.1e3, 2.4e3]


def parse_k(text: str) -> float:
    text = text.strip()
    mult = {"k": 1e3, "M": 1e6}.get(text[-1:], 1.0)
    return float(text[:-1] if text[-1:] in "kM" else text) * mult


def mltk_sim_cycles(model: Path) -> list[float] | None:
    """Per-layer accelerator cycles from MLTK 0.20's MVP simulator (None if unavailable)."""
    if not REF_MLTK.exists():
        print(f"MLTK not found ({REF_MLTK}; scripts/bootstrap --ref makes it): MLTK's simulator "
              "skipped, its column is nan")
        return None
    proc = subprocess.run([str(REF_MLTK), "profile", str(model), "--accelerator", "mvp"],
                          capture_output=True, text=True, timeout=600,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
                               "PATH": "/usr/bin:/bin"})
    rows = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|\s*\w+\s*\|[^|]*\|[^|]*\|\s*([\d.]+[kM]?)\s*\|", line)
        if m:
            rows[int(m.group(1))] = parse_k(m.group(2))
    if not rows:
        print(f"`mltk profile` gave no per-layer table (exit {proc.returncode}): MLTK's "
              f"simulator skipped\n{(proc.stderr or proc.stdout)[-1500:]}")
        return None
    return [rows[i] for i in sorted(rows)]


def real_inputs(n: int) -> list[np.ndarray]:
    """int8 model inputs of up to n real clips from data/alexa (spoken 'alexa' and others)."""
    from kwshost import audio, frontend

    wavs = sorted((REPO / "data" / "alexa" / "alexa").glob("*.wav"))[: (n + 1) // 2]
    wavs += sorted((REPO / "data" / "alexa" / "_unknown_").glob("*.wav"))[: n // 2]
    out = []
    for w in wavs:
        clip = audio.read_wav(w)[:19200]
        clip = np.pad(clip, (0, 19200 - clip.size))
        out.append(frontend.spectrogram(clip)[None, :, None, :].astype(np.int8))
    return out


def real_stream(n: int) -> np.ndarray | None:
    """Real clips (alternating 'alexa' and other words) with a second of silence between."""
    from kwshost import audio

    a = sorted((REPO / "data" / "alexa" / "alexa").glob("*.wav"))[: (n + 1) // 2]
    b = sorted((REPO / "data" / "alexa" / "_unknown_").glob("*.wav"))[: n // 2]
    clips = [c for pair in zip(a, b, strict=False) for c in pair] + a[len(b):]
    if not clips:
        return None
    parts = [np.zeros(16000, np.int16)]
    for c in clips:
        parts += [audio.read_wav(c), np.zeros(16000, np.int16)]
    return np.concatenate(parts)


def act_range(activation: str, zp: int, scale: float) -> tuple[int, int]:
    if activation == "Relu":
        return max(-128, zp), 127
    if activation == "Relu6":
        return max(-128, zp), min(127, zp + int(round(6.0 / scale)))
    return -128, 127


def layer_errors(x: np.ndarray, mapping: str = "ours") -> dict[int, tuple[int, int, int]]:
    """Per layer: (max |diff|, outputs differing, outputs) of the MVP kernel against the
    reference int8 kernel, both fed the reference input of that layer (teacher forcing)."""
    import tensorflow as tf

    ref_kernels = tf.lite.experimental.OpResolverType.BUILTIN_REF
    it = tf.lite.Interpreter(model_path=str(MODEL), experimental_preserve_all_tensors=True,
                             experimental_op_resolver_type=ref_kernels)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    details = {d["index"]: d for d in it.get_tensor_details()}

    def q(i):
        p = details[i]["quantization_parameters"]
        return p["scales"], p["zero_points"]

    from kwshost.runtime import Interpreter
    opts = {op.index: op.options for op in Interpreter(MODEL).ops}
    errs = {}
    for op in it._get_ops_details():
        name, ins, outs = op["op_name"], list(op["inputs"]), list(op["outputs"])
        ref = it.get_tensor(outs[0])
        o = opts[op["index"]]
        (so,), (zo,) = q(outs[0])
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            xin, w = it.get_tensor(ins[0]), it.get_tensor(ins[1])
            b = it.get_tensor(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
            (si,), (zi,) = q(ins[0])
            sw, _ = q(ins[1])
            cout = ref.shape[-1]
            eff = (si * np.broadcast_to(sw, (cout,)) / so).astype(np.float32)
            act = act_range(o.get("activation", "None"), int(zo), float(so))
            if name == "FULLY_CONNECTED":
                r = mvp.run_conv(xin.reshape(1, 1, -1), w.reshape(w.shape[0], 1, 1, -1), b, eff,
                                 out_shape=(1, 1, cout), stride=(1, 1), pad=(0, 0),
                                 depthwise=False, in_zp=int(zi), out_zp=int(zo), act=act,
                                 mapping=mapping)
            else:
                sw_, sh_ = o["stride"]
                fh, fw = w.shape[1], w.shape[2]
                pads = []
                for n_in, n_out, f, s in ((xin.shape[1], ref.shape[1], fh, sh_),
                                          (xin.shape[2], ref.shape[2], fw, sw_)):
                    total = max((n_out - 1) * s + f - n_in, 0) if o["padding"] == "Same" else 0
                    pads.append(total // 2)
                r = mvp.run_conv(xin[0], w, b, eff, out_shape=tuple(ref.shape[1:]),
                                 stride=(sh_, sw_), pad=tuple(pads),
                                 depthwise=name == "DEPTHWISE_CONV_2D", in_zp=int(zi),
                                 out_zp=int(zo), act=act, mapping=mapping)
        elif name == "ADD":
            (s1,), (z1,) = q(ins[0])
            (s2,), (z2,) = q(ins[1])
            r = mvp.run_add(it.get_tensor(ins[0]), it.get_tensor(ins[1]), zp1=int(z1),
                            zp2=int(z2), out_zp=int(zo), m1=float(s1 / so), m2=float(s2 / so),
                            act=act_range(o.get("activation", "None"), int(zo), float(so)),
                            mapping=mapping)
        else:
            continue
        if r.status != 0:
            continue
        d = np.abs(r.output.reshape(-1).astype(int) - ref.reshape(-1).astype(int))
        errs[op["index"]] = (int(d.max()), int((d > 0).sum()), int(d.size))
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=10,
                    help="real clips for output agreement (default 10)")
    ap.add_argument("--no-mltk", action="store_true", help="skip MLTK's simulator")
    ap.add_argument("--no-qemu", action="store_true", help="skip the QEMU measurement")
    args = ap.parse_args()

    t0 = time.time()
    theirs = None if args.no_mltk else mltk_sim_cycles(MODEL)
    t_mltk = time.time() - t0
    inputs = real_inputs(args.clips)
    if args.clips > 0 and not inputs:
        print(f"no real clips in {REPO / 'data' / 'alexa'}: the per-layer differences use a zero "
              "input, the streaming and whole-model agreement are skipped")
    x = inputs[0] if inputs else np.zeros((1, 118, 1, 108), np.int8)
    as_mltk = mvp.profile(MODEL, accelerator="mvp-mltk-mapping", x=x)
    t0 = time.time()
    ours = mvp.profile(MODEL, accelerator="mvp", x=x)          # the firmware: with the CPU share
    t_ours = time.time() - t0
    alone = mvp.profile(MODEL, accelerator="mvp", x=x, cpu_share=False)
    errs = layer_errors(x)
    errs_mltk = layer_errors(x, mapping="mltk")
    cpis = (1.0, mvp.M33_CPI, 1.5)
    measured, m33_bad = None, -1
    if m33.available() and not args.no_qemu:
        t0 = time.time()
        measured, m33_bad = m33.measure(mvp.CPU_SHARE_SPLIT, cpis)
        t_qemu = time.time() - t0
    share_ops = {o.op: o for o in measured[1, mvp.M33_CPI].ops} if measured else {}

    print("Cycle model vs MLTK 0.20's simulator (same mapping), and the seed's device table;")
    print("our mapping's MVP cycles against the MAC floor (MACs/2), alone and with the CPU's")
    print("share;")
    print("the CPU's instructions counted on QEMU (Cortex-M33, -icount) and each layer's share of")
    print(f"the measured timeline at CPI {mvp.M33_CPI}; per-layer difference from the reference")
    print("kernels (teacher-forced, MVP channels).\n")
    hdr = (f"{'#':>2} {'op':<17} {'MLTK sim':>8} {'our sim,':>8} {'err':>6} {'seed dev':>8} "
           f"{'MACs/2':>7} {'MVP':>7} {'/floor':>6} {'MVP+CPU':>7} {'CPU ins':>7} "
           f"{'time':>7} {'max|d|':>6} {'differ':>10}")
    print(hdr + "\n" + f"{'':>2} {'':<17} {'':>8} {'MLTK map':>8} {'':>6} {'':>8} {'':>7} "
          f"{'alone':>7} {'':>6} {'share':>7} {'(QEMU)':>7} {'cycles':>7}")
    print("-" * len(hdr))
    n_match = 0
    for r, a, m in zip(ours, alone, as_mltk, strict=True):
        i = r.index
        t = theirs[i] if theirs and i < len(theirs) else None
        err = "" if not t or not m.acc_cycles else f"{(m.acc_cycles - t) / t * 100:+.1f}%"
        if t and m.acc_cycles and abs(m.acc_cycles - t) / t < 0.01:
            n_match += 1
        e = errs.get(i)
        floor = r.macs // 2
        ratio = f"{a.acc_cycles / floor:.2f}" if floor and a.acc_cycles else ""
        o = share_ops.get(i)
        print(f"{i:>2} {r.name:<17} {t if t is not None else float('nan'):>8.0f} "
              f"{m.acc_cycles:>8} {err:>6} {SEED_ACC[i]:>8.0f} {floor:>7} {a.acc_cycles:>7} "
              f"{ratio:>6} {r.acc_cycles:>7} {f'{o.cpu_instr:.0f}' if o else '':>7} "
              f"{f'{o.cycles:.0f}' if o else '':>7} {e[0] if e else '':>6} "
              f"{f'{e[1]}/{e[2]}' if e else '':>10}")
    tot = mvp.totals(ours)
    tot_a = mvp.totals(alone)
    tot_m = mvp.totals(as_mltk)
    diff_ours = sum(e[1] for e in errs.values())
    n_out = sum(e[2] for e in errs.values())
    diff_mltk = sum(e[1] for i, e in errs_mltk.items() if i in errs)
    print("-" * len(hdr))
    print(f"Teacher-forced, all MVP layers: {diff_ours}/{n_out} outputs "
          f"({diff_ours / n_out * 100:.2f}%) differ from the reference kernels with our mapping, "
          f"max {max(e[0] for e in errs.values())}; with MLTK's mapping on the same simulator "
          f"{diff_mltk} ({diff_mltk / n_out * 100:.2f}%), max "
          f"{max(e[0] for i, e in errs_mltk.items() if i in errs)}. The CPU's channels are "
          f"bit-exact.")
    print("-" * len(hdr))
    if theirs:
        mv = sum(theirs)
        print(f"MLTK 0.20 simulator total: {mv / 1e6:.3f} M acc cycles; our simulator running "
              f"MLTK's mapping: {tot_m['acc_cycles'] / 1e6:.3f} M "
              f"({(tot_m['acc_cycles'] - mv) / mv * 100:+.1f}%); layers within 1%: "
              f"{n_match}/{sum(1 for v in theirs if v > 0)} (MLTK took {t_mltk:.1f} s)")
    seed_acc = sum(SEED_ACC)
    print(f"Seed (device, older MLTK): {seed_acc / 1e6:.2f} M acc cycles, "
          f"{sum(SEED_CPU) / 1e3:.0f} k CPU cycles, {SEED_MS} ms")
    print(f"MAC floor at 2 MACs per MVP cycle: {tot['macs'] / 2e6:.3f} M cycles, "
          f"{tot['macs'] / 2 / mvp.CLOCK_HZ * 1e3:.1f} ms")
    print(f"\nOur MVP kernels: {tot_a['acc_cycles'] / 1e6:.3f} M MVP cycles alone "
          f"({tot['macs'] / tot_a['acc_cycles']:.2f} MACs per cycle), {tot['acc_cycles'] / 1e6:.3f}"
          f" M with the CPU's share (simulating one inference took {t_ours:.1f} s)")
    if measured:
        print(f"\nMeasured (bench/mvp/m33.py, {t_qemu:.0f} s): CPU instructions counted on QEMU's "
              f"Cortex-M33 (-icount: instructions, not cycles), cycles = instructions x CPI, on a "
              f"timeline with the MVP cycles of each program. CPU share bit-exact on the M33: "
              f"{'yes' if m33_bad == 0 else f'NO ({m33_bad} mismatches)'}.")
        for share, name in ((1, "our firmware (MVP + CPU share, the default)"),
                            (0, "the MVP alone (--no-cpu-share)")):
            m = measured[share, mvp.M33_CPI]
            ms = {c: measured[share, c].cycles / mvp.CLOCK_HZ * 1e3 for c in cpis}
            print(f"  {name}: {m.acc_cycles / 1e6:.3f} M accelerator cycles, "
                  f"{m.cpu_instr / 1e3:.0f} k CPU instructions = "
                  f"{m.cpu_instr * mvp.M33_CPI / 1e3:.0f} k CPU cycles at CPI {mvp.M33_CPI}; "
                  f"time at 78 MHz {ms[mvp.M33_CPI]:.1f} ms (CPI 1.0: {ms[1.0]:.1f}, "
                  f"1.5: {ms[1.5]:.1f}) vs seed {SEED_MS} ms: ratio "
                  f"{ms[mvp.M33_CPI] / SEED_MS:.2f} ({SEED_MS / ms[mvp.M33_CPI]:.2f}x faster); "
                  f"goal <= 30 ms: {'met' if ms[mvp.M33_CPI] <= 30 else 'not met'}")
        cold = {c: measured[2, c].cycles / mvp.CLOCK_HZ * 1e3 for c in cpis}
        print(f"  (these are each the second inference after allocation; the first, which builds "
              f"the programs the kernels keep: {measured[2, mvp.M33_CPI].cpu_instr / 1e3:.0f} k "
              f"CPU instructions, {cold[mvp.M33_CPI]:.1f} ms at CPI {mvp.M33_CPI} (CPI 1.0: "
              f"{cold[1.0]:.1f}, 1.5: {cold[1.5]:.1f}))")
        gaps = measured[1, mvp.M33_CPI]
        print(f"  arena on the M33 (MVP kernels with the CPU share, their programs kept): "
              f"{gaps.arena} B")
        print(f"  of the CPU's {gaps.cpu_instr / 1e3:.0f} k instructions, the runtime between "
              f"operators (reading the next operator, before its kernel): "
              f"{gaps.between_ops / 1e3:.0f} k")
    else:
        ms = tot["seconds"] * 1e3
        why = ("QEMU measurement skipped (--no-qemu)" if args.no_qemu else
               "No QEMU here (arm-none-eabi-gcc or qemu-system-arm missing)")
        print(f"\n{why}: PC estimate only (CPU cycles ESTIMATED, docs/mvp.md): "
              f"{ms:.1f} ms at 78 MHz, ratio {ms / SEED_MS:.2f} to the seed's {SEED_MS} ms")

    stream = real_stream(args.clips)
    if stream is not None:
        from kwshost.pipeline import PcPipeline

        runs = {}
        for acc in ("none", "mvp"):
            pipe = PcPipeline.from_model(MODEL, accelerator=acc)
            runs[acc] = list(pipe.process(stream))
        a, b = runs["none"], runs["mvp"]
        det_a = [(i.time_ms, i.class_index) for i in a if i.detected]
        det_b = [(i.time_ms, i.class_index) for i in b if i.detected]
        dmax = max(max(abs(p - q) for p, q in zip(i.scores, j.scores, strict=True))
                   for i, j in zip(a, b, strict=True))
        print(f"\nStreaming {stream.size / 16000:.0f} s of real clips through the pipeline "
              f"({len(a)} inferences): detections reference {det_a}, MVP {det_b}: "
              f"{'identical' if det_a == det_b else 'DIFFERENT'}; max raw score difference "
              f"{dmax} steps")

    if len(inputs) > 1:
        from kwshost.runtime import Interpreter

        ref_it, mvp_it = Interpreter(MODEL), Interpreter(MODEL, accelerator="mvp")
        dmax, same_top, n = 0, 0, 0
        for xi in inputs:
            a, b = ref_it.invoke(xi).astype(int), mvp_it.invoke(xi).astype(int)
            dmax = max(dmax, int(np.abs(a - b).max()))
            same_top += int(a.argmax() == b.argmax())
            n += 1
        print(f"\nWhole model on {n} real clips: top class agrees on {same_top}/{n}, "
              f"max |score difference| {dmax} (int8 output steps)")
    return 0


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
