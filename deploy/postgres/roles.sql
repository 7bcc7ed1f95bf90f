-- Roles for a production Postgres: the ingestion job writes, the API can only read.
-- Run once per cluster by the database superuser (docker-compose mounts it as an init script):
--   psql -v writer_password=... -v reader_password=... -d bilateral -f roles.sql
-- Idempotent: safe to run again.
SELECT format('CREATE ROLE bilateral_writer LOGIN PASSWORD %L', :'writer_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bilateral_writer') \gexec
SELECT format('CREATE ROLE bilateral_reader LOGIN PASSWORD %L', :'reader_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bilateral_reader') \gexec

GRANT CONNECT ON DATABASE :"DBNAME" TO bilateral_writer, bilateral_reader;
GRANT USAGE, CREATE ON SCHEMA public TO bilateral_writer;
GRANT USAGE ON SCHEMA public TO bilateral_reader;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Tables the writer creates (migrations) are readable, and only readable, by the reader.
ALTER DEFAULT PRIVILEGES FOR ROLE bilateral_writer IN SCHEMA public
    GRANT SELECT ON TABLES TO bilateral_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO bilateral_reader;
-- Even if a session turns read-only mode off, the reader has no write privilege to use.
ALTER ROLE bilateral_reader SET default_transaction_read_only = on;
