#!/usr/bin/env bash
# Prepare a Debian 12 machine to run dbarch and its whole test suite; run as root.
#
# Idempotent: every step checks first and does nothing when the machine is already ready, so
# CI runs it before each test run. It installs dbarch (editable, with the test extras), installs
# HypoPG for PostgreSQL 15, starts PostgreSQL, MariaDB and Redis when they do not answer, waits
# for each with a bounded timeout, and makes sure the database `test` exists on both servers.
#
# Settings (environment): PYTHON (default python3), WAIT_SECONDS per server (default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WAIT_SECONDS=${WAIT_SECONDS:-60}
PG_HOST=127.0.0.1
MY_HOST=127.0.0.1

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# wait_for NAME CHECK...: run CHECK once a second until it succeeds or WAIT_SECONDS pass.
wait_for() {
    local name=$1; shift
    local waited=0
    until "$@" >/dev/null 2>&1; do
        if (( waited >= WAIT_SECONDS )); then
            die "$name did not answer within ${WAIT_SECONDS}s (check: $*)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "$name answers (after ${waited}s)"
}

[[ $(id -u) -eq 0 ]] || die "run as root: it installs packages and starts servers"

# --- Python package -------------------------------------------------------------------------
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); dbarch needs Python 3.11 or newer"
say "installing dbarch (editable, with test extras) into $("$PYTHON" -V 2>&1)"
"$PYTHON" -m pip install --quiet --root-user-action=ignore -e '.[test]'

# --- HypoPG: hypothetical indexes for PostgreSQL index advice ----------------------------------
pg_major=""
for dir in /etc/postgresql/*/main; do  # the newest installed major version with a main cluster
    [[ -d $dir ]] && pg_major=$(basename "$(dirname "$dir")")
done
[[ -n $pg_major ]] || die "no PostgreSQL cluster under /etc/postgresql (apt-get install postgresql)"
hypopg="postgresql-${pg_major}-hypopg"
if dpkg -s "$hypopg" >/dev/null 2>&1; then
    say "$hypopg already installed"
else
    say "installing $hypopg"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$hypopg" >/dev/null
fi

# --- PostgreSQL ------------------------------------------------------------------------------
if pg_isready -q -h "$PG_HOST" -p 5432; then
    say "PostgreSQL $pg_major already running"
else
    say "starting PostgreSQL $pg_major"
    pg_ctlcluster --skip-systemctl-redirect "$pg_major" main start
fi
wait_for PostgreSQL pg_isready -q -h "$PG_HOST" -p 5432

if [[ $(psql -h "$PG_HOST" -U postgres -d postgres -XAtc \
        "SELECT 1 FROM pg_database WHERE datname = 'test'") == 1 ]]; then
    say "PostgreSQL database test exists"
else
    say "creating PostgreSQL database test"
    psql -h "$PG_HOST" -U postgres -d postgres -Xqc 'CREATE DATABASE test'
fi
# root connects too (the engine tests accept either user); trust auth, so no password.
if [[ $(psql -h "$PG_HOST" -U postgres -d postgres -XAtc \
        "SELECT 1 FROM pg_roles WHERE rolname = 'root'") != 1 ]]; then
    say "creating PostgreSQL role root"
    psql -h "$PG_HOST" -U postgres -d postgres -Xqc 'CREATE ROLE root LOGIN SUPERUSER'
fi
psql -h "$PG_HOST" -U postgres -d test -Xqc 'CREATE EXTENSION IF NOT EXISTS hypopg' 2>/dev/null \
    || die "CREATE EXTENSION hypopg failed in database test"
say "PostgreSQL: hypopg $(psql -h "$PG_HOST" -U postgres -d test -XAtc \
    "SELECT extversion FROM pg_extension WHERE extname = 'hypopg'") in database test"

# --- MariaDB ---------------------------------------------------------------------------------
if mariadb-admin -h "$MY_HOST" -uroot ping >/dev/null 2>&1; then
    say "MariaDB already running"
else
    say "starting MariaDB"
    install -d -o mysql -g mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
wait_for MariaDB mariadb-admin -h "$MY_HOST" -uroot ping
mariadb -h "$MY_HOST" -uroot -e 'CREATE DATABASE IF NOT EXISTS test'
say "MariaDB $(mariadb -h "$MY_HOST" -uroot -NBe 'SELECT VERSION()'): database test exists"

# --- Redis -----------------------------------------------------------------------------------
if [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; then
    say "Redis already running"
else
    say "starting Redis (no persistence: it only holds verification keys)"
    install -d /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }
wait_for Redis redis_ping

say "ready: $(dbarch --version)"

# --- pg_stat_statements (dbarch indexes --from-stats) ---------------------------------------
# The module must be preloaded, which needs a restart: add it to shared_preload_libraries,
# keeping whatever else is listed there, and restart only when the running value lacks it.
pg_libs=$(psql -h "$PG_HOST" -U postgres -d postgres -XAtc 'SHOW shared_preload_libraries')
if [[ ",${pg_libs// /}," == *,pg_stat_statements,* ]]; then
    say "PostgreSQL preloads pg_stat_statements"
else
    pg_libs_new=${pg_libs:+$pg_libs, }pg_stat_statements
    say "PostgreSQL: shared_preload_libraries = '$pg_libs_new' (restarting to load it)"
    # Through stdin so psql quotes the value itself (:'libs'); -c would not interpolate it.
    printf "ALTER SYSTEM SET shared_preload_libraries = :'libs'\n" \
        | psql -h "$PG_HOST" -U postgres -d postgres -Xq -v ON_ERROR_STOP=1 -v libs="$pg_libs_new"
    pg_ctlcluster --skip-systemctl-redirect "$pg_major" main restart
    wait_for PostgreSQL pg_isready -q -h "$PG_HOST" -p 5432
fi
psql -h "$PG_HOST" -U postgres -d test -Xq -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' \
    || die "CREATE EXTENSION pg_stat_statements failed in database test"
say "PostgreSQL: pg_stat_statements $(psql -h "$PG_HOST" -U postgres -d test -XAtc \
    "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'") in database test"
