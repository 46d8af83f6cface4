-- Tables and views for the write tests (loaded after fixture.sql).
CREATE TABLE api.clients (id int PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO api.clients VALUES (1, 'Microsoft'), (2, 'Apple');

CREATE TABLE api.projects (
  id        int PRIMARY KEY,
  name      text NOT NULL,
  client_id int REFERENCES api.clients(id)
);
INSERT INTO api.projects VALUES (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);

CREATE TABLE api.tasks (
  id      serial PRIMARY KEY,
  title   text NOT NULL CHECK (length(title) < 30),
  done    boolean NOT NULL DEFAULT false,
  rank    int DEFAULT 10,
  project int REFERENCES api.projects(id)
);

CREATE TABLE api.compound (k1 int, k2 text, extra text, PRIMARY KEY (k1, k2));
INSERT INTO api.compound VALUES (1, 'a', 'one'), (2, 'b', 'two');

CREATE TABLE api.no_pk (a text, b text);

CREATE TABLE api.readonly_things (id int PRIMARY KEY, v text);
INSERT INTO api.readonly_things VALUES (1, 'x');

-- An auto-updatable view and a view made writable by an INSTEAD OF trigger.
CREATE VIEW api.open_tasks AS SELECT id, title, done, project FROM api.tasks WHERE NOT done;
CREATE VIEW api.project_names AS SELECT p.id, p.name, c.name AS client FROM api.projects p LEFT JOIN api.clients c ON c.id = p.client_id;
CREATE FUNCTION api.project_names_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO api.projects (id, name, client_id) VALUES (NEW.id, NEW.name, (SELECT id FROM api.clients WHERE name = NEW.client));
  RETURN NEW;
END $$;
CREATE TRIGGER project_names_insert INSTEAD OF INSERT ON api.project_names FOR EACH ROW EXECUTE FUNCTION api.project_names_insert();

-- Not writable at all: an aggregate view.
CREATE VIEW api.project_counts AS SELECT client_id, count(*) AS n FROM api.projects GROUP BY client_id;

GRANT SELECT, INSERT, UPDATE, DELETE ON api.clients, api.projects, api.tasks, api.compound, api.no_pk,
  api.open_tasks, api.project_names, api.project_counts TO web_anon, web_user;
GRANT USAGE ON SEQUENCE api.tasks_id_seq TO web_anon, web_user;
GRANT SELECT ON api.readonly_things TO web_anon, web_user;

CREATE TABLE other.gadgets (id int PRIMARY KEY, label text);
GRANT SELECT, INSERT ON other.gadgets TO web_anon, web_user;
