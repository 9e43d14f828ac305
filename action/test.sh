#!/usr/bin/env bash
# The action's steps run as a script, as a workflow would run them: start recording, make
# traffic on both products, verify the cassette; then stop the server.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
python3 -m venv "$work/venv"  # a runner's own Python: the action installs into it
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
export RUNNER_TEMP="$work" GITHUB_ENV="$work/env" GITHUB_OUTPUT="$work/out" THEAZO_EMU_SOURCE="$root"
export INPUT_PORT="$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export INPUT_RECORD="$work/ci.jsonl" INPUT_PACE=instant
trap 'kill "$(cat "$work/theazo-emu.pid" 2>/dev/null)" 2>/dev/null || true' EXIT
bash "$root/action/start.sh"
export "$(grep '^THEAZO_EMU_URL=' "$GITHUB_ENV")"
python - "$THEAZO_EMU_URL" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
def call(method, path, body, key):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))
session = call("POST", "/v1/sessions", {"userId": "ci"}, "th_test_action")
agent = call("POST", f"/v1/sessions/{session['id']}/agents", {}, "th_test_action")
call("POST", f"/v1/agents/{agent['id']}/run", {"task": "hello"}, "th_test_action")
call("POST", "/api/v1/completions", {"prompt": "hello"}, "theo_sk_test_action")
PY
INPUT_CASSETTE="$INPUT_RECORD" bash "$root/action/verify.sh"
echo "action steps: started, recorded $(($(wc -l <"$INPUT_RECORD") - 1)) interactions, verified"
