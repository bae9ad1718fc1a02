#!/bin/sh
# Builds the Cortex-M33 cost bench of the frontend (bench.c) and runs it on QEMU mps2-an505
# with -icount shift=0 (one virtual nanosecond per instruction). Prints "rows=N ticks=T
# checksum=C filterbank_mismatches=M": instructions per row = T * 50 / N (the 20 MHz timer
# ticks once per 50 instructions). These are instructions, not cycles (mix.py estimates
# cycles from the instruction mix).
#   build_and_run.sh [--stages] [--build-only] [OUT_DIR]
# --stages also prints instructions per row for each stage (the timer read between them);
# --build-only stops after printing the image's path. BENCH_CFLAGS adds compiler flags.
set -e
stages=0
run=1
while [ $# -gt 0 ]; do
  case "$1" in
    --stages) stages=1 ;;
    --build-only) run=0 ;;
    *) break ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:-"$repo/build/bench_frontend_m33"}
mkdir -p "$out"
elf="$out/frontend_m33_stages$stages.elf"
# shellcheck disable=SC2086 # BENCH_CFLAGS is a list of flags
arm-none-eabi-gcc -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 -O2 -std=c11 \
  -Wall -Wextra -Werror -ffunction-sections -fdata-sections -I"$repo/firmware" \
  -I"$repo/firmware/common" -DKWS_BENCH_STAGES=$stages ${BENCH_CFLAGS:-} \
  -nostartfiles --specs=nano.specs -T"$here/link.ld" -Wl,--gc-sections \
  "$here/startup.c" "$here/bench.c" "$repo"/firmware/frontend/*.c -lm -o "$elf"
if [ $run = 0 ]; then
  echo "$elf"
  exit 0
fi
qemu-system-arm -M mps2-an505 -cpu cortex-m33 -nographic -monitor none -serial none \
  -icount shift=0 -semihosting-config enable=on,target=native -kernel "$elf"
