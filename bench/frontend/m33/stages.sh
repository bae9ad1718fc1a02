#!/bin/sh
# Per-stage Cortex-M33 cost of the frontend (bench_stages.c) on QEMU mps2-an505 with
# -icount shift=0: instructions per row for each stage, not cycles.
set -e
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:-"$repo/build/bench_frontend_m33"}
mkdir -p "$out"
arm-none-eabi-gcc -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 -O2 -std=c11 \
  -Wall -Wextra -ffunction-sections -fdata-sections -I"$repo/firmware" -I"$repo/firmware/common" \
  -nostartfiles --specs=nano.specs -T"$here/link.ld" -Wl,--gc-sections \
  "$here/startup.c" "$here/bench_stages.c" "$repo"/firmware/frontend/*.c -lm -o "$out/frontend_m33_stages.elf"
qemu-system-arm -M mps2-an505 -cpu cortex-m33 -nographic -monitor none -serial none \
  -icount shift=0 -semihosting-config enable=on,target=native -kernel "$out/frontend_m33_stages.elf"
echo
