#!/usr/bin/env bash
# The verify action's step (action/verify/action.yml): stop recording on the running server,
# then replay the cassette against a fresh in-process emulator and compare every answer.
set -euo pipefail
cassette="${INPUT_CASSETTE:?the cassette to verify}"
python - "${THEAZO_EMU_URL:?set by the start action}" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_emu/record", method="DELETE"), timeout=10)
PY
theazo-emu replay "$cassette" --verify
