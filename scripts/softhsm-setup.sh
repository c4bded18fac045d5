#!/usr/bin/env bash
# Set up a SoftHSM2 token for ecard's PKCS#11 tests and CI.  Idempotent.
#
#   eval "$(scripts/softhsm-setup.sh)"
#
# 1. installs SoftHSM2 from the system packages if `softhsm2-util` is missing (apt-get; runs
#    `apt-get update` only when the package cannot be found or installed without it);
# 2. creates a token directory under $ECARD_SOFTHSM_DIR (default: .softhsm in the repository,
#    which is git-ignored) with its own softhsm2.conf;
# 3. initialises the token "ecard-test" there unless it already exists;
# 4. prints, on stdout and nothing else, the environment to export:
#    SOFTHSM2_CONF, ECARD_PKCS11_MODULE, ECARD_PKCS11_TOKEN, ECARD_PKCS11_PIN.
#
# Progress and errors go to stderr.  Exit status is non-zero if any step fails.
#
# !!! TEST ONLY !!!  The PIN and SO-PIN below are fixed, public and worthless: this token is for
# tests and CI.  Never put a production key on it; a production HSM has its own PIN policy.
set -euo pipefail

ECARD_TEST_TOKEN_LABEL="ecard-test"
ECARD_TEST_USER_PIN="ecard-test-pin-1234"   # TEST ONLY - public, fixed
ECARD_TEST_SO_PIN="ecard-test-so-5678"      # TEST ONLY - public, fixed

say() { printf '[softhsm-setup] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${ECARD_SOFTHSM_DIR:-$ROOT/.softhsm}"

# --- 1. install ---------------------------------------------------------------------------------

# shellcheck source=apt.sh
. "$ROOT/scripts/apt.sh"

if ! command -v softhsm2-util >/dev/null 2>&1; then
    install_packages softhsm2
    command -v softhsm2-util >/dev/null 2>&1 || die "softhsm2-util still missing after install"
fi

# --- the PKCS#11 module -------------------------------------------------------------------------

find_module() {
    local pkg path
    if command -v dpkg >/dev/null 2>&1; then
        for pkg in libsofthsm2 softhsm2; do
            path="$(dpkg -L "$pkg" 2>/dev/null | grep -E '/libsofthsm2\.so$' | head -n 1 || true)"
            if [ -n "$path" ] && [ -f "$path" ]; then
                printf '%s\n' "$path"
                return 0
            fi
        done
    fi
    for path in \
        /usr/lib/softhsm/libsofthsm2.so \
        /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
        /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
        /usr/lib64/pkcs11/libsofthsm2.so \
        /usr/lib/pkcs11/libsofthsm2.so \
        /usr/local/lib/softhsm/libsofthsm2.so \
        /opt/homebrew/lib/softhsm/libsofthsm2.so \
        /usr/local/opt/softhsm/lib/softhsm/libsofthsm2.so; do
        if [ -f "$path" ]; then
            printf '%s\n' "$path"
            return 0
        fi
    done
    return 1
}

MODULE="$(find_module)" || die "libsofthsm2.so not found (is the softhsm2 package complete?)"

# --- 2. token directory and configuration -------------------------------------------------------

mkdir -p "$DIR/tokens"
chmod 700 "$DIR" "$DIR/tokens"
DIR="$(cd "$DIR" && pwd)"
CONF="$DIR/softhsm2.conf"
want_conf="# ecard test token (TEST ONLY) - written by scripts/softhsm-setup.sh
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false"
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$want_conf" ]; then
    printf '%s\n' "$want_conf" >"$CONF"
fi
export SOFTHSM2_CONF="$CONF"

# --- 3. the token -------------------------------------------------------------------------------

if softhsm2-util --show-slots 2>/dev/null | grep -Eq "^[[:space:]]*Label:[[:space:]]+${ECARD_TEST_TOKEN_LABEL}[[:space:]]*$"; then
    say "token '$ECARD_TEST_TOKEN_LABEL' already initialised in $DIR"
else
    say "initialising token '$ECARD_TEST_TOKEN_LABEL' in $DIR (test-only PINs)"
    softhsm2-util --init-token --free --label "$ECARD_TEST_TOKEN_LABEL" \
        --pin "$ECARD_TEST_USER_PIN" --so-pin "$ECARD_TEST_SO_PIN" >&2 \
        || die "softhsm2-util --init-token failed"
fi

# --- 4. the environment -------------------------------------------------------------------------

q() { printf '%q' "$1"; }
printf 'export SOFTHSM2_CONF=%s\n' "$(q "$CONF")"
printf 'export ECARD_PKCS11_MODULE=%s\n' "$(q "$MODULE")"
printf 'export ECARD_PKCS11_TOKEN=%s\n' "$(q "$ECARD_TEST_TOKEN_LABEL")"
printf 'export ECARD_PKCS11_PIN=%s  # TEST ONLY\n' "$(q "$ECARD_TEST_USER_PIN")"
