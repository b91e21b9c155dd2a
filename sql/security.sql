--
-- Security: who may define models, and model SQL running as its owner
--
CREATE ROLE regress_med_alice LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_med_bob LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_med_eve LOGIN;
CREATE SCHEMA secsrc;
CREATE TABLE secsrc.public_data (id int, label text);
CREATE TABLE secsrc.secret (id int, salary numeric);
CREATE TABLE secsrc.partial (id int, hidden text);
GRANT USAGE ON SCHEMA secsrc TO regress_med_alice, regress_med_bob;
GRANT SELECT ON secsrc.public_data TO regress_med_alice, regress_med_bob;
GRANT SELECT (id) ON secsrc.partial TO regress_med_alice;

-- Only medallion_admin members may call the API
SET ROLE regress_med_eve;
SELECT medallion_create_model('sec_x', 'SELECT 1 AS one', layer => 'silver');
SELECT * FROM medallion_plan('all');
-- nor write the catalog directly
INSERT INTO medallion.models (name, layer, materialized, sql, owner, search_path, sql_hash)
VALUES ('sec_x', 'silver', 'table', 'SELECT 1', 'regress_med_eve', 'public', 'x');
RESET ROLE;

-- Admins read the catalog but cannot write it by hand either
SET ROLE regress_med_alice;
SELECT count(*) >= 0 AS can_read FROM medallion.models;
DELETE FROM medallion.models;
RESET ROLE;

-- A model is owned by the role that defines it, and so is its relation
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_public', $$SELECT id, label FROM secsrc.public_data$$, layer => 'silver');
RESET ROLE;
SELECT owner FROM medallion.models WHERE name = 'sec_public';
SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'silver.sec_public'::regclass;

-- Its owner must be able to read everything the model reads: checked with
-- the owner's privileges, columns included
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_secret', $$SELECT id, salary FROM secsrc.secret$$, layer => 'silver');
SELECT medallion_create_model('sec_partial', $$SELECT id FROM secsrc.partial$$, layer => 'silver');
SELECT medallion_create_model('sec_partial2', $$SELECT id, hidden FROM secsrc.partial$$, layer => 'silver');
SELECT medallion_create_model('sec_partial3', $$SELECT p.id FROM secsrc.partial p WHERE p.hidden IS NOT NULL$$, layer => 'silver');
RESET ROLE;

-- Another admin may not change or drop alice's model
SET ROLE regress_med_bob;
SELECT medallion_create_model('sec_public', $$SELECT id FROM secsrc.public_data$$);
SELECT * FROM medallion_drop_model('sec_public');
RESET ROLE;

-- A superuser may redefine it, but the SQL is still checked as alice:
-- even a superuser cannot make alice's model read what alice cannot
SELECT medallion_create_model('sec_public', $$SELECT p.id, s.salary FROM secsrc.public_data p JOIN secsrc.secret s USING (id)$$);
SELECT medallion_create_model('sec_public', $$SELECT id, upper(label) AS label FROM secsrc.public_data$$);
SELECT owner, version FROM medallion.models WHERE name = 'sec_public';

-- A reader of gold cannot define anything
SET ROLE medallion_reader;
SELECT medallion_create_model('sec_y', 'SELECT 1 AS one', layer => 'gold');
RESET ROLE;

SET ROLE regress_med_alice;
SELECT * FROM medallion_drop_model('sec_partial');
SELECT * FROM medallion_drop_model('sec_public');
RESET ROLE;
SELECT count(*) AS models_left FROM medallion.models WHERE name LIKE 'sec\_%';
DROP SCHEMA secsrc CASCADE;
DROP ROLE regress_med_alice, regress_med_bob, regress_med_eve;
