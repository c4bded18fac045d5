#!/usr/bin/env bash
# Everything outside Python that ecard's tests need, prepared in one place.  Idempotent.
#
#   eval "$(bash scripts/system-setup.sh)"      (`python3 dev.py test` does this for you)
#
# 1. installs, with ONE apt-get call and only for what is missing:
#      softhsm2            a real PKCS#11 token (softhsm2-util, libsofthsm2.so)
#      poppler-utils       pdfsig, pdftoppm, pdftocairo, pdffonts, pdftotext: independent PDF checks
#      fonts-wqy-microhei  the CJK font the PDF card embeds
#      openssl             the openssl CLI: an independent SM2/X.509 implementation
#      zbar-tools          zbarimg: a second QR decoder
#      librsvg2-bin        rsvg-convert: rasterises the SVG QR code for the decoders
#      postgresql          initdb and pg_ctl: the tests start a throwaway PostgreSQL server
#      chromium            the browser the wallet/counter/clerk page tests drive (Playwright,
#                          launched with this executable: no browser is downloaded)
#      (fonts-wqy-microhei above is also the CJK font Chromium renders the pages with)
#    `apt-get update` runs only when a package cannot be found or installed without it;
# 2. runs scripts/softhsm-setup.sh (the test token) and scripts/pdf-tools-setup.sh (the font);
# 3. prints, on stdout and nothing else, the environment to export: SOFTHSM2_CONF,
#    ECARD_PKCS11_MODULE, ECARD_PKCS11_TOKEN, ECARD_PKCS11_PIN, ECARD_CJK_FONT, ECARD_PG_BIN
#    (the directory of PostgreSQL's server programs; Debian keeps them off PATH) and
#    ECARD_CHROMIUM (the Chromium executable).
#
# Progress and errors go to stderr.  Exit status is non-zero if anything is still missing.
# tests/conftest.py checks the same list at the start of every test session and stops the run
# if anything is missing: the tests never skip for want of a tool.
set -euo pipefail

say() { printf '[system-setup] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=apt.sh
. "$HERE/apt.sh"

have() { command -v "$1" >/dev/null 2>&1; }

FONTS=(
    /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
    /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
    /usr/share/fonts/truetype/arphic/uming.ttc
    /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
)
have_font() {
    local f
    if [ -n "${ECARD_CJK_FONT:-}" ] && [ -f "$ECARD_CJK_FONT" ]; then return 0; fi
    for f in "${FONTS[@]}"; do [ -f "$f" ] && return 0; done
    return 1
}

want=()
have softhsm2-util || want+=(softhsm2)
{ have pdfsig && have pdftoppm && have pdftocairo && have pdffonts && have pdftotext; } || want+=(poppler-utils)
have_font || want+=(fonts-wqy-microhei)
have openssl || want+=(openssl)
have zbarimg || want+=(zbar-tools)
have rsvg-convert || want+=(librsvg2-bin)
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
have_pg() { local d; d="$(pg_bin)"; [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; }
have_pg || want+=(postgresql)
chromium_bin() { command -v chromium 2>/dev/null || true; }
[ -n "$(chromium_bin)" ] || want+=(chromium)
if [ "${#want[@]}" -gt 0 ]; then
    install_packages "${want[@]}"
fi

for tool in softhsm2-util pdfsig pdftoppm pdftocairo pdffonts pdftotext openssl zbarimg rsvg-convert; do
    have "$tool" || die "$tool still missing after installing ${want[*]}"
done
have_pg || die "PostgreSQL's initdb/pg_ctl still missing after installing ${want[*]}"
[ -n "$(chromium_bin)" ] || die "chromium still missing after installing ${want[*]}"
openssl genpkey -algorithm SM2 >/dev/null 2>&1 || die "the openssl CLI cannot make SM2 keys"

# the token and the font: the two scripts print their exports on stdout, which is ours
bash "$HERE/softhsm-setup.sh" || die "scripts/softhsm-setup.sh failed"
bash "$HERE/pdf-tools-setup.sh" || die "scripts/pdf-tools-setup.sh failed"
printf 'export ECARD_PG_BIN=%q\n' "$(pg_bin)"
printf 'export ECARD_CHROMIUM=%q\n' "$(chromium_bin)"
say "ready: softhsm2, poppler-utils, CJK font, openssl $(openssl version | awk '{print $2}'), $(zbarimg --version 2>/dev/null | head -n 1 | sed 's/^/zbar /'), $(rsvg-convert --version 2>/dev/null | head -n 1), PostgreSQL $("$(pg_bin)/initdb" --version | awk '{print $3}'), $(chromium --version 2>/dev/null | head -n 1)"
