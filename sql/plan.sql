--
-- Plans, selectors, lineage and graphs
--
-- A diamond with a side branch:
--   src.a -> p_a (bronze view) -> p_b, p_c (silver) -> p_d (gold)
--   src.z -> p_z (bronze view) -> p_y (gold, tagged 'finance')
--   p_e (gold) reads p_a through a plain hand-made view
--
CREATE SCHEMA plansrc;
CREATE TABLE plansrc.a (id int, v int);
CREATE TABLE plansrc.z (id int, w int);
SELECT medallion_create_model('p_a', $$SELECT id, v FROM plansrc.a$$, layer => 'bronze');
SELECT medallion_create_model('p_b', $$SELECT id, v * 2 AS v2 FROM p_a$$, layer => 'silver', tags => ARRAY['daily']);
SELECT medallion_create_model('p_c', $$SELECT id, v + 1 AS v1 FROM p_a WHERE v > 0$$, layer => 'silver');
SELECT medallion_create_model('p_d', $$SELECT b.id, b.v2, c.v1 FROM p_b b JOIN p_c c ON c.id = b.id$$, layer => 'gold', tags => ARRAY['daily']);
SELECT medallion_create_model('p_z', $$SELECT id, w FROM plansrc.z$$, layer => 'bronze');
SELECT medallion_create_model('p_y', $$SELECT count(*) AS n FROM p_z$$, layer => 'gold', tags => ARRAY['finance']);
CREATE VIEW plansrc.a_view AS SELECT id, v FROM bronze.p_a WHERE id > 0;
SELECT medallion_create_model('p_e', $$SELECT id FROM plansrc.a_view$$, layer => 'gold');

-- Everything, in dependency order; one wave's models are independent
SELECT * FROM medallion_plan('all');
-- A layer name makes the layer current: its models and all they need
SELECT step, wave, model FROM medallion_plan('silver');
-- layer:x is the layer alone
SELECT step, wave, model FROM medallion_plan('layer:silver');
-- A model alone, with ancestors, with descendants, with both
SELECT step, wave, model FROM medallion_plan('p_d');
SELECT step, wave, model FROM medallion_plan('+p_d');
SELECT step, wave, model FROM medallion_plan('p_a+');
SELECT step, wave, model FROM medallion_plan('+p_b+');
-- Tags and unions (duplicates are built once)
SELECT step, wave, model FROM medallion_plan('tag:daily');
SELECT step, wave, model FROM medallion_plan('tag:finance p_b p_d p_b');
SELECT step, wave, model FROM medallion_plan('+p_y p_c');

-- Disabled models are left out
SELECT medallion_create_model('p_c', $$SELECT id, v + 1 AS v1 FROM p_a WHERE v > 0$$, enabled => false);
SELECT step, wave, model FROM medallion_plan('gold');
SELECT medallion_create_model('p_c', $$SELECT id, v + 1 AS v1 FROM p_a WHERE v > 0$$, enabled => true);

-- Reading through a plain view: the view and what it reads are recorded
SELECT dep_schema, dep_name, kind, via FROM medallion.model_dependencies
 WHERE model = 'p_e' ORDER BY via, dep_name;
SELECT step, wave, model FROM medallion_plan('+p_e');

-- Lineage as rows
SELECT * FROM medallion_lineage('p_d');
SELECT * FROM medallion_lineage('p_a', 'downstream');
SELECT depth_from_model, direction_of, relation_name, kind FROM medallion_lineage('p_d', 'upstream', 1);
SELECT depth_from_model, direction_of, relation_name, kind FROM medallion_lineage('p_b', 'both');
SELECT depth_from_model, relation_schema, relation_name, kind, via FROM medallion_lineage('p_e');
-- A column's lineage: what it is computed from (followed through models)
-- and what filters it; a column of the model where a direction goes means
-- that column (the demo's medallion_lineage('gld_sales_summary', 'revenue'))
SELECT depth_from_model, direction_of, relation_schema, relation_name, relation_column, kind, path
  FROM medallion_lineage('p_c', 'v1');
SELECT depth_from_model, relation_name, relation_column, kind
  FROM medallion_lineage('p_d', column_name => 'v2');
SELECT depth_from_model, relation_name, relation_column, kind
  FROM medallion_lineage('p_d', column_name => 'v2', depth => 1);
SELECT depth_from_model, direction_of, relation_name, relation_column, kind
  FROM medallion_lineage('p_a', 'downstream', column_name => 'v');
SELECT depth_from_model, direction_of, relation_name, relation_column, kind
  FROM medallion_lineage('p_b', 'both', column_name => 'v2');

-- The graph as Mermaid, DOT and JSON
SELECT medallion_graph('all', 'mermaid');
SELECT medallion_graph('+p_d', 'dot');
SELECT jsonb_pretty(medallion_graph('p_y', 'json')::jsonb);
-- The default format is Mermaid
SELECT medallion_graph('p_z') = medallion_graph('p_z', 'mermaid') AS mermaid_by_default;

-- Sources: relations of a registered source schema are classified as such
SELECT medallion_create_source('plan_src', 'plansrc', tables => ARRAY['a', 'z']);
SELECT name, kind, local_schema, tables FROM medallion.sources;
SELECT model, dep_name, kind FROM medallion.model_dependencies
 WHERE model IN ('p_a', 'p_z') ORDER BY model;
SELECT medallion_drop_source('plan_src');
SELECT model, dep_name, kind FROM medallion.model_dependencies
 WHERE model IN ('p_a', 'p_z') ORDER BY model;

-- Derived tables are rebuilt when missing (as after pg_dump/restore)
DELETE FROM medallion.analysis;
DELETE FROM medallion.model_dependencies;
DELETE FROM medallion.column_lineage;
SELECT step, wave, model FROM medallion_plan('+p_d');
SELECT count(*) > 0 AS rebuilt FROM medallion.column_lineage WHERE model = 'p_d';

-- a model's binding reads the view: the model goes first
SELECT * FROM medallion_drop_model('p_e');
DROP VIEW plansrc.a_view;
SELECT * FROM medallion_drop_model('p_a', cascade => true);
SELECT * FROM medallion_drop_model('p_z', cascade => true);
DROP SCHEMA plansrc CASCADE;
