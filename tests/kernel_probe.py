"""Runs each operator of a .tflite model through our C kernels, one at a time.

TFLite's interpreter (reference kernels, all tensors preserved) supplies every op's inputs; the
op's context is filled here with ctypes from the flatbuffer (shapes, quantization, options), our
kernel runs through the host-only `kws_kernel_probe_run`, and its output is compared with
TFLite's. This checks kernels in isolation, independent of the runtime's planner.
"""

from __future__ import annotations

import ctypes as C
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_DIMS, MAX_IN, MAX_OUT = 5, 8, 2
TYPE_CODES = {np.dtype(np.float32): 0, np.dtype(np.int32): 2, np.dtype(np.uint8): 3,
              np.dtype(np.int64): 4, np.dtype(np.bool_): 6, np.dtype(np.int16): 7,
              np.dtype(np.int8): 9}


class Tensor(C.Structure):
    _fields_ = [("type", C.c_uint8), ("rank", C.c_uint8), ("is_constant", C.c_uint8),
                ("dims", C.c_int32 * MAX_DIMS), ("data", C.c_void_p), ("bytes", C.c_size_t),
                ("scale", C.c_float), ("zero_point", C.c_int32),
                ("channel_scales", C.POINTER(C.c_float)), ("n_channel_scales", C.c_int32),
                ("quantized_dimension", C.c_int32)]


class ConvParams(C.Structure):
    _fields_ = [("padding", C.c_uint8), ("activation", C.c_uint8), ("stride_w", C.c_int32),
                ("stride_h", C.c_int32), ("dilation_w", C.c_int32), ("dilation_h", C.c_int32),
                ("depth_multiplier", C.c_int32)]


class PoolParams(C.Structure):
    _fields_ = [("padding", C.c_uint8), ("activation", C.c_uint8), ("stride_w", C.c_int32),
                ("stride_h", C.c_int32), ("filter_w", C.c_int32), ("filter_h", C.c_int32)]


class FcParams(C.Structure):
    _fields_ = [("activation", C.c_uint8), ("keep_num_dims", C.c_uint8)]


class ElementwiseParams(C.Structure):
    _fields_ = [("activation", C.c_uint8)]


class SoftmaxParams(C.Structure):
    _fields_ = [("beta", C.c_float)]


class ConcatParams(C.Structure):
    _fields_ = [("axis", C.c_int32), ("activation", C.c_uint8)]


class ReduceParams(C.Structure):
    _fields_ = [("keep_dims", C.c_uint8)]


class Params(C.Union):
    _fields_ = [("conv", ConvParams), ("pool", PoolParams), ("fc", FcParams),
                ("elementwise", ElementwiseParams), ("softmax", SoftmaxParams),
                ("concat", ConcatParams), ("reduce", ReduceParams)]


class OpContext(C.Structure):
    _fields_ = [("op_index", C.c_uint16), ("builtin_code", C.c_uint16), ("n_inputs", C.c_uint8),
                ("n_outputs", C.c_uint8), ("inputs", C.POINTER(Tensor) * MAX_IN),
                ("outputs", C.POINTER(Tensor) * MAX_OUT), ("params", Params),
                ("op_data", C.c_void_p), ("scratch", C.c_void_p), ("message", C.c_char_p),
                ("message_len", C.c_size_t)]


def load_library() -> C.CDLL:
    """The kernels: KWS_KERNEL_LIB if set (a .so built from firmware/kernels), else libkws."""
    path = os.environ.get("KWS_KERNEL_LIB")
    if path:
        lib = C.CDLL(path)
    else:
        from kwshost import native

        lib = native.lib()
    lib.kws_kernel_probe_run.argtypes = [C.POINTER(OpContext), C.c_void_p, C.c_size_t,
                                         C.POINTER(C.c_size_t)]
    lib.kws_kernel_probe_run.restype = C.c_int
    return lib


@dataclass
class OpResult:
    index: int
    name: str
    status: int
    message: str
    differing: int
    size: int


def _schema():
    from tensorflow.lite.python import schema_py_generated as fb

    return fb


def _fill_params(ctx: OpContext, code: int, opts) -> None:
    if opts is None:
        return
    act = getattr(opts, "fusedActivationFunction", 0)
    if code in (3, 4):  # CONV_2D, DEPTHWISE_CONV_2D
        p = ctx.params.conv
        p.padding, p.activation = opts.padding, act
        p.stride_w, p.stride_h = opts.strideW, opts.strideH
        p.dilation_w, p.dilation_h = opts.dilationWFactor, opts.dilationHFactor
        p.depth_multiplier = getattr(opts, "depthMultiplier", 0)
    elif code in (1, 17):
        p = ctx.params.pool
        p.padding, p.activation = opts.padding, act
        p.stride_w, p.stride_h = opts.strideW, opts.strideH
        p.filter_w, p.filter_h = opts.filterWidth, opts.filterHeight
    elif code == 9:
        ctx.params.fc.activation, ctx.params.fc.keep_num_dims = act, int(opts.keepNumDims)
    elif code in (0, 18):
        ctx.params.elementwise.activation = act
    elif code == 25:
        ctx.params.softmax.beta = opts.beta
    elif code == 2:
        ctx.params.concat.axis, ctx.params.concat.activation = opts.axis, act
    elif code == 40:
        ctx.params.reduce.keep_dims = int(opts.keepDims)


def probe_model(lib: C.CDLL, model_bytes: bytes, inputs: list[np.ndarray]) -> list[OpResult]:
    """Runs the model in TFLite (reference kernels) and each of its ops through our kernels."""
    import tensorflow as tf

    fb = _schema()
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model_bytes, 0))
    graph = model.subgraphs[0]
    interp = tf.lite.Interpreter(
        model_content=model_bytes, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for d, x in zip(interp.get_input_details(), inputs, strict=True):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    keep = []  # keeps every buffer handed to C alive

    def tensor(i: int, is_output: bool) -> Tensor:
        t = graph.tensors[i]
        value = np.ascontiguousarray(interp.get_tensor(i))
        if is_output:
            value = np.zeros_like(value)
        keep.append(value)
        ct = Tensor()
        ct.type = TYPE_CODES[value.dtype]
        shape = list(t.shape) if t.shape is not None else list(value.shape)
        ct.rank = len(shape)
        for k, d in enumerate(shape):
            ct.dims[k] = int(d)
        ct.data = value.ctypes.data
        ct.bytes = value.nbytes
        buf = model.buffers[t.buffer]
        ct.is_constant = int(buf.data is not None and len(buf.data) > 0)
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale) > 0:
            ct.scale = float(q.scale[0])
            ct.zero_point = int(q.zeroPoint[0]) if q.zeroPoint is not None else 0
            scales = np.ascontiguousarray(np.asarray(q.scale, dtype=np.float32))
            keep.append(scales)
            ct.channel_scales = scales.ctypes.data_as(C.POINTER(C.c_float))
            ct.n_channel_scales = len(q.scale)
            ct.quantized_dimension = q.quantizedDimension
        keep.append(ct)
        return ct

    results = []
    work = np.zeros(1 << 20, dtype=np.uint8)
    for idx, op in enumerate(graph.operators):
        opcode = model.operatorCodes[op.opcodeIndex]
        code = max(opcode.builtinCode, opcode.deprecatedBuiltinCode)
        ctx = OpContext()
        ctx.op_index, ctx.builtin_code = idx, code
        ins = [int(i) for i in op.inputs]
        outs = [int(i) for i in op.outputs]
        ctx.n_inputs, ctx.n_outputs = len(ins), len(outs)
        for k, i in enumerate(ins):
            if i >= 0:
                ctx.inputs[k] = C.pointer(tensor(i, False))
        out_tensors = [tensor(i, True) for i in outs]
        for k, t in enumerate(out_tensors):
            ctx.outputs[k] = C.pointer(t)
        _fill_params(ctx, code, op.builtinOptions)
        msg = C.create_string_buffer(200)
        ctx.message, ctx.message_len = C.cast(msg, C.c_char_p), 200
        used = C.c_size_t(0)
        status = lib.kws_kernel_probe_run(C.byref(ctx), work.ctypes.data, work.nbytes,
                                          C.byref(used))
        name = fb.BuiltinOperator.__dict__
        op_name = next((k for k, v in name.items() if v == code and not k.startswith("_")),
                       str(code))
        differing, size = 0, 0
        if status == 0:
            ours = np.ctypeslib.as_array(C.cast(out_tensors[0].data, C.POINTER(C.c_uint8)),
                                         shape=(out_tensors[0].bytes,))
            theirs = np.ascontiguousarray(interp.get_tensor(outs[0])).view(np.uint8).reshape(-1)
            if ours.size == theirs.size:
                elem = max(1, interp.get_tensor(outs[0]).itemsize)
                a = ours.reshape(-1, elem)
                b = theirs.reshape(-1, elem)
                differing = int(np.any(a != b, axis=1).sum())
                size = a.shape[0]
            else:
                differing, size = -1, theirs.size
        results.append(OpResult(idx, op_name, status, msg.value.decode(errors="replace"),
                                differing, size))
    return results


def default_work_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "build" / "test-models"
