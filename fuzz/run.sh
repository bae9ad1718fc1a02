#!/bin/sh
# Builds the libFuzzer targets and runs one of them.
#   fuzz/run.sh [SECONDS] [TARGET]   SECONDS default 600 (10 minutes), 0 builds only;
#                                    TARGET model_loader (default) or session
# model_loader: any bytes as a model (verify, plan, prepare, invoke, metadata).
# session: the device's serial protocol and pipeline with the bundled model (fuzz_session.cc).
# Needs clang and libclang-rt (libFuzzer, ASan, UBSan). Output and corpora in build/fuzz/.
set -eu
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
TARGET=${2:-model_loader}
case "$TARGET" in model_loader|session) ;; *) echo "unknown target $TARGET (model_loader or session)" >&2; exit 2 ;; esac
OUT=build/fuzz
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/corpus_session"
FLAGS="-g -O1 -fwrapv -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -Ifirmware -Ifirmware/common -DKWS_HOST=1"
OBJS=""
# A change of flags rebuilds everything.
if [ "$(cat "$OUT/flags.txt" 2>/dev/null)" != "$FLAGS" ]; then rm -f "$OUT"/obj/*.o; fi
echo "$FLAGS" > "$OUT/flags.txt"
for src in $(find firmware/common/kws_status.c firmware/runtime firmware/kernels firmware/frontend \
    firmware/detector firmware/protocol firmware/mvp -name '*.c' -o -name '*.cc' | grep -v -e '/arm/' | sort); do
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
for t in model_loader session; do
  clang++ -std=c++17 -fno-exceptions $FLAGS -fsanitize=fuzzer "fuzz/fuzz_$t.cc" $OBJS -lm \
    -o "$OUT/fuzz_$t"
done
# Seeds: the bundled models and any small test models.
[ -f fuzz/make_seeds.py ] && [ -x .venv/bin/python ] && .venv/bin/python fuzz/make_seeds.py "$OUT/corpus" >/dev/null 2>&1 || true
for m in models/*.tflite tests/data/*.tflite; do [ -f "$m" ] && cp "$m" "$OUT/corpus/"; done
[ "$SECONDS_TO_RUN" = 0 ] && exit 0
if [ "$TARGET" = session ]; then
  .venv/bin/python fuzz/session_seeds.py "$OUT/corpus_session"
  exec "$OUT/fuzz_session" "$OUT/corpus_session" -max_len=8192 -max_total_time="$SECONDS_TO_RUN" \
    -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/session-"
fi
exec "$OUT/fuzz_model_loader" "$OUT/corpus" -max_len=262144 -max_total_time="$SECONDS_TO_RUN" \
  -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/"
