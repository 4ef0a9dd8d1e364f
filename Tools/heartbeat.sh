#!/usr/bin/env bash
# Tools/heartbeat.sh LABEL COMMAND...: runs COMMAND and, while it runs, prints
# "LABEL: still working (N s)" on stderr every 20 s. A release compile of one
# big module, or pip resolving wheels, prints nothing for minutes; this keeps
# every phase of `make demo` / `make test` visibly alive. Exits with COMMAND's status.
set -uo pipefail
label=$1
shift
start=$(date +%s)
"$@" &
pid=$!
(
  while sleep 20; do
    kill -0 "$pid" 2>/dev/null || exit 0
    echo "$label: still working ($(( $(date +%s) - start )) s)" >&2
  done
) &
ticker=$!
wait "$pid"
status=$?
kill "$ticker" 2>/dev/null
wait "$ticker" 2>/dev/null
exit "$status"
