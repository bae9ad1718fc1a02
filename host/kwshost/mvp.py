"""The MVP on the PC: per-layer profiles of a model from the firmware's MVP kernels running on
the C simulator of the MVP (firmware/mvp/sim), and single layers run in isolation for benches.

    from kwshost import mvp
    rows = mvp.profile("models/mltk_keyword_spotting_alexa.tflite", accelerator="mvp")
    mvp.totals(rows)   # accelerator cycles, CPU cycles, time at 78 MHz

Accelerator cycles come from the simulator's cycle model, calibrated layer by layer against
MLTK 0.20's closed MVP simulator (bench/mvp). CPU cycles are ESTIMATES (no Cortex-M33 cycle
model here): a fixed cost per kernel call and per MVP program for MVP layers, and per-element
costs for CPU layers, sized on the seed's device table; see docs/mvp.md.
"""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kwshost import native

CLOCK_HZ = 78_000_000

# CPU-side cost estimates (cycles), see docs/mvp.md.
CPU_PER_MVP_KERNEL = 400    # bind pointers, bookkeeping, final wait
CPU_PER_MVP_PROGRAM = 250   # fill 69 words + copy them into the register block
CPU_PER_MAC = 3             # reference int8 convolution inner loop on the Cortex-M33
CPU_PER_OUTPUT = 30         # requantize + store
CPU_PER_ELEMENT = {"ADD": 20, "AVERAGE_POOL_2D": 8, "SOFTMAX": 1200, "MAX_POOL_2D": 8,
                   "QUANTIZE": 20, "DEQUANTIZE": 20, "LOGISTIC": 60, "MUL": 20, "MEAN": 8,
                   "PAD": 4, "CONCATENATION": 4}
CPU_FIXED = {"RESHAPE": 600}

# The measured path (bench/mvp/m33.py): CPU instructions counted on QEMU's Cortex-M33 (-icount),
# turned into cycles with this CPI, an assumption stated in docs/mvp.md (QEMU counts
# instructions, not cycles).
M33_CPI = 1.25
# The CPU share's split (kws_mvp_set_cpu_cost, on by default in the firmware): cycles per MAC
# x16, per output, and the cycles kept free per layer. From bench/mvp/m33.py's counts of the
# CPU-share code on QEMU: 1.58 instructions per MAC and 65.5 per output, times M33_CPI; the
# reserve covers the runtime's work for the next operator (1.2 k instructions per operator
# since the runtime re-reads the verified model unchecked) and its first program's building,
# with room to spare: 6 k gave the shortest timeline at CPI 1.25 and 1.5 of the reserves
# tried (15 k, 6 k, 4 k, 2.5 k; docs/mvp.md). Same values as KWS_MVP_CPU_* in
# firmware/kernels/mvp/mvp_kernels.h.
CPU_SHARE_SPLIT = (32, 82, 6_000)
NO_CPU_SHARE = (0, 0, 0)


@contextmanager
def cpu_share_split(split: tuple[int, int, int] = CPU_SHARE_SPLIT):
    """Interpreters created inside split convolutions with `split` (NO_CPU_SHARE: the MVP
    alone); the firmware's default split is restored after."""
    lib = _lib()
    lib.kws_mvp_api_set_cpu_cost(*split)
    try:
        yield
    finally:
        lib.kws_mvp_api_set_cpu_cost(*CPU_SHARE_SPLIT)


def _lib() -> ctypes.CDLL:
    lib = native.lib()
    if getattr(lib, "_kws_mvp_declared", False):
        return lib
    u32, u64, i32 = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32
    p = ctypes.c_void_p
    lib.kws_mvp_api_op_stats.argtypes = [u32, ctypes.POINTER(u32), ctypes.POINTER(u32),
                                         ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(u32)]
    lib.kws_mvp_api_set_cpu_cost.argtypes = [u32, u32, u32]
    lib.kws_mvp_api_program_log.argtypes = [ctypes.POINTER(u32), u32]
    lib.kws_mvp_api_program_log.restype = u32
    lib.kws_mvp_api_max_ops.restype = u32
    lib.kws_mvp_api_cycles.restype = u64
    lib.kws_mvp_api_programs.restype = u32
    lib.kws_mvp_api_numeric_flags.restype = u32
    lib.kws_mvp_api_set_model.argtypes = [u32, u32]
    lib.kws_mvp_api_conv.argtypes = [ctypes.POINTER(i32), ctypes.POINTER(i32), p, p, p, p, p,
                                     ctypes.c_int, ctypes.POINTER(u64), ctypes.POINTER(u32)]
    lib.kws_mvp_api_add.argtypes = [i32, ctypes.POINTER(i32), ctypes.c_float, ctypes.c_float,
                                    p, p, p, ctypes.c_int, ctypes.POINTER(u64),
                                    ctypes.POINTER(u32)]
    lib._kws_mvp_declared = True
    return lib


def reset() -> None:
    _lib().kws_mvp_api_reset()


@dataclass
class LayerRun:
    output: np.ndarray
    cycles: int
    programs: int
    status: int


def _ptr(a: np.ndarray | None) -> int | None:
    return None if a is None else a.ctypes.data


def run_conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, eff: np.ndarray, *,
             out_shape: tuple[int, int, int], stride: tuple[int, int], pad: tuple[int, int],
             depthwise: bool, in_zp: int, out_zp: int, act: tuple[int, int],
             mapping: str = "ours") -> LayerRun:
    """One CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED layer on the simulated MVP.
    x: int8 [H, W, C]; w: int8 OHWI (1HWC for depthwise); out_shape (H, W, C)."""
    x = np.ascontiguousarray(x, dtype=np.int8)
    w = np.ascontiguousarray(w, dtype=np.int8)
    b = None if bias is None else np.ascontiguousarray(bias, dtype=np.int32)
    e = np.ascontiguousarray(eff, dtype=np.float32)
    out = np.zeros(out_shape, dtype=np.int8)
    geom = (ctypes.c_int32 * 13)(x.shape[0], x.shape[1], x.shape[2], *out_shape, w.shape[1],
                                 w.shape[2], stride[0], stride[1], pad[0], pad[1], int(depthwise))
    q = (ctypes.c_int32 * 4)(in_zp, out_zp, act[0], act[1])
    cyc, progs = ctypes.c_uint64(), ctypes.c_uint32()
    st = _lib().kws_mvp_api_conv(geom, q, _ptr(x), _ptr(w), _ptr(b), _ptr(e), _ptr(out),
                                 1 if mapping == "mltk" else 0, ctypes.byref(cyc),
                                 ctypes.byref(progs))
    return LayerRun(out, int(cyc.value), int(progs.value), int(st))


def run_add(x1: np.ndarray, x2: np.ndarray, *, zp1: int, zp2: int, out_zp: int, m1: float,
            m2: float, act: tuple[int, int], mapping: str = "ours") -> LayerRun:
    a = np.ascontiguousarray(x1, dtype=np.int8)
    b = np.ascontiguousarray(x2, dtype=np.int8)
    out = np.zeros(a.shape, dtype=np.int8)
    q = (ctypes.c_int32 * 5)(zp1, zp2, out_zp, act[0], act[1])
    cyc, progs = ctypes.c_uint64(), ctypes.c_uint32()
    st = _lib().kws_mvp_api_add(a.size, q, m1, m2, _ptr(a), _ptr(b), _ptr(out),
                                1 if mapping == "mltk" else 0, ctypes.byref(cyc),
                                ctypes.byref(progs))
    return LayerRun(out, int(cyc.value), int(progs.value), int(st))


@dataclass
class LayerProfile:
    index: int
    name: str        # builtin name, lower case as in MLTK's tables ("conv_2d")
    kernel: str      # "CONV_2D/mvp" or the reference kernel's name
    ops: int
    macs: int
    acc_cycles: int
    cpu_cycles: int
    on_mvp: bool
    cpu_share_cycles: int  # estimated CPU cycles of the output channels the CPU computes
    input_shapes: list[tuple[int, ...]]
    output_shape: tuple[int, ...]
    options: str

    @property
    def cycles(self) -> int:
        """Cycles the layer takes: the MVP runs while the CPU prepares the next program, so an
        MVP layer costs its accelerator cycles plus the CPU work before the first program."""
        if self.on_mvp:  # the CPU's share of a layer runs while the MVP works
            return max(self.acc_cycles, self.cpu_share_cycles) + CPU_PER_MVP_KERNEL + \
                CPU_PER_MVP_PROGRAM
        return self.cpu_cycles

    @property
    def seconds(self) -> float:
        return self.cycles / CLOCK_HZ


def _macs(op) -> int:
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        w = op.inputs[1].shape
        out = op.outputs[0].shape
        per_out = w[1] * w[2] * (1 if op.name == "DEPTHWISE_CONV_2D" else w[3])
        return int(np.prod(out)) * per_out
    if op.name == "FULLY_CONNECTED":
        return int(np.prod(op.inputs[1].shape))
    return 0


def _outputs(op) -> int:
    """Values the operator writes (0 for one with no output: ASSIGN_VARIABLE, CALL_ONCE)."""
    return int(np.prod(op.outputs[0].shape)) if op.outputs else 0


def _ops_count(op, macs: int) -> int:
    n_out = _outputs(op)
    if macs:
        act = op.options.get("activation", "None")
        return 2 * macs + n_out + (2 * n_out if act not in ("None", None) else 0)
    if op.name == "AVERAGE_POOL_2D":
        return int(np.prod(op.inputs[0].shape)) + n_out
    if op.name == "SOFTMAX":
        return 5 * n_out
    if op.name == "RESHAPE":
        return 0
    return n_out


def cpu_estimate(op, macs: int, on_mvp: bool, programs: int) -> int:
    """Estimated Cortex-M33 cycles of one operator (see module docstring)."""
    if on_mvp:
        return CPU_PER_MVP_KERNEL + CPU_PER_MVP_PROGRAM * programs
    n_out = _outputs(op)
    if macs:
        return CPU_PER_MAC * macs + CPU_PER_OUTPUT * n_out
    if op.name in CPU_FIXED:
        return CPU_FIXED[op.name]
    n_in = int(np.prod(op.inputs[0].shape)) if op.inputs and op.inputs[0] is not None else n_out
    return CPU_PER_ELEMENT.get(op.name, 20) * max(n_in, n_out)


def _options_text(op) -> str:
    o = op.options
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        s = f"Padding:{o['padding']} stride:{o['stride'][0]}x{o['stride'][1]} " \
            f"activation:{o['activation']}"
        return (f"Multiplier:{o['multiplier']} " + s.replace("Padding", "padding")) \
            if "multiplier" in o else s
    if op.name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return f"Padding:{o['padding']} stride:{o['stride'][0]}x{o['stride'][1]} " \
               f"filter:{o['filter'][0]}x{o['filter'][1]} activation:{o['activation']}"
    if "activation" in o:
        return f"Activation:{o['activation']}"
    return ""


def profile(model: bytes | str | Path, accelerator: str = "mvp",
            x: np.ndarray | None = None, cpu_share: bool = True) -> list[LayerProfile]:
    """Runs the model once through the firmware runtime (MVP kernels on the simulator when
    accelerator is "mvp") and returns one row per operator. cpu_share (the firmware's
    default): the CPU computes some output channels of each convolution while the MVP computes
    the rest (CPU_SHARE_SPLIT); False: the MVP alone."""
    from kwshost.runtime import Interpreter

    lib = _lib()
    with cpu_share_split(CPU_SHARE_SPLIT if cpu_share else NO_CPU_SHARE):
        it = Interpreter(model, accelerator=accelerator)
    if x is None:
        d = it.input_details[0]
        x = np.zeros(d.shape, dtype=d.dtype)
    reset()
    it.invoke(x)
    rows = []
    for op in it.ops:
        cyc, progs, on = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint8()
        cpu_macs = ctypes.c_uint32()
        on_mvp = False
        if accelerator != "none" and op.index < lib.kws_mvp_api_max_ops():
            lib.kws_mvp_api_op_stats(op.index, ctypes.byref(cyc), ctypes.byref(progs),
                                     ctypes.byref(on), ctypes.byref(cpu_macs))
            on_mvp = bool(on.value) and op.kernel.endswith("/mvp")
        macs = _macs(op)
        share = 0
        if on_mvp and cpu_macs.value:
            n_out = _outputs(op)
            share_outputs = n_out * cpu_macs.value // max(macs, 1)
            share = (CPU_SHARE_SPLIT[0] * int(cpu_macs.value)) // 16 + \
                CPU_SHARE_SPLIT[1] * share_outputs
        rows.append(LayerProfile(
            index=op.index, name=op.name.lower(), kernel=op.kernel if on_mvp or
            not op.kernel.endswith("/mvp") else op.kernel[:-4] + "/cpu",
            ops=_ops_count(op, macs), macs=macs, acc_cycles=int(cyc.value) if on_mvp else 0,
            cpu_cycles=cpu_estimate(op, macs, on_mvp, int(progs.value)) + share,
            on_mvp=on_mvp, cpu_share_cycles=share,
            input_shapes=[t.shape for t in op.inputs if t is not None],
            output_shape=op.outputs[0].shape if op.outputs else (),
            options=_options_text(op)))
    return rows


def totals(rows: list[LayerProfile]) -> dict[str, float]:
    acc = sum(r.acc_cycles for r in rows)
    cpu = sum(r.cpu_cycles for r in rows)
    cycles = sum(r.cycles for r in rows)
    return {"acc_cycles": acc, "cpu_cycles": cpu, "cycles": cycles,
            "seconds": cycles / CLOCK_HZ, "macs": sum(r.macs for r in rows),
            "ops": sum(r.ops for r in rows)}
