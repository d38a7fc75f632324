#!/bin/sh
# Runs a command (for `go test -exec`: the test binary and its flags) in a new network namespace that
# holds only the loopback interface, brought up. A user namespace maps the caller to root in it, so no
# privileges are needed where the kernel allows unprivileged user namespaces.
exec unshare --net --map-root-user sh -c 'PATH="$PATH:/usr/sbin:/sbin"; ip link set lo up && exec "$0" "$@"' "$@"
