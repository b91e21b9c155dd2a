--
-- Sources through tds_fdw (to the TDS test server, test/tds: SQL Server as
-- far as FreeTDS can tell), postgres_fdw (to a second database of this
-- cluster) and file_fdw, and incremental extraction from them.
--
SET medallion.log_timing = off;
SET client_min_messages = warning;   -- tds_fdw reports each login as a NOTICE
TRUNCATE medallion.runs CASCADE;     -- run numbers in this file start at 1
SELECT setval('medallion.runs_run_id_seq', 1, false) AS first_run;
\set SHOW_CONTEXT never
\getenv tds_port TDS_PORT
\getenv fail_file TDS_FAIL_FILE
\getenv tds_log TDS_LOG
CREATE FUNCTION pg_temp.tsql(batch text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	-- send a batch to the TDS server with FreeTDS's tsql (changes on the "remote" side)
	EXECUTE format('COPY (SELECT unnest(string_to_array(%L, E''\n''))) TO PROGRAM %L', replace(batch, E'\t', ' ') || E'\ngo',
				   format('tsql -H 127.0.0.1 -p %s -U medallion -P medallion >/dev/null 2>&1', current_setting('tds.port')));
END
$$;
SELECT set_config('tds.port', :'tds_port', false) IS NOT NULL AS port_set;

-- Bad input, each changing nothing
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales');
CREATE EXTENSION tds_fdw;
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales');
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', remote_schema => 'Sales');
CREATE EXTENSION postgres_fdw;
CREATE SERVER not_tds FOREIGN DATA WRAPPER postgres_fdw;
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'not_tds', remote_schema => 'Sales');
-- (the port varies: the statement is not echoed)
\set ECHO none
SELECT format('CREATE SERVER aw FOREIGN DATA WRAPPER tds_fdw OPTIONS (servername %L, port %L, database %L, tds_version %L, character_set %L, msg_handler %L)',
              '127.0.0.1', :'tds_port', 'AdventureWorks', '7.2', 'UTF-8', 'notice') \gexec
\set ECHO all
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales');
CREATE USER MAPPING FOR CURRENT_USER SERVER aw OPTIONS (username 'medallion', password 'not-the-password');
-- a refused login: the error says so, and never shows the password
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales');
ALTER USER MAPPING FOR CURRENT_USER SERVER aw OPTIONS (SET password 'medallion');
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'NoSuchSchema');
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  tables => ARRAY['SalesOrderHeader', 'NoSuchTable']);
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  options => '{"password": "x"}');
SELECT medallion_create_source('aw', 'aw_sales', kind => 'odbc', server_name => 'aw', remote_schema => 'Sales');
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  options => '{"retry_delay": "soon"}');
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  options => '{"batch_size": 0}');
SELECT count(*) AS sources FROM medallion.sources;
SELECT count(*) AS foreign_tables FROM pg_foreign_table;

-- A tds source: a foreign table per remote table, SQL Server types mapped
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  options => '{"retries": 2, "retry_delay": "50ms"}');
SELECT medallion_create_source('aw_types', 'aw_dbo', kind => 'tds', server_name => 'aw', remote_schema => 'dbo',
  tables => ARRAY['TypeSamples']);
SELECT name, kind, server_name, remote_schema, local_schema, tables, options FROM medallion.sources ORDER BY name;
SELECT c.relname, ft.ftoptions FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid ORDER BY 1;
SELECT column_name, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute a, LATERAL (SELECT a.attname AS column_name) n
 WHERE attrelid = 'aw_dbo."TypeSamples"'::regclass AND attnum > 0 ORDER BY attnum;
-- values of every type through FreeTDS, UTF-8 out
SELECT * FROM aw_dbo."TypeSamples" ORDER BY id;
SELECT "SalesOrderID", "OrderDate", "DueDate", "ShipDate", "SubTotal", "Freight", "OnlineOrderFlag"
  FROM aw_sales."SalesOrderHeader" WHERE "SalesOrderID" < 43662 ORDER BY 1;
-- WHERE on the watermark column goes to the remote side (table_name, not
-- query); constants are sent as text in the session's DateStyle, which is
-- why runs read foreign tables with DateStyle ISO
SET datestyle = 'ISO, MDY';
EXPLAIN (VERBOSE, COSTS OFF) SELECT "SalesOrderID" FROM aw_sales."SalesOrderHeader" WHERE "ModifiedDate" > '2012-01-01';
RESET datestyle;

-- Bronze over the source, an incremental silver model extracting past its watermark
SELECT medallion_create_model('brnz_aw_orders',
  $$SELECT "SalesOrderID" AS sales_order_id, "CustomerID" AS customer_id, "OrderDate" AS order_date,
           "SubTotal" AS sub_total, "OnlineOrderFlag" AS online, "ModifiedDate" AS modified_at
      FROM aw_sales."SalesOrderHeader"$$, layer => 'bronze');
SELECT medallion_create_model('slvr_aw_orders',
  $$SELECT sales_order_id, customer_id, order_date, sub_total, online, modified_at FROM brnz_aw_orders$$,
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['sales_order_id'],
  watermark => 'modified_at', lookback => '1 day');
SELECT medallion_create_model('gld_aw_by_year',
  $$SELECT extract(year FROM order_date)::int AS year, count(*) AS orders, sum(sub_total) AS revenue
      FROM slvr_aw_orders GROUP BY 1$$, layer => 'gold');
SELECT model, dep_schema, dep_name, kind, via FROM medallion.model_dependencies
 WHERE model LIKE '%aw%' ORDER BY 1, 2, 3;
SELECT model, status, rows FROM medallion_run('gld_aw_by_year+', threads => 1);
SELECT model, status, rows FROM medallion_run('+gld_aw_by_year');
SELECT * FROM gold.gld_aw_by_year ORDER BY year;
-- two new orders and a changed one on the remote side; the run pulls only
-- the rows past the watermark (minus the lookback), pushed down as a WHERE
SELECT pg_temp.tsql($$INSERT INTO Sales.SalesOrderHeader SELECT SalesOrderID + 1000, '2014-06-30 00:00:00', DueDate, ShipDate,
	OnlineOrderFlag, CustomerID, '100', TaxAmt, Freight, rowguid, '2014-07-01 10:00:00' FROM Sales.SalesOrderHeader WHERE SalesOrderID IN (43659, 43660);
UPDATE Sales.SalesOrderHeader SET SubTotal = '1', ModifiedDate = '2014-07-01 11:00:00' WHERE SalesOrderID = 43661$$);
SELECT model, status, rows FROM medallion_run('slvr_aw_orders');
SELECT sales_order_id, sub_total, modified_at FROM silver.slvr_aw_orders WHERE modified_at >= '2014-07-01' ORDER BY 1;
SELECT count(*) AS orders, sum(sub_total) AS total FROM silver.slvr_aw_orders;
-- the remote side saw the watermark predicate
SELECT count(*) > 0 AS pushed FROM regexp_split_to_table(pg_read_file(:'tds_log'), E'\n') l
 WHERE l LIKE 'SELECT %FROM [Sales].[SalesOrderHeader] WHERE (([ModifiedDate] > ''2014-02-19 00:00:00''))%';

-- A watermark the wrapper cannot push (a function of the remote column): warned
SET client_min_messages = notice;
SELECT medallion_create_model('slvr_aw_days',
  $$SELECT sales_order_id, date_trunc('day', modified_at) AS modified_day FROM brnz_aw_orders$$,
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['sales_order_id'], watermark => 'modified_day');
SET client_min_messages = warning;
SELECT model, status FROM medallion_run('slvr_aw_days');   -- first build: no bound yet
SELECT model, status FROM medallion_run('slvr_aw_days');

-- Connection errors are retried with backoff (retries => 2 on the source)
COPY (SELECT 2) TO :'fail_file';
SET client_min_messages = notice;
SELECT model, status, rows FROM medallion_run('slvr_aw_orders');
SET client_min_messages = warning;
SELECT model, status, attempt FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
-- more failures than retries: the step fails, the ledger says why, nothing published changes
COPY (SELECT 5) TO :'fail_file';
SELECT count(*) AS before FROM silver.slvr_aw_orders;
SELECT model, status FROM medallion_run('slvr_aw_orders');
SELECT status, attempt, sqlstate, message LIKE '%Unexpected EOF from the server%' AS says_why
  FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT count(*) AS after FROM silver.slvr_aw_orders;
COPY (SELECT 0) TO :'fail_file';

-- Batched extraction: a source with batch_size stages new rows in
-- committed batches (a worker each); an interrupted extraction resumes
SELECT medallion_create_source('aw_batched', 'aw_details', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  tables => ARRAY['SalesOrderDetail'], options => '{"batch_size": 150}');
SELECT medallion_create_model('slvr_aw_lines',
  $$SELECT "SalesOrderDetailID" AS line_id, "SalesOrderID" AS sales_order_id, "LineTotal" AS line_total,
           "ModifiedDate" AS modified_at FROM aw_details."SalesOrderDetail"$$,
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['line_id'], watermark => 'modified_at');
SELECT model, status, rows FROM medallion_run('slvr_aw_lines');
SELECT count(*) AS lines, count(DISTINCT line_id) AS distinct_lines, sum(line_total) AS total FROM silver.slvr_aw_lines;
-- the remote side was read in 4 batches: each after the first starts past
-- the (watermark, key) of the last row staged
SELECT count(DISTINCT substring(l FROM '\[SalesOrderDetailID\] > (\d+)')) AS batches_after_the_first
  FROM regexp_split_to_table(pg_read_file(:'tds_log'), E'\n') l
 WHERE l LIKE 'SELECT %FROM [Sales].[SalesOrderDetail]%ORDER BY [ModifiedDate] ASC, [SalesOrderDetailID] ASC';
SELECT count(*) AS staged_left FROM medallion.extract_state;
-- 240 new lines; the connection drops after the first batch: the step
-- fails, that batch stays staged (extract_state says where it stopped)
SELECT pg_temp.tsql($$INSERT INTO Sales.SalesOrderDetail SELECT SalesOrderID, SalesOrderDetailID + 100000, OrderQty, ProductID,
  UnitPrice, UnitPriceDiscount, LineTotal, '2014-08-01 00:00:00' FROM Sales.SalesOrderDetail WHERE SalesOrderDetailID <= 1000
  ORDER BY SalesOrderDetailID LIMIT 240$$);
COPY (SELECT '1 4') TO :'fail_file';
SELECT model, status FROM medallion_run('slvr_aw_lines');
SELECT rows, batches, mark FROM medallion.extract_state;
SELECT count(*) AS published_lines FROM silver.slvr_aw_lines;
-- the next run goes on after the staged rows and applies all of them, once
COPY (SELECT 0) TO :'fail_file';
SELECT model, status, rows FROM medallion_run('slvr_aw_lines');
SELECT count(*) AS lines, count(DISTINCT line_id) AS distinct_lines FROM silver.slvr_aw_lines;
SELECT count(*) > 0 AS resumed_after_the_last_staged_row FROM regexp_split_to_table(pg_read_file(:'tds_log'), E'\n') l
 WHERE l LIKE 'SELECT %FROM [Sales].[SalesOrderDetail] WHERE %[ModifiedDate] = ''2014-08-01 00:00:00''%[SalesOrderDetailID] > %';
SELECT count(*) AS staged_left FROM medallion.extract_state;
SELECT count(*) AS stages_left FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relname !~ '^d_';
SELECT * FROM medallion_drop_model('slvr_aw_lines');
SELECT medallion_drop_source('aw_batched');

-- The remote schema changes: refresh reports and applies it
SELECT pg_temp.tsql($$ALTER TABLE Sales.Customer ADD COLUMN Region nvarchar(20);
ALTER TABLE Sales.Customer DROP COLUMN AccountNumber;
ALTER TABLE Sales.Customer ADD COLUMN AccountNumber nvarchar(20);
CREATE TABLE Sales.Store (BusinessEntityID int NOT NULL, Name nvarchar(50))$$);
SELECT * FROM medallion_refresh_source('aw') ORDER BY 1, 2, 3;
SELECT * FROM medallion_refresh_source('aw');
SELECT tables FROM medallion.sources WHERE name = 'aw';
-- a column a view depends on cannot go: refresh fails and changes nothing
CREATE VIEW aw_sales.store_names AS SELECT "Name" FROM aw_sales."Store";
SELECT pg_temp.tsql($$ALTER TABLE Sales.Store DROP COLUMN Name$$);
SELECT * FROM medallion_refresh_source('aw');
SELECT count(*) AS store_columns FROM pg_attribute WHERE attrelid = 'aw_sales."Store"'::regclass AND attnum > 0;
DROP VIEW aw_sales.store_names;
SELECT pg_temp.tsql($$DROP TABLE Sales.Store;
ALTER TABLE Sales.Customer DROP COLUMN Region$$);
-- before the refresh, reading the dropped table is the remote side's error (an ERROR token)
SET client_min_messages = notice;
SELECT count("BusinessEntityID") FROM aw_sales."Store";
SET client_min_messages = warning;
SELECT * FROM medallion_refresh_source('aw') ORDER BY 1, 2, 3;

-- A postgres source: a second database of this cluster through postgres_fdw
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_medallion_oltp;
\c regress_medallion_oltp
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, amount numeric(10,2), changed_at timestamp NOT NULL);
CREATE TABLE shop.secret (id int);
INSERT INTO shop.orders SELECT g, g * 1.5, '2024-01-01'::timestamp + g * interval '1 hour' FROM generate_series(1, 100) g;
\c :regress_db
SET medallion.log_timing = off;
SET client_min_messages = warning;
\set ECHO none
SELECT format('CREATE SERVER oltp FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L)',
              current_setting('unix_socket_directories'), current_setting('port'), 'regress_medallion_oltp') \gexec
\set ECHO all
CREATE USER MAPPING FOR CURRENT_USER SERVER oltp;
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders']);
SELECT c.relname, ft.ftoptions FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
 WHERE c.relnamespace = 'oltp_shop'::regnamespace;
SELECT medallion_create_model('slvr_oltp_orders', $$SELECT id, amount, changed_at FROM oltp_shop.orders$$,
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'changed_at');
SELECT model, status, rows FROM medallion_run('slvr_oltp_orders');
\c regress_medallion_oltp
INSERT INTO shop.orders VALUES (101, 7, '2024-02-01'), (102, 8, '2024-02-02');
UPDATE shop.orders SET amount = 0, changed_at = '2024-02-03' WHERE id = 1;
\c :regress_db
SET medallion.log_timing = off;
SET client_min_messages = warning;
SELECT model, status, rows FROM medallion_run('slvr_oltp_orders');
SELECT count(*), sum(amount) FROM silver.slvr_oltp_orders;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oltp_shop.orders WHERE changed_at > '2024-02-01 00:00:00'::timestamp;
-- batches and retries work the same way through postgres_fdw
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], options => '{"batch_size": 40}');
\c regress_medallion_oltp
INSERT INTO shop.orders SELECT g, 1, '2024-03-01'::timestamp + g * interval '1 minute' FROM generate_series(201, 300) g;
\c :regress_db
SET medallion.log_timing = off;
SET client_min_messages = warning;
SELECT model, status, rows FROM medallion_run('slvr_oltp_orders');
SELECT count(*), count(DISTINCT id) FROM silver.slvr_oltp_orders;
-- the remote server goes away: retried (retries => 1), then failed; nothing published changes
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], options => '{"retries": 1, "retry_delay": "10ms"}');
SELECT current_setting('port') AS real_port \gset
ALTER SERVER oltp OPTIONS (SET port '1');
SELECT model, status FROM medallion_run('slvr_oltp_orders');
SELECT status, attempt, sqlstate FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT count(*) AS still_published FROM silver.slvr_oltp_orders;
\set ECHO none
ALTER SERVER oltp OPTIONS (SET port :'real_port');
\set ECHO all

-- Change-aware runs and foreign tables: a model reading one builds at every
-- run, unless its source probes them (count(*) and max(freshness_column),
-- pushed to the remote side, stored with the build)
SET medallion.changed_only = on;
SELECT medallion_create_model('gld_oltp_totals', 'SELECT count(*) AS n, sum(amount) AS amount FROM oltp_shop.orders',
  layer => 'gold');
SELECT model, status FROM medallion_run('gld_oltp_totals');
SELECT model, status, message FROM medallion_run('gld_oltp_totals');
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], options => '{"changes": "probe"}');          -- no freshness_column
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], options => '{"changes": "sometimes"}');
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], freshness_column => 'changed_at', options => '{"changes": "probe"}');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('gld_oltp_totals');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('gld_oltp_totals');
SELECT model, build, why FROM medallion_plan('gld_oltp_totals');
\c regress_medallion_oltp
INSERT INTO shop.orders VALUES (400, 4, '2024-04-01');
\c :regress_db
SET medallion.log_timing = off;
SET client_min_messages = warning;
SET medallion.changed_only = on;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('gld_oltp_totals');
SELECT n FROM gold.gld_oltp_totals;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('gld_oltp_totals');
-- what the probe read (a count, a maximum) is kept as a keyed digest: the
-- catalog every admin reads does not show it
SELECT inputs::text LIKE '%2024-04-01%' OR inputs::text LIKE '%203 rows%' AS probe_values_shown,
       inputs::text ~ '"probe [0-9a-f]{64}"' AS digest_kept
  FROM medallion.build_state WHERE model = 'gld_oltp_totals';
-- a probe that fails (the remote server went away) fails its model only,
-- with threads as without: the local model of the same run is published
SELECT medallion_create_model('gld_local_one', 'SELECT 1 AS one', layer => 'gold');
ALTER SERVER oltp OPTIONS (SET port '1');
SET medallion.worker_min_ms = 0;
SELECT model, status FROM medallion_run('gld_oltp_totals gld_local_one', threads => 2, changed_only => false);
SELECT model, status FROM medallion_run('gld_oltp_totals gld_local_one', threads => 2);
SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
RESET medallion.worker_min_ms;
\set ECHO none
ALTER SERVER oltp OPTIONS (SET port :'real_port');
\set ECHO all
SELECT medallion_drop_model('gld_local_one');
SELECT medallion_drop_model('gld_oltp_totals');
RESET medallion.changed_only;

-- A probe source registered by another admin over someone else's schema
-- is not used: a model's foreign tables are probed (with its owner's
-- rights) only through a source whose owner acts for the model's owner
-- and owns the schema.  Otherwise mallory chooses the column (amount here,
-- a card number in the review) whose maximum the owner's probe reads.
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders']);          -- changes => always again
CREATE ROLE regress_src_mallory IN ROLE medallion_admin;
GRANT USAGE ON FOREIGN SERVER oltp TO regress_src_mallory;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_src_mallory', current_database()) \gexec
SELECT format('CREATE USER MAPPING FOR regress_src_mallory SERVER oltp OPTIONS (user %L, password_required %L)',
              current_user, 'false') \gexec
SET ROLE regress_src_mallory;
SELECT medallion_create_source('mal_probe', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], freshness_column => 'amount', options => '{"changes": "probe"}');
RESET ROLE;
SET medallion.changed_only = on;
SELECT medallion_create_model('gld_oltp_totals', 'SELECT count(*) AS n, sum(amount) AS amount FROM oltp_shop.orders',
  layer => 'gold');
SELECT model, status FROM medallion_run('gld_oltp_totals');
SELECT model, status, message FROM medallion_run('gld_oltp_totals');
SELECT count(*) AS probed FROM medallion.build_state WHERE model = 'gld_oltp_totals' AND inputs::text LIKE '%probe%';
SELECT medallion_drop_model('gld_oltp_totals');
RESET medallion.changed_only;
-- medallion_check_sources reads a source only over a schema its owner
-- owns, and shows the newest value and its age only to roles that may
-- read them (mallory may not read oltp_shop.orders)
SELECT medallion_create_source('oltp', 'oltp_shop', kind => 'postgres', server_name => 'oltp', remote_schema => 'shop',
  tables => ARRAY['orders'], freshness_column => 'changed_at', warn_after => '1 day');
SELECT source, relation, status, newest IS NOT NULL AS newest_shown, age IS NOT NULL AS age_shown, message
  FROM medallion_check_sources() ORDER BY source;
SET ROLE regress_src_mallory;
SELECT source, relation, status, newest IS NOT NULL AS newest_shown, age IS NOT NULL AS age_shown, message
  FROM medallion_check_sources() ORDER BY source;
SELECT medallion_drop_source('mal_probe', drop_relations => false);
RESET ROLE;
-- the scratch schema of an import has a name no one can take first
-- (created as the name the call used: medallion_import_<backend pid>)
\set ECHO none
SELECT format('CREATE SCHEMA %I', 'medallion_import_' || pg_backend_pid()) \gexec
\set ECHO all
SELECT * FROM medallion_refresh_source('oltp');
\set ECHO none
SELECT format('DROP SCHEMA %I', 'medallion_import_' || pg_backend_pid()) \gexec
\set ECHO all
SELECT count(*) AS scratch_left FROM pg_namespace WHERE nspname LIKE 'medallion\_import\_%';
DROP USER MAPPING FOR regress_src_mallory SERVER oltp;
REVOKE USAGE ON FOREIGN SERVER oltp FROM regress_src_mallory;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_src_mallory', current_database()) \gexec
DROP ROLE regress_src_mallory;

-- A file source: a CSV file per table, columns from its header
CREATE EXTENSION file_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
SELECT regexp_replace(:'fail_file', '/[^/]*$', '') AS csv_dir,
       regexp_replace(:'fail_file', '/[^/]*$', '') || '/regions.csv' AS csv_file \gset
COPY (SELECT * FROM (VALUES (1, 'north', '2024-01-01'), (2, 'south', '2024-01-02')) v(region_id, name, opened))
  TO :'csv_file' WITH (FORMAT csv, HEADER);
SELECT set_config('tds.dir', :'csv_dir', false) IS NOT NULL AS dir_set;
SET client_min_messages = notice;
SELECT medallion_create_source('crm_files', 'crm_files', kind => 'file', server_name => 'files',
  tables => ARRAY['regions'], options => jsonb_build_object('directory', :'csv_dir'));
SELECT * FROM crm_files.regions;
DO $$
BEGIN
	PERFORM medallion_create_source('crm_files', 'crm_files', kind => 'file', server_name => 'files',
		tables => ARRAY['nosuch'], options => jsonb_build_object('directory', current_setting('tds.dir')));
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE '%: %', SQLSTATE, replace(SQLERRM, current_setting('tds.dir'), '<dir>');
END
$$;
SET client_min_messages = warning;

-- Dropping a source drops the foreign tables it created
SELECT * FROM medallion_drop_model('brnz_aw_orders', cascade => true);
SELECT * FROM medallion_drop_model('slvr_oltp_orders');
SELECT medallion_drop_source('aw');
SELECT medallion_drop_source('aw_types');
SELECT medallion_drop_source('oltp');
SELECT medallion_drop_source('crm_files');
SELECT count(*) AS foreign_tables_left FROM pg_foreign_table;
SELECT count(*) AS sources_left FROM medallion.sources;
DROP SERVER aw CASCADE;
DROP SERVER oltp CASCADE;
DROP SERVER not_tds;
DROP SERVER files;
DROP SCHEMA aw_sales, aw_dbo, oltp_shop, crm_files;
DROP DATABASE regress_medallion_oltp;

-- medallion_create_source twice in one session (the writer once changed
-- the constant argument its caller keeps from one call to the next)
CREATE SCHEMA twice_src;
SELECT medallion_create_source('twice', 'twice_src', description => 'first');
SELECT medallion_create_source('twice', 'twice_src', description => 'second');
SELECT medallion_create_source('twice', 'twice_src', description => 'third');
SELECT description, owner = current_user AS owned FROM medallion.sources WHERE name = 'twice';
SELECT medallion_drop_source('twice');
DROP SCHEMA twice_src;
