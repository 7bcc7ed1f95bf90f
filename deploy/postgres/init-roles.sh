#!/bin/sh
# docker-entrypoint-initdb.d hook: create the writer and reader roles in the new database and
# lock the cluster down for them (deploy/postgres/roles.sql).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v writer_password="$BILATERAL_WRITER_PASSWORD" \
  -v reader_password="$BILATERAL_READER_PASSWORD" \
  -f "${BILATERAL_ROLES_SQL:-/bilateral/roles.sql}"
