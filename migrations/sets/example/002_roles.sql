-- The roles PostgREST's tutorials use: authenticator logs in and switches to web_anon (no JWT) or web_user (a
-- JWT whose role claim is web_user). Roles are cluster-wide, so they are created only when missing and kept on
-- the way down.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_anon') THEN
    CREATE ROLE web_anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_user') THEN
    CREATE ROLE web_user NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
END $$;
GRANT web_anon, web_user TO authenticator;
-- A password for the authenticator, when the migration connection sets one (docker-compose passes
-- options=-c pgway.authenticator_password=...); never stored in the migration itself.
DO $$
BEGIN
  IF coalesce(current_setting('pgway.authenticator_password', true), '') <> '' THEN
    EXECUTE format('ALTER ROLE authenticator PASSWORD %L', current_setting('pgway.authenticator_password'));
  END IF;
END $$;
-- pgway reads its version catalog as the authenticator.
GRANT USAGE ON SCHEMA pgway TO authenticator;
GRANT SELECT ON pgway.api_versions TO authenticator;

---- create above / drop below ----

-- Roles stay: other databases of the cluster may use them.
