#!/bin/sh
# Install what the build and the tests need on Debian, only when missing.
# Usage: scripts/deps.sh [build|test|fuzz]
#   build: compiler, pkg-config and the -dev libraries
#   fuzz:  build + clang (libFuzzer) and cmocka
#   test:  build + cmocka, tmux, zsh and fish (completion tests), node/npm
#          and the npm MCP servers (npm ci)
set -eu
what=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)

need_pkgs=""
want() { dpkg -s "$1" >/dev/null 2>&1 || need_pkgs="$need_pkgs $1"; }

for p in build-essential pkg-config libncurses-dev libcurl4-openssl-dev \
         libcjson-dev libsqlite3-dev libgit2-dev libyaml-dev libssl-dev \
         libmicrohttpd-dev; do
    want "$p"
done
if [ "$what" = test ]; then
    for p in libcmocka-dev tmux sqlite3 git libxml2-utils prometheus zsh fish; do want "$p"; done
    command -v node >/dev/null 2>&1 || want nodejs
    command -v npm >/dev/null 2>&1 || want npm
fi
if [ "$what" = fuzz ]; then
    want clang
    want libcmocka-dev
fi

if [ -n "$need_pkgs" ]; then
    echo "deps: installing$need_pkgs" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_pkgs >&2
fi

if [ "$what" = test ]; then
    srv="$top/tests/servers"
    if [ ! -f "$srv/node_modules/.stamp" ] || \
       [ "$srv/package-lock.json" -nt "$srv/node_modules/.stamp" ]; then
        echo "deps: npm ci in tests/servers" >&2
        (cd "$srv" && npm ci --no-audit --no-fund --loglevel=error >&2)
        touch "$srv/node_modules/.stamp"
    fi
fi
