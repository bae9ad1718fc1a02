#!/bin/sh
# Builds and runs the libFuzzer target over the model loader.
#   fuzz/run.sh [SECONDS]     default 600 (10 minutes); 0 builds only
# Needs clang and libclang-rt (libFuzzer, ASan, UBSan). Output and corpus in build/fuzz/.
set -eu
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
OUT=build/fuzz
mkdir -p "$OUT/obj" "$OUT/corpus"
FLAGS="-g -O1 -fwrapv -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -Ifirmware -Ifirmware/common -DKWS_HOST=1"
OBJS=""
# A change of flags rebuilds everything.
if [ "$(cat "$OUT/flags.txt" 2>/dev/null)" != "$FLAGS" ]; then rm -f "$OUT"/obj/*.o; fi
echo "$FLAGS" > "$OUT/flags.txt"
for src in $(find firmware/common/kws_status.c firmware/runtime firmware/kernels -name '*.c' -o -name '*.cc' | grep -v -e '/arm/' -e '/mvp/' | sort); do
  obj="$OUT/obj/$(echo "$src" | tr '/' '_').o"
  OBJS="$OBJS $obj"
  # Rebuild only what changed (the source, or any firmware header, newer than the object).
  if [ -f "$obj" ] && [ "$obj" -nt "$src" ] && [ -z "$(find firmware -name '*.h' -newer "$obj" | head -1)" ]; then
    continue
  fi
  case "$src" in
    *.cc) clang++ -std=c++17 -fno-exceptions -fno-rtti $FLAGS -c "$src" -o "$obj" ;;
    *.c) clang -std=c11 $FLAGS -c "$src" -o "$obj" ;;
  esac
done
clang++ -std=c++17 -fno-exceptions $FLAGS -fsanitize=fuzzer fuzz/fuzz_model_loader.cc $OBJS -lm \
  -o "$OUT/fuzz_model_loader"
# Seeds: the bundled models and any small test models.
[ -f fuzz/make_seeds.py ] && [ -x .venv/bin/python ] && .venv/bin/python fuzz/make_seeds.py "$OUT/corpus" >/dev/null 2>&1 || true
for m in models/*.tflite tests/data/*.tflite; do [ -f "$m" ] && cp "$m" "$OUT/corpus/"; done
[ "$SECONDS_TO_RUN" = 0 ] && exit 0
exec "$OUT/fuzz_model_loader" "$OUT/corpus" -max_len=262144 -max_total_time="$SECONDS_TO_RUN" \
  -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/"
