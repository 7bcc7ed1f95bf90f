"""Guards for the API's SELECT-only Postgres role, beyond what privileges can express.

PostgreSQL lets every role `ALTER ROLE <self> [IN DATABASE …] SET` any user-settable parameter,
and those defaults reach every later session of the role, the API's included. The API fixes the
settings it relies on in the connection options (app/db.py); `undo_self_set_settings` resets
any other user-settable one the role carries to the server's built-in default on each new
connection. `write_capabilities` lists what the role could change for good; `bilateral serve`
refuses to start when it finds anything and REQUIRE_READ_ONLY_ROLE is set.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, text

logger = logging.getLogger("bilateral.db")

# User-settable parameters whose value comes from ALTER ROLE … SET (with or without IN DATABASE):
# the role may have set them itself. Database-wide and server settings need an owner/superuser.
_SELF_SET = (
    "SELECT name, boot_val FROM pg_settings "
    "WHERE source IN ('user', 'database user') AND context = 'user'"
)

_WRITE_CAPABILITIES = text(
    """
SELECT 'role attribute ' || attr
FROM pg_roles r,
     LATERAL (VALUES ('SUPERUSER', r.rolsuper), ('CREATEROLE', r.rolcreaterole),
                     ('CREATEDB', r.rolcreatedb), ('REPLICATION', r.rolreplication),
                     ('BYPASSRLS', r.rolbypassrls)) AS a(attr, granted)
WHERE r.rolname = current_user AND granted
UNION ALL
SELECT 'member of ' || rolname FROM pg_roles
WHERE rolname IN ('pg_write_all_data', 'pg_write_server_files', 'pg_execute_server_program',
                  'pg_signal_backend', 'pg_checkpoint')
  AND pg_has_role(current_user, oid, 'USAGE')
UNION ALL
SELECT format('%s on %s', p, c.oid::regclass)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace,
     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
  AND has_table_privilege(c.oid, p)
UNION ALL
SELECT format('UPDATE on sequence %s', c.oid::regclass)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT LIKE 'pg\\_%'
  AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE, UPDATE') END
UNION ALL
SELECT format('CREATE on schema %I', nspname) FROM pg_namespace
WHERE has_schema_privilege(oid, 'CREATE')
UNION ALL
SELECT format('%s on database %I', p, datname)
FROM pg_database, unnest(ARRAY['CREATE', 'TEMPORARY']) AS p
WHERE datname = current_database() AND has_database_privilege(oid, p)
UNION ALL
SELECT format('CONNECT on database %I', datname) FROM pg_database
WHERE datallowconn AND datname <> current_database() AND has_database_privilege(oid, 'CONNECT')
UNION ALL
SELECT format('EXECUTE on %s', oid::regprocedure) FROM pg_proc
WHERE pronamespace = 'pg_catalog'::regnamespace
  AND proname IN ('lo_creat', 'lo_create', 'lo_from_bytea', 'lo_import', 'lo_put', 'lowrite',
                  'lo_truncate', 'lo_truncate64', 'lo_unlink')
  AND has_function_privilege(oid, 'EXECUTE')
UNION ALL
SELECT 'temporary files without limit (temp_file_limit = -1)'
WHERE current_setting('temp_file_limit') = '-1'
"""
)


def undo_self_set_settings(dbapi_conn: Any, _record: Any) -> None:
    """Connect hook: the role's self-set defaults (work_mem='2GB'…) do not reach the API."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(_SELF_SET)
        found = cursor.fetchall()
        for name, boot_value in found:
            cursor.execute("SELECT set_config(%s, %s, false)", (name, boot_value))
    finally:
        cursor.close()
    dbapi_conn.commit()
    if found:
        logger.warning(
            "ignored role-level settings %s: the role may have set them itself; "
            "tune the API through postgresql.conf or ALTER DATABASE instead",
            ", ".join(name for name, _ in found),
        )


def write_capabilities(conn: Connection) -> list[str]:
    """Everything the connected role could change for good; empty for a proper reader role."""
    return [str(row[0]) for row in conn.execute(_WRITE_CAPABILITIES)]
