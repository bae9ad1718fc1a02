"""The MVP kernels' CPU side on QEMU's Cortex-M33 (bench/mvp/m33): the CPU share's DSP path
(SXTB16/SMLAD dot products, SMLAL requantization) bit-exact against a plain int32 reference, and
one inference of the alexa model with the MVP kernels and a register image that executes
nothing: it completes, and starts exactly the programs the host simulator runs, in the same
order per operator, so the measured timeline lines up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench" / "mvp"))


@pytest.mark.slow
def test_cpu_side_on_the_m33_is_exact_and_lines_up_with_the_simulator(native_lib):
    import m33
    from kwshost import mvp

    if not m33.available():
        pytest.skip("needs gcc-arm-none-eabi and qemu-system-arm (./scripts/bootstrap)")
    run = m33.run_qemu(m33.build(mvp.CPU_SHARE_SPLIT, out=REPO / "build" / "test_mvp_m33"))
    assert run.check_mismatches == 0
    assert run.status == {0: 0, 1: 0, 2: 0}
    for share in (0, 1, 2):  # 2: the first inference after allocation (builds what 1 reuses)
        progs, per_op = m33.host_program_cycles(mvp.CPU_SHARE_SPLIT if share else None)
        started = [op for kind, op, _ in run.events[share] if kind == "S"]
        assert [started.count(i) for i in range(len(per_op))] == per_op
        ops, total, cpu = m33.timeline(run.events[share], run.trace_instr, progs, 1.0)
        assert total >= sum(progs) and cpu > 0  # the MVP's cycles are a lower bound
        assert abs(sum(o.cycles for o in ops) - total) < 1.0
