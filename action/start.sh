#!/usr/bin/env bash
# The theazo-emu action's start step (action.yml): install the emulator from this checkout,
# start it in the background, wait for /_emu/health, export THEAZO_EMU_URL.
set -euo pipefail
source_dir="${THEAZO_EMU_SOURCE:?}"
port="${INPUT_PORT:-4010}"
log="${RUNNER_TEMP:-/tmp}/theazo-emu.log"
python -m pip install --quiet "$source_dir"
args=(serve --port "$port" --seed "${INPUT_SEED:-0}" --clock "${INPUT_CLOCK:-2025-01-01T00:00:00Z}"
      --pace "${INPUT_PACE:-realtime}")
[ -n "${INPUT_FIXTURES:-}" ] && args+=(--fixtures "$INPUT_FIXTURES")
[ -n "${INPUT_RECORD:-}" ] && args+=(--record "$INPUT_RECORD")
nohup theazo-emu "${args[@]}" >"$log" 2>&1 &
echo "$!" >"${RUNNER_TEMP:-/tmp}/theazo-emu.pid"
url="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  if python -c "import urllib.request,sys; urllib.request.urlopen('$url/_emu/health', timeout=1)" 2>/dev/null; then
    echo "THEAZO_EMU_URL=$url" >>"${GITHUB_ENV:-/dev/null}"
    echo "url=$url" >>"${GITHUB_OUTPUT:-/dev/null}"
    echo "theazo-emu is up at $url (log: $log)"
    exit 0
  fi
  sleep 0.1
done
echo "theazo-emu did not answer on $url within 30 s; its log:" >&2
cat "$log" >&2
exit 1
