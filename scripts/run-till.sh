#!/usr/bin/env bash
# Set up Kasir's till and open its touchscreen app with simulated hardware and the bundled
# demo catalog (a window on a desktop; full screen on the Pi).
# Usage: bash scripts/run-till.sh   (data goes to ./demo-data)
KASIR_EXTRAS=till
KASIR_APT="$(grep -v '^#' "$(dirname "$0")/apt-till.txt" | xargs)"
source "$(dirname "$0")/bootstrap.sh"
export KASIR_DATA=${KASIR_DATA:-$PWD/demo-data}
exec .venv/bin/kasir run --simulate "$@"
