#!/usr/bin/env bash
# Usage: tests/integration/with-server.sh HOST_BINARY COMMAND [ARG...]
# Starts HOST_BINARY on a free loopback port with the module loaded (lib.sh's start_server),
# runs COMMAND with every argument "{port}" replaced by that port, stops the server, and exits
# with COMMAND's status. Used by `make vectors`. MODULE_LOAD_ARGS="field-ttl-policy persist"
# adds load arguments (the way configs are given on every host, Redis 6.x included).
[ $# -ge 2 ] || { sed -n '2,7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
REDIS_SERVER=$1
shift
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2206 # words on purpose
MODULE_ARGS=(${MODULE_LOAD_ARGS:-})
start_server main
echo "with-server: $(host_label) on 127.0.0.1:$CUR_PORT, module $MODULE"
args=()
for a in "$@"; do args+=("${a//\{port\}/$CUR_PORT}"); done
"${args[@]}"
