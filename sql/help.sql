--
-- medallion_help: a function's parameters, a line each, with dbt's word
--
SELECT "position", parameter, type, default_value, dbt FROM medallion_help('medallion_run');
-- with or without the prefix, in any case
SELECT count(*) = (SELECT count(*) FROM medallion_help('medallion_add_test')) AS same
  FROM medallion_help(' Add_Test ');
SELECT parameter, dbt, description FROM medallion_help('add_test')
 WHERE parameter IN ('column_name', 'accepted', 'to_model', 'to_column', 'store_failures');
SELECT parameter, dbt, description FROM medallion_help('create_model')
 WHERE parameter IN ('layer', 'materialized', 'watermark');
-- every parameter of every medallion function has a line
SELECT p.proname, h.parameter
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion'
 CROSS JOIN LATERAL medallion_help(p.proname) h
 WHERE p.proname LIKE 'medallion\_%' AND h.description = '';
-- anyone may ask, without a grant
CREATE ROLE help_newcomer;
SET ROLE help_newcomer;
SELECT count(*) > 5 AS answered FROM medallion_help('run');
-- what such a role meets first is PostgreSQL's own check, before any of
-- medallion's code (README, Troubleshooting: GRANT medallion_admin TO ...)
SELECT * FROM medallion_run('all');
RESET ROLE;
DROP ROLE help_newcomer;
-- errors
\set VERBOSITY default
SELECT * FROM medallion_help('nosuch');
SELECT * FROM medallion_help(NULL);
