#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server: `scripts/with-postgres.sh [--durable] CMD ARGS...`.
#
# Starts a fresh cluster in a temporary folder (fsync off: it is thrown away; with
# `--durable`, fsync, synchronous_commit and full_page_writes stay on, as production runs
# them: the benchmarks measure with that), exports
# its URL as HERALD_TEST_POSTGRES_URL, runs CMD, then stops the server and removes the
# cluster even when CMD fails or is interrupted; exits with CMD's exit code.
# HERALD_PG_SHARED_BUFFERS sets the server's shared_buffers (default 64MB; the benchmarks
# run with a production-like 256MB, see bench/README.md).
# If HERALD_TEST_POSTGRES_URL is already set, CMD just runs against that server.
# Missing server binaries are installed from Debian's `postgresql` package when we are
# root; otherwise CMD runs without a URL (the PostgreSQL tests then skip, or fail in CI).
set -euo pipefail

DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [[ "${1:-}" == "--durable" ]]; then
    DURABILITY="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    shift
fi
if [[ $# -eq 0 ]]; then
    echo "usage: $0 [--durable] COMMAND [ARGS...]" >&2
    exit 2
fi
if [[ -n "${HERALD_TEST_POSTGRES_URL:-}" ]]; then
    exec "$@"
fi

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            echo "$d"
            return 0
        fi
    done
    if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/postgres" ]]; then
        pg_config --bindir
        return 0
    fi
    return 1
}

BINDIR="$(find_bindir || true)"
if [[ -z "$BINDIR" && "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "with-postgres: installing the postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BINDIR="$(find_bindir || true)"
fi
if [[ -z "$BINDIR" ]]; then
    echo "with-postgres: no PostgreSQL server found; running without one" >&2
    exec "$@"
fi

# initdb refuses to run as root: the cluster belongs to an unprivileged user.
AS=()
if [[ "$(id -u)" -eq 0 ]]; then
    PGUSER_OS=postgres
    if ! id "$PGUSER_OS" >/dev/null 2>&1; then
        PGUSER_OS=herald-test
        id "$PGUSER_OS" >/dev/null 2>&1 || useradd --system --no-create-home "$PGUSER_OS"
    fi
    AS=(runuser -u "$PGUSER_OS" --)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/herald-pg.XXXXXX")"
[[ ${#AS[@]} -gt 0 ]] && chown "$PGUSER_OS" "$WORK"
DATA="$WORK/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cleanup() {
    "${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${AS[@]}" "$BINDIR/initdb" -D "$DATA" -U herald -A trust -E UTF8 --locale=C --no-sync \
    >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
"${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK $DURABILITY $(
    ) -c max_connections=300 -c shared_buffers=${HERALD_PG_SHARED_BUFFERS:-64MB}" >/dev/null \
    || { cat "$WORK/server.log" >&2; exit 1; }
"${AS[@]}" "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U herald herald

export HERALD_TEST_POSTGRES_URL="postgresql://herald@127.0.0.1:$PORT/herald"
[[ "$DURABILITY" == *"fsync=on"* ]] && export HERALD_TEST_POSTGRES_DURABLE=1
echo "with-postgres: $("$BINDIR/postgres" --version) at" \
    "$HERALD_TEST_POSTGRES_URL" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
