#!/bin/sh
# docker-entrypoint-initdb.d hook of the primary (after 10-roles.sh): the replication role,
# one slot per replica, and the pg_hba line that lets replicas stream with a password.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v replicator_password="$BILATERAL_REPLICATOR_PASSWORD" \
  -v slots="$REPLICATION_SLOTS" \
  -f /bilateral/replication.sql
echo "host replication bilateral_replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
