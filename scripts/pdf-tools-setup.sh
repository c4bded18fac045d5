#!/usr/bin/env bash
# Install what ecard's PDF card tests need from the system packages.  Idempotent.
#
#   eval "$(bash scripts/pdf-tools-setup.sh)"
#
# 1. poppler-utils (pdfsig, pdftoppm, pdffonts): the independent PDF signature validator and
#    the rasteriser the tests read the printed QR code back from;
# 2. fonts-wqy-microhei (WenQuanYi Micro Hei, 1.6 MB download, TrueType outlines in a .ttc):
#    the smallest Debian CJK font reportlab can embed (reportlab reads TrueType outlines only,
#    not the CFF outlines of Noto/Source Han CJK);
# 3. prints, on stdout and nothing else, the environment to export:
#    ECARD_CJK_FONT (the font file ecard.pdf embeds).
#
# Each package is installed with apt-get only if its files are missing; `apt-get update` runs
# only when a package cannot be found or installed without it.  Progress and errors go to
# stderr.  Exit status is non-zero if any step fails.
set -euo pipefail

say() { printf '[pdf-tools-setup] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# shellcheck source=apt.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/apt.sh"

FONT_CANDIDATES=(
    /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
    /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
    /usr/share/fonts/truetype/arphic/uming.ttc
    /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
)

find_font() {
    local path
    if [ -n "${ECARD_CJK_FONT:-}" ] && [ -f "$ECARD_CJK_FONT" ]; then
        printf '%s\n' "$ECARD_CJK_FONT"
        return 0
    fi
    for path in "${FONT_CANDIDATES[@]}"; do
        if [ -f "$path" ]; then
            printf '%s\n' "$path"
            return 0
        fi
    done
    return 1
}

want=()
for tool in pdfsig pdftoppm pdffonts; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        want+=(poppler-utils)
        break
    fi
done
if ! find_font >/dev/null; then
    want+=(fonts-wqy-microhei)
fi
if [ "${#want[@]}" -gt 0 ]; then
    install_packages "${want[@]}"
fi

for tool in pdfsig pdftoppm pdffonts; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after installing poppler-utils"
done
FONT="$(find_font)" || die "no CJK font found after installing fonts-wqy-microhei"
say "poppler $(pdfsig -v 2>&1 | awk 'NR==1 {print $3}'), CJK font $FONT"

printf 'export ECARD_CJK_FONT=%q\n' "$FONT"
