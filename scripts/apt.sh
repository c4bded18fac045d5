# Shared by the setup scripts (sourced, not run): install Debian packages with apt-get, as root
# or through sudo, running `apt-get update` only when a package cannot be found or installed
# without it. The sourcing script defines say() and die() first.

# as_root COMMAND...: run it as root (directly, or through non-interactive sudo)
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "cannot run '$*': not root and no sudo"
    fi
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "$@" >&2
}

# install_packages PACKAGE...: install them; update the package lists once if needed
install_packages() {
    command -v apt-get >/dev/null 2>&1 \
        || die "missing $*, and there is no apt-get: install them with the system's packager"
    say "installing $* (apt-get)"
    local candidate stale=0 pkg
    for pkg in "$@"; do
        candidate="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
        if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
            stale=1
        fi
    done
    if [ "$stale" -eq 1 ] || ! apt_install "$@"; then
        say "package lists are missing or stale: apt-get update"
        as_root apt-get update -q >&2 || die "apt-get update failed"
        apt_install "$@" || die "apt-get install $* failed"
    fi
}
