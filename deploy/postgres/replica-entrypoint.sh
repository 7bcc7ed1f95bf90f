#!/bin/sh
# Entry point of a streaming replica (official postgres image, run as the postgres user).
# First start (empty data directory): copy the primary with pg_basebackup -R, which writes
# primary_conninfo and standby.signal, on this replica's own slot. Every later start (a restart,
# the primary back after a crash) just starts the standby, which reconnects by itself.
set -eu
: "${PRIMARY_HOST:?}" "${REPLICATION_SLOT:?}" "${PGPASSWORD:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -p 5432 -q; do sleep 1; done
  pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U bilateral_replicator -D "$PGDATA" \
    -R -X stream -S "$REPLICATION_SLOT" --checkpoint=fast --no-password
  chmod 0700 "$PGDATA"
fi
exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on "$@"
