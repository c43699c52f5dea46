#!/bin/sh
# sanitize.sh — the sanitizer step of the test command: a CPU build with ASan + UBSan (clang,
# libFuzzer instrumentation; build-asan/), the fast tests in it (no valgrind, no long reference
# runs), every fuzz harness's seed corpus replayed, then FUZZ_SECONDS (default 5) of fuzzing per
# harness from its seeds. Any sanitizer report, leak or fuzz finding fails.
# Usage: scripts/sanitize.sh [ctest args...]; called by scripts/test.sh (ODET_SANITIZE=0 skips it).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build-asan"
CC=${SANITIZE_CC:-clang-14}
if ! command -v "$CC" >/dev/null; then
  echo "sanitize.sh: $CC not found (scripts/deps.sh installs clang-14)" >&2
  exit 1
fi
CC=$CC cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DODET_CUDA=OFF -DODET_FUZZ=ON >/dev/null
cmake --build "$B" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export JSIMD_FORCENONE=1
cd "$B"
# the tests that passed under ASan + UBSan when this step was added (2026-12-06), named one by
# one so that a new test joins only once it is clean here. Left out: valgrind runs and the long
# reference comparisons (ONNX Runtime, TF.js, e2e: the plain build runs them); eval_cli (bounds
# RSS, which ASan inflates); api_exports / api_examples (inspect the installed library, not built
# for ASan). cpu_ops / cpu_ops_node joined once their loader aligned the test tensors, video_e2e,
# fuzz_replay_video and queue_e2e's odet video part once a context loaded FFmpeg once and kept
# it mapped (2026-12-07; each unload stranded ~12 KB of its dependencies' allocations).
ctest --output-on-failure -j"$(nproc)" \
  -R "^(api|api_gen_model|cancel_transposes|cli_opts|core|cpu_conv|cpu_conv_bf16_refused|cpu_centernet|cpu_conv_fast|cpu_letterbox|cpu_nchw16c|cpu_ops|cpu_ops_gen|cpu_ops_node|cpu_ops_node_gen|cpu_qconv|cpu_qconv_chain|cpu_quantize|detect_cli|engine|engine_cli|engine_faults|engine_plan_corrupt|eval|eval_np_mean|fp8|fcw_calib|fcw_logic|fcw_render|fold_pads|fuse_scores_nms|fuse_views|fuzz_gen_seeds|fuzz_replay_calib_cache|fuzz_replay_coco|fuzz_replay_fcw|fuzz_replay_head_config|fuzz_replay_image|fuzz_replay_onnx|fuzz_replay_plan|fuzz_replay_queue_result|fuzz_replay_tensor|fuzz_replay_tfjs|fuzz_replay_video|graph_shapes|heads|heads_onnx_nms|input_u8|import_gen_models|import_malformed|import_nodetests|import_onnx|import_tfjs_malformed|int8_cli|io_image|io_jpeg_header|io_nvdec|limits_cli|limits_opts|mux|pass_fuse|passes|pipeline_gen_model|pull|qdq_cli|quant|queue_e2e|queue_gen_model|report_cli|report_passes|sensitivity|serve|symmetric_pads|track|video_e2e)$" "$@"
"$ROOT/scripts/fuzz.sh" "${FUZZ_SECONDS:-5}" "$B"
