-- Roles for a production Postgres: the ingestion job writes, the API can only read.
-- Run by the database superuser in the application database (docker-compose runs it at init):
--   psql -v writer_password=... -v reader_password=... -d bilateral -f roles.sql
-- Optional variables: writer_role, reader_role (default bilateral_writer, bilateral_reader);
-- lock_cluster=off leaves the other databases of the cluster alone (default: on, i.e. PUBLIC
-- loses CONNECT and TEMPORARY on every other database, for a cluster that serves only us).
-- Idempotent, and re-running it is the repair: it re-asserts both passwords, every attribute
-- and privilege, and removes any setting the reader put on itself.
\set ON_ERROR_STOP on
\if :{?writer_role}
\else
\set writer_role bilateral_writer
\endif
\if :{?reader_role}
\else
\set reader_role bilateral_reader
\endif
\if :{?lock_cluster}
\else
\set lock_cluster on
\endif

SELECT format('CREATE ROLE %I', :'writer_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'writer_role') \gexec
SELECT format('CREATE ROLE %I', :'reader_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reader_role') \gexec
ALTER ROLE :"writer_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS PASSWORD :'writer_password';
-- Every role may change its own password (PostgreSQL's ALTER ROLE allows it and nothing can
-- revoke that); running this script again restores the configured one.
ALTER ROLE :"reader_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT PASSWORD :'reader_password';

-- Session defaults. Every role may also `ALTER ROLE <self> [IN DATABASE …] SET` any
-- user-settable parameter; drop whatever the reader set, then the superuser's own settings.
-- temp_file_limit is superuser-only: the reader can neither raise nor reset it, so none of its
-- sessions can write more than 1 GB of temporary files. The API additionally fixes its own session
-- settings at connect time and undoes any other role-level one (app/db.py, app/pg_guard.py).
ALTER ROLE :"reader_role" RESET ALL;
SELECT format('ALTER ROLE %I IN DATABASE %I RESET ALL', :'reader_role', datname)
FROM pg_database WHERE datallowconn \gexec
ALTER ROLE :"reader_role" SET default_transaction_read_only = on;
ALTER ROLE :"reader_role" SET temp_file_limit = '1GB';

-- This database: only the two roles may connect; nobody gets TEMPORARY or CREATE through PUBLIC.
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
REVOKE ALL ON DATABASE :"DBNAME" FROM :"reader_role";
GRANT CONNECT ON DATABASE :"DBNAME" TO :"writer_role", :"reader_role";
\if :lock_cluster
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', datname)
FROM pg_database WHERE datname <> current_database() \gexec
\endif

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"writer_role";
GRANT USAGE ON SCHEMA public TO :"reader_role";

-- Large objects live outside any table privilege: lo_create() works even in a read-only
-- transaction. Nobody but the superuser needs them here.
SELECT format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', oid::regprocedure)
FROM pg_proc
WHERE pronamespace = 'pg_catalog'::regnamespace
  AND (proname LIKE 'lo\_%' OR proname IN ('loread', 'lowrite')) \gexec

-- Tables the writer creates (migrations) are readable, and only readable, by the reader.
ALTER DEFAULT PRIVILEGES FOR ROLE :"writer_role" IN SCHEMA public
    GRANT SELECT ON TABLES TO :"reader_role";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader_role";
