# Shared set-up for scripts/run-till.sh and scripts/run-tests.sh (sourced, not run).
# Makes .venv with Python 3.11 and installs Kasir with the extras given in $KASIR_EXTRAS,
# after the Debian packages listed in $KASIR_APT (installed only when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> apt-get install ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11)' 2>/dev/null; then
    echo "Kasir needs Python 3.11 (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv python3-pip
fi
# shellcheck disable=SC2086
[ -n "${KASIR_APT:-}" ] && apt_install $KASIR_APT

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "==> pip install -e .[${KASIR_EXTRAS}]"
.venv/bin/python -m pip install -q -e ".[${KASIR_EXTRAS}]"
