-- Streaming replication (the compose `scale` profile), run once on the primary by the
-- superuser, in the application database, after roles.sql. Idempotent:
--   psql -v replicator_password=... -v slots=replica_1,replica_2 -d bilateral -f replication.sql
-- Replicas copy everything below (roles, slots are the primary's own), so nothing runs on them.

-- The role replicas stream as: replication only, no access to any table.
SELECT format('CREATE ROLE bilateral_replicator WITH REPLICATION LOGIN PASSWORD %L',
              :'replicator_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bilateral_replicator') \gexec

-- One physical slot per replica: the primary keeps the WAL a replica has not received yet
-- (bounded by max_slot_wal_keep_size, so a replica gone for good cannot fill the disk).
SELECT pg_create_physical_replication_slot(slot)
FROM unnest(string_to_array(:'slots', ',')) AS slot
WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = slot);

-- What /readyz reports as writer_reachable: pg_stat_wal_receiver shows its status only to
-- superusers and pg_read_all_stats, so the SELECT-only API role gets this one column through
-- a function owned by the superuser, and nothing else.
CREATE OR REPLACE FUNCTION public.bilateral_wal_receiver(OUT status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
    AS $$ SELECT status FROM pg_catalog.pg_stat_wal_receiver $$;
REVOKE ALL ON FUNCTION public.bilateral_wal_receiver() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.bilateral_wal_receiver() TO bilateral_reader;
