#!/usr/bin/env bash
# Regenerates fixtures/lab/: every `execscope lab` scenario run with the real kubectl against the lab
# (echo, stdin, exit code, command not found, stderr, tty with resizes, large output — over WebSocket
# and SPDY — each fault, the WebSocket→SPDY fallback, and port-forward tunnelled in WebSocket and over SPDY). Each recording gets a truth file written
# from what the lab's servers observed, never from decoding it. Recordings over 1 MiB are gzipped
# (the reader opens .gz directly). Then checks every fixture with the shared checker when present.
#
#   scripts/record-fixtures.sh [SCENARIO...]      (default: all; `node dist/cli.js lab --scenario list`)
#
# Needs kubectl (v1.32.4 on our machines) and python3 on PATH; takes about two minutes (two scenarios
# wait out kubectl's 30 s stream timeout).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build --silent
out=fixtures/lab
mkdir -p "$out"

if (($#)); then
  scenarios=("$@")
else
  mapfile -t scenarios < <(node dist/cli.js lab --scenario list | awk '{print $1}')
fi

failed=0
for name in "${scenarios[@]}"; do
  rm -f "$out/lab-$name.pcapng" "$out/lab-$name.pcapng.gz" "$out/lab-$name.truth.json"
  if ! node dist/cli.js lab --scenario "$name" --out "$out"; then
    failed=1
    continue
  fi
  capture="$out/lab-$name.pcapng"
  if (($(stat -c %s "$capture") > 1048576)); then
    gzip -9 -f "$capture"
    node -e '
      const fs = require("fs");
      const [file, name] = process.argv.slice(1);
      const truth = JSON.parse(fs.readFileSync(file, "utf8"));
      truth.file = truth.files.capture = name;
      fs.writeFileSync(file, JSON.stringify(truth, null, 2) + "\n");
    ' "$out/lab-$name.truth.json" "lab-$name.pcapng.gz"
  fi
done
rm -rf "$out/.work"

# The same comparison as `npm run test:captures` (which says why the port-forward recordings are left to jest).
node scripts/check-fixtures.mjs || failed=1
exit $failed
