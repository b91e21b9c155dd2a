/* ---------------------------------------------------------------------
 * Functions and views of src/sql/install/20_sources.sql, written once: the
 * Makefile puts this file in the install script and in every update
 * script, after their state changes.
 * --------------------------------------------------------------------- */

/*
 * Sources.  A local source records relations that already exist in
 * local_schema; a tds, postgres or file source creates its foreign tables
 * there (the remote side's tables, with medallion's type mapping), and
 * medallion_refresh_source brings them in line with the remote side again.
 * Models reading them are then classified as reading a source.
 *
 * The public functions run as the caller, so foreign tables are created
 * with the caller's privileges and user mapping and belong to the caller;
 * the catalog is written by medallion.source_write (C: it checks that the
 * caller acts for the source's owner, then writes as the extension owner),
 * the only writer of medallion.sources.
 */
CREATE OR REPLACE FUNCTION medallion.source_write(op text, name text, kind text DEFAULT NULL,
	server_name name DEFAULT NULL, remote_schema text DEFAULT NULL, local_schema name DEFAULT NULL,
	tables text[] DEFAULT NULL, options jsonb DEFAULT NULL, freshness_column text DEFAULT NULL,
	warn_after interval DEFAULT NULL, error_after interval DEFAULT NULL, description text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_source_write'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.source_write(text, text, text, name, text, name, text[], jsonb, text, interval, interval, text) IS
	'Write medallion.sources (upsert, tables, delete), as the extension owner, when the caller acts for the source''s owner; internal';

/* The PostgreSQL type of a SQL Server column (INFORMATION_SCHEMA.COLUMNS). */
CREATE OR REPLACE FUNCTION medallion.tds_type(data_type text, char_length integer, num_precision integer,
	num_scale integer, dt_precision integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
	SELECT CASE lower(data_type)
		WHEN 'int' THEN 'integer'
		WHEN 'bigint' THEN 'bigint'
		WHEN 'smallint' THEN 'smallint'
		WHEN 'tinyint' THEN 'smallint'
		WHEN 'bit' THEN 'boolean'
		WHEN 'decimal' THEN format('numeric(%s,%s)', coalesce(num_precision, 18), coalesce(num_scale, 0))
		WHEN 'numeric' THEN format('numeric(%s,%s)', coalesce(num_precision, 18), coalesce(num_scale, 0))
		-- not PostgreSQL's money: locale-dependent, two decimals
		WHEN 'money' THEN 'numeric(19,4)'
		WHEN 'smallmoney' THEN 'numeric(10,4)'
		WHEN 'float' THEN 'double precision'
		WHEN 'real' THEN 'real'
		WHEN 'datetime' THEN 'timestamp(3) without time zone'
		WHEN 'smalldatetime' THEN 'timestamp(0) without time zone'
		WHEN 'datetime2' THEN format('timestamp(%s) without time zone', least(coalesce(dt_precision, 6), 6))
		WHEN 'datetimeoffset' THEN format('timestamp(%s) with time zone', least(coalesce(dt_precision, 6), 6))
		WHEN 'date' THEN 'date'
		WHEN 'time' THEN format('time(%s) without time zone', least(coalesce(dt_precision, 6), 6))
		WHEN 'uniqueidentifier' THEN 'uuid'
		WHEN 'nvarchar' THEN CASE WHEN char_length > 0 THEN format('character varying(%s)', char_length) ELSE 'text' END
		WHEN 'varchar' THEN CASE WHEN char_length > 0 THEN format('character varying(%s)', char_length) ELSE 'text' END
		WHEN 'nchar' THEN CASE WHEN char_length > 0 THEN format('character(%s)', char_length) ELSE 'text' END
		WHEN 'char' THEN CASE WHEN char_length > 0 THEN format('character(%s)', char_length) ELSE 'text' END
		WHEN 'varbinary' THEN 'bytea'
		WHEN 'binary' THEN 'bytea'
		WHEN 'image' THEN 'bytea'
		WHEN 'timestamp' THEN 'bytea'
		WHEN 'rowversion' THEN 'bytea'
		WHEN 'xml' THEN 'xml'
		ELSE 'text'
	END
$function$;
COMMENT ON FUNCTION medallion.tds_type(text, integer, integer, integer, integer) IS
	'The PostgreSQL type medallion gives a SQL Server column in a tds source; internal';

/* A foreign wrapper extension, a server of it and a user mapping must exist. */
CREATE OR REPLACE FUNCTION medallion.require_server(kind text, server_name name)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	wrapper text := CASE kind WHEN 'tds' THEN 'tds_fdw' WHEN 'postgres' THEN 'postgres_fdw' ELSE 'file_fdw' END;
	package text := CASE kind WHEN 'tds' THEN 'postgresql-15-tds-fdw' ELSE 'postgresql-15 (contrib)' END;
	server_wrapper text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = wrapper) THEN
		RAISE EXCEPTION 'a % source needs the extension %, which is not installed in this database', kind, wrapper
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = format('Install the package %s, then run CREATE EXTENSION %s.', package, wrapper);
	END IF;
	IF server_name IS NULL THEN
		RAISE EXCEPTION 'a % source needs server_name', kind
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = format('Create one with CREATE SERVER ... FOREIGN DATA WRAPPER %s.', wrapper);
	END IF;
	SELECT w.fdwname INTO server_wrapper
	  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
	 WHERE s.srvname = server_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'server "%" does not exist', server_name
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create it with CREATE SERVER %I FOREIGN DATA WRAPPER %s OPTIONS (...).', server_name, wrapper);
	END IF;
	IF server_wrapper <> wrapper THEN
		RAISE EXCEPTION 'server "%" uses %, not %', server_name, server_wrapper, wrapper
			USING ERRCODE = 'wrong_object_type',
				  HINT = format('A %s source reads through a server of %s.', kind, wrapper);
	END IF;
	IF kind <> 'file' AND NOT EXISTS (SELECT 1 FROM pg_user_mappings m
									  WHERE m.srvname = server_name AND m.usename IN (current_user, 'public')) THEN
		RAISE EXCEPTION 'there is no user mapping for "%" on server "%"', current_user, server_name
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create one with CREATE USER MAPPING FOR %I SERVER %I OPTIONS (%s).', current_user, server_name,
								CASE kind WHEN 'tds' THEN 'username ''...'', password ''...''' ELSE 'user ''...'', password ''...''' END);
	END IF;
END
$function$;
COMMENT ON FUNCTION medallion.require_server(text, name) IS
	'Raise a clear error unless the wrapper, the server and a user mapping of a source exist; internal';

/*
 * The tables of a source as they should be locally, from the remote side:
 * [{"table", "options", "columns": [{"name", "type", "not_null", "options"}]}].
 * Reads the remote catalog through the caller's user mapping.
 */
CREATE OR REPLACE FUNCTION medallion.source_spec(kind text, server_name name, remote_schema text,
	tables text[], options jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	/*
	 * Unpredictable: a name another role could guess, it could create
	 * first and make this call fail (or own what is imported into it).
	 */
	scratch text := 'medallion_import_' || replace(gen_random_uuid()::text, '-', '');
	spec jsonb;
	remote_sql text;
	t text;
BEGIN
	IF kind = 'tds' THEN
		/* the remote catalog through a foreign table of our own, dropped at once */
		remote_sql := format(
			'SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type, '
			'c.IS_NULLABLE AS is_nullable, c.CHARACTER_MAXIMUM_LENGTH AS char_length, '
			'c.NUMERIC_PRECISION AS num_precision, c.NUMERIC_SCALE AS num_scale, '
			'c.DATETIME_PRECISION AS dt_precision, c.ORDINAL_POSITION AS ordinal_position '
			'FROM INFORMATION_SCHEMA.COLUMNS c JOIN INFORMATION_SCHEMA.TABLES t '
			'ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME '
			'WHERE t.TABLE_TYPE IN (''BASE TABLE'', ''VIEW'') AND c.TABLE_SCHEMA = %s%s',
			'''' || replace(remote_schema, '''', '''''') || '''',
			CASE WHEN cardinality(tables) > 0 THEN
				' AND c.TABLE_NAME IN (' || (SELECT string_agg('''' || replace(x, '''', '''''') || '''', ', ') FROM unnest(tables) x) || ')'
			ELSE '' END);
		EXECUTE format('CREATE SCHEMA %I', scratch);
		EXECUTE format('CREATE FOREIGN TABLE %I.remote_columns (table_name text, column_name text, data_type text, '
					   'is_nullable text, char_length integer, num_precision integer, num_scale integer, '
					   'dt_precision integer, ordinal_position integer) SERVER %I OPTIONS (query %L, row_estimate_method %L)',
					   scratch, server_name, remote_sql, 'showplan_all');
		BEGIN
			EXECUTE format(
				'SELECT jsonb_agg(jsonb_build_object(''table'', table_name, ''options'', '
				'  jsonb_build_object(''schema_name'', %L, ''table_name'', table_name, ''match_column_names'', ''1'', '
				'                     ''row_estimate_method'', ''showplan_all''), '
				'  ''columns'', cols) ORDER BY table_name) '
				'FROM (SELECT table_name, jsonb_agg(jsonb_build_object(''name'', column_name, '
				'        ''type'', medallion.tds_type(data_type, char_length, num_precision, num_scale, dt_precision), '
				'        ''not_null'', is_nullable = ''NO'', ''options'', jsonb_build_object(''column_name'', column_name)) '
				'        ORDER BY ordinal_position) AS cols '
				'      FROM %I.remote_columns GROUP BY table_name) r', remote_schema, scratch)
			INTO spec;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'could not read the tables of "%" through server "%"', remote_schema, server_name
				USING ERRCODE = 'fdw_unable_to_establish_connection', DETAIL = SQLERRM,
					  HINT = 'Check the server options (servername, port, database, tds_version), the user mapping and that the server is reachable.';
		END;
		EXECUTE format('DROP SCHEMA %I CASCADE', scratch);
	ELSIF kind = 'postgres' THEN
		/* postgres_fdw imports faithfully: import into a scratch schema, read it */
		EXECUTE format('CREATE SCHEMA %I', scratch);
		BEGIN
			EXECUTE format('IMPORT FOREIGN SCHEMA %I %s FROM SERVER %I INTO %I', remote_schema,
						   CASE WHEN cardinality(tables) > 0 THEN
							   'LIMIT TO (' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(tables) x) || ')'
						   ELSE '' END, server_name, scratch);
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'could not import the tables of "%" through server "%"', remote_schema, server_name
				USING ERRCODE = 'fdw_unable_to_establish_connection', DETAIL = SQLERRM,
					  HINT = 'Check the server options (host, port, dbname), the user mapping and that the server is reachable.';
		END;
		SELECT jsonb_agg(jsonb_build_object('table', c.relname,
				   'options', (SELECT jsonb_object_agg(split_part(o, '=', 1), substr(o, strpos(o, '=') + 1))
								 FROM unnest(ft.ftoptions) o),
				   'columns', (SELECT jsonb_agg(jsonb_build_object('name', a.attname,
										  'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
										  'options', coalesce((SELECT jsonb_object_agg(split_part(o, '=', 1), substr(o, strpos(o, '=') + 1))
															  FROM unnest(a.attfdwoptions) o), '{}'))
										  ORDER BY a.attnum)
								 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
			   ORDER BY c.relname)
		  INTO spec
		  FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
		 WHERE c.relnamespace = scratch::regnamespace;
		EXECUTE format('DROP SCHEMA %I CASCADE', scratch);
	ELSIF kind = 'file' THEN
		/* a CSV file per table, <directory>/<table>.csv; columns from its header, as text */
		IF options->>'directory' IS NULL OR cardinality(tables) = 0 THEN
			RAISE EXCEPTION 'a file source needs tables and options => ''{"directory": "..."}'''
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each table reads <directory>/<table>.csv, whose header line names the columns.';
		END IF;
		spec := '[]';
		FOREACH t IN ARRAY tables LOOP
			DECLARE
				path text := rtrim(options->>'directory', '/') || '/' || t || '.csv';
				header text;
			BEGIN
				BEGIN
					header := split_part(pg_read_file(path, 0, 65536), E'\n', 1);
				EXCEPTION WHEN OTHERS THEN
					RAISE EXCEPTION 'could not read the header of "%"', path
						USING ERRCODE = 'undefined_file', DETAIL = SQLERRM,
							  HINT = 'The file must exist and be readable by the server; reading it needs pg_read_server_files.';
				END;
				spec := spec || jsonb_build_array(jsonb_build_object('table', t,
						'options', jsonb_build_object('filename', path, 'format', 'csv', 'header', 'true'),
						'columns', (SELECT jsonb_agg(jsonb_build_object('name', btrim(h, E' \r"'), 'type', 'text',
																	 'not_null', false, 'options', '{}'::jsonb) ORDER BY n)
									  FROM unnest(string_to_array(rtrim(header, E'\r'), ',')) WITH ORDINALITY AS x(h, n))));
			END;
		END LOOP;
	END IF;
	IF spec IS NULL OR jsonb_array_length(spec) = 0 THEN
		RAISE EXCEPTION 'remote schema "%" has no tables%', remote_schema,
			CASE WHEN cardinality(tables) > 0 THEN ' named ' || array_to_string(tables, ', ') ELSE '' END
			USING ERRCODE = 'undefined_table',
				  HINT = 'Check remote_schema and tables (names are compared as the remote side spells them).';
	END IF;
	FOREACH t IN ARRAY coalesce(tables, '{}') LOOP
		IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(spec) e WHERE e->>'table' = t) THEN
			RAISE EXCEPTION 'remote table "%.%" does not exist', remote_schema, t
				USING ERRCODE = 'undefined_table',
					  HINT = 'Names are compared as the remote side spells them.';
		END IF;
	END LOOP;
	RETURN spec;
END
$function$;
COMMENT ON FUNCTION medallion.source_spec(text, name, text, text[], jsonb) IS
	'The foreign tables a source should have, read from the remote side; internal';

/*
 * Bring the foreign tables of a source in line with spec: create what is
 * missing, add, drop and retype columns, drop tables the remote side no
 * longer has.  Returns what changed.  An object depending on a column or
 * table that must go makes it fail (with PostgreSQL's error), changing
 * nothing.
 */
CREATE OR REPLACE FUNCTION medallion.source_sync(server_name name, local_schema name, spec jsonb, previous text[])
RETURNS TABLE (relation text, change text, column_name text, old_type text, new_type text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	t jsonb;
	c jsonb;
	rel oid;
	rel_server name;
	cur_type text;
	opts text;
	coldefs text;
	name_ text;
BEGIN
	/* types are written into DDL: only names of types that exist (a spec is data, even from a remote catalog) */
	FOR c IN SELECT y.col FROM jsonb_array_elements(spec) AS x (tab), jsonb_array_elements(x.tab->'columns') AS y (col) LOOP
		BEGIN
			IF NOT coalesce(c->>'type' ~ '^[A-Za-z_][A-Za-z0-9_ .(),\[\]]*$', false)
				OR to_regtype(c->>'type') IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value';
			END IF;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'invalid type % of column % in a source specification', c->>'type', c->>'name'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A column type is the name of a type that exists.';
		END;
	END LOOP;
	FOR t IN SELECT * FROM jsonb_array_elements(spec) LOOP
		relation := format('%I.%I', local_schema, t->>'table');
		SELECT cl.oid INTO rel FROM pg_class cl
		 WHERE cl.relnamespace = local_schema::regnamespace AND cl.relname = t->>'table';
		SELECT string_agg(format('%I %L', k, v), ', ') INTO opts FROM jsonb_each_text(t->'options') AS o(k, v);
		IF rel IS NULL THEN
			SELECT string_agg(format('%I %s%s%s', e->>'name', e->>'type',
									 CASE WHEN e->'options' <> '{}' THEN
										 ' OPTIONS (' || (SELECT string_agg(format('%I %L', k, v), ', ')
															FROM jsonb_each_text(e->'options') AS o(k, v)) || ')'
									 ELSE '' END,
									 CASE WHEN (e->>'not_null')::boolean THEN ' NOT NULL' ELSE '' END), ', ')
			  INTO coldefs FROM jsonb_array_elements(t->'columns') e;
			EXECUTE format('CREATE FOREIGN TABLE %s (%s) SERVER %I OPTIONS (%s)', relation, coldefs, server_name, opts);
			change := 'added table'; column_name := NULL; old_type := NULL; new_type := NULL;
			RETURN NEXT;
			CONTINUE;
		END IF;
		SELECT s.srvname INTO rel_server FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver
		 WHERE ft.ftrelid = rel;
		IF rel_server IS DISTINCT FROM server_name THEN
			RAISE EXCEPTION 'relation % exists and is not a foreign table of server "%"', relation, server_name
				USING ERRCODE = 'duplicate_table',
					  HINT = 'Drop or rename it, or register the source in another local_schema.';
		END IF;
		FOR c IN SELECT * FROM jsonb_array_elements(t->'columns') LOOP
			column_name := c->>'name';
			SELECT format_type(a.atttypid, a.atttypmod) INTO cur_type FROM pg_attribute a
			 WHERE a.attrelid = rel AND a.attname = c->>'name' AND a.attnum > 0 AND NOT a.attisdropped;
			IF NOT FOUND THEN
				EXECUTE format('ALTER FOREIGN TABLE %s ADD COLUMN %I %s%s', relation, c->>'name', c->>'type',
							   CASE WHEN c->'options' <> '{}' THEN
								   ' OPTIONS (' || (SELECT string_agg(format('%I %L', k, v), ', ')
													  FROM jsonb_each_text(c->'options') AS o(k, v)) || ')'
							   ELSE '' END);
				change := 'added column'; old_type := NULL; new_type := c->>'type';
				RETURN NEXT;
			ELSIF cur_type <> c->>'type' THEN
				EXECUTE format('ALTER FOREIGN TABLE %s ALTER COLUMN %I TYPE %s', relation, c->>'name', c->>'type');
				change := 'retyped column'; old_type := cur_type; new_type := c->>'type';
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR name_, cur_type IN
			SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
			 WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
			   AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(t->'columns') e WHERE e->>'name' = a.attname)
			 ORDER BY a.attnum
		LOOP
			EXECUTE format('ALTER FOREIGN TABLE %s DROP COLUMN %I', relation, name_);
			change := 'removed column'; column_name := name_; old_type := cur_type; new_type := NULL;
			RETURN NEXT;
		END LOOP;
	END LOOP;
	FOR name_ IN SELECT p FROM unnest(coalesce(previous, '{}')) p
				  WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(spec) e WHERE e->>'table' = p)
	LOOP
		relation := format('%I.%I', local_schema, name_);
		IF to_regclass(relation) IS NOT NULL THEN
			EXECUTE format('DROP FOREIGN TABLE %s', relation);
			change := 'removed table'; column_name := NULL; old_type := NULL; new_type := NULL;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$function$;
COMMENT ON FUNCTION medallion.source_sync(name, name, jsonb, text[]) IS
	'Create or alter the foreign tables of a source to match the remote side; returns the changes; internal';

CREATE OR REPLACE FUNCTION @extschema@.medallion_create_source(
	name text,
	local_schema name,
	kind text DEFAULT 'local',
	tables text[] DEFAULT '{}',
	server_name name DEFAULT NULL,
	remote_schema text DEFAULT NULL,
	freshness_column text DEFAULT NULL,
	warn_after interval DEFAULT NULL,
	error_after interval DEFAULT NULL,
	description text DEFAULT NULL,
	options jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	existed boolean;
	missing text;
	t text;
	spec jsonb;
	previous text[];
BEGIN
	IF name IS NULL OR local_schema IS NULL OR kind IS NULL THEN
		RAISE EXCEPTION 'source name, local_schema and kind must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name !~ '^[a-z_][a-z0-9_]*$' OR length(name) > 63 THEN
		RAISE EXCEPTION 'invalid source name "%"', name
			USING ERRCODE = 'invalid_name',
				  DETAIL = 'A source name is made of lower-case letters, digits and underscores, and does not start with a digit.';
	END IF;
	IF kind NOT IN ('tds', 'postgres', 'file', 'local') THEN
		RAISE EXCEPTION 'unknown source kind "%"', kind
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'kind is tds, postgres, file or local.';
	END IF;
	IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF options ? 'retries' AND (jsonb_typeof(options->'retries') <> 'number'
		OR (options->>'retries')::numeric NOT BETWEEN 0 AND 100
		OR (options->>'retries')::numeric <> trunc((options->>'retries')::numeric)) THEN
		RAISE EXCEPTION 'option retries must be a whole number from 0 to 100'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('retries is %s.', options->'retries'),
				  HINT = 'retries is how many times a connection error is tried again.';
	END IF;
	IF options ? 'batch_size' AND (jsonb_typeof(options->'batch_size') <> 'number'
		OR (options->>'batch_size')::numeric NOT BETWEEN 1 AND 100000000
		OR (options->>'batch_size')::numeric <> trunc((options->>'batch_size')::numeric)) THEN
		RAISE EXCEPTION 'option batch_size must be a whole number from 1 to 100000000'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('batch_size is %s.', options->'batch_size'),
				  HINT = 'batch_size is how many rows an extraction stages per batch.';
	END IF;
	IF options ? 'changes' AND coalesce(options->>'changes', '') NOT IN ('always', 'probe') THEN
		RAISE EXCEPTION 'option changes must be always or probe'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('changes is %s.', options->'changes'),
				  HINT = 'always: a model reading the source''s foreign tables builds at every run; probe: only when a query of count(*) and max(freshness_column) on the remote side returns something new.';
	END IF;
	IF options->>'changes' = 'probe' AND (freshness_column IS NULL OR kind NOT IN ('tds', 'postgres', 'file')) THEN
		RAISE EXCEPTION 'option changes => probe needs a source of foreign tables with a freshness_column'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Source "%s" is of kind %s, freshness_column %s.', name, kind,
								  coalesce(quote_literal(freshness_column), 'not set')),
				  HINT = 'The probe compares count(*) and max(freshness_column) of each foreign table with the last build''s.';
	END IF;
	IF options ? 'retry_delay' THEN
		DECLARE
			delay interval;
		BEGIN
			BEGIN
				delay := (options->>'retry_delay')::interval;
			EXCEPTION WHEN OTHERS THEN
				RAISE EXCEPTION 'option retry_delay must be an interval' USING ERRCODE = 'invalid_parameter_value',
					HINT = 'For example "10 seconds".';
			END;
			IF delay < '0' THEN
				RAISE EXCEPTION 'option retry_delay must not be negative' USING ERRCODE = 'invalid_parameter_value',
					DETAIL = format('retry_delay is %s.', options->>'retry_delay'),
					HINT = 'For example "10 seconds".';
			END IF;
		END;
	END IF;
	IF options ?| ARRAY['password', 'username', 'user', 'passwd', 'pwd'] THEN
		RAISE EXCEPTION 'options must not hold credentials'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Credentials belong in a user mapping (CREATE USER MAPPING), which medallion never reads.';
	END IF;
	IF NOT pg_has_role('medallion_admin', 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to create sources'
			USING ERRCODE = 'insufficient_privilege', HINT = 'Sources are created by members of medallion_admin.';
	END IF;

	IF kind = 'local' THEN
		IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = local_schema) THEN
			RAISE EXCEPTION 'schema "%" does not exist', local_schema
				USING ERRCODE = 'invalid_schema_name',
					  HINT = 'Create the schema and its tables (or import the foreign schema) first.';
		END IF;
		FOREACH t IN ARRAY coalesce(tables, '{}') LOOP
			IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
						   WHERE n.nspname = local_schema AND c.relname = t) THEN
				missing := t;
				EXIT;
			END IF;
		END LOOP;
		IF missing IS NOT NULL THEN
			RAISE EXCEPTION 'relation "%.%" does not exist', local_schema, missing
				USING ERRCODE = 'undefined_table',
					  HINT = 'A source lists relations that exist in its local schema.';
		END IF;
	ELSE
		/* the remote side's tables become foreign tables here, as the caller */
		IF kind <> 'file' AND remote_schema IS NULL THEN
			RAISE EXCEPTION 'a % source needs remote_schema', kind USING ERRCODE = 'null_value_not_allowed';
		END IF;
		PERFORM medallion.require_server(kind, server_name);
		SELECT s.tables INTO previous FROM medallion.sources s
		 WHERE s.name = medallion_create_source.name AND s.local_schema = medallion_create_source.local_schema
		   AND s.kind <> 'local';
		EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', local_schema);
		/* remembered for refreshes: the named tables, or the whole remote schema */
		options := options || jsonb_build_object('all_tables', cardinality(coalesce(tables, '{}')) = 0);
		spec := medallion.source_spec(kind, server_name, remote_schema, tables, options);
		PERFORM medallion.source_sync(server_name, local_schema, spec, previous);
		SELECT array_agg(e->>'table' ORDER BY e->>'table') INTO tables FROM jsonb_array_elements(spec) e;
	END IF;

	existed := medallion.source_write('upsert', name, kind, server_name, remote_schema, local_schema,
									  coalesce(tables, '{}'), options, freshness_column, warn_after,
									  error_after, description);

	/* models reading that schema are classified again */
	PERFORM @extschema@.medallion_reanalyze(string_agg(DISTINCT d.model, ' '))
	   FROM medallion.model_dependencies d
	  WHERE d.dep_schema = local_schema
	 HAVING count(*) > 0;
	RETURN CASE WHEN existed THEN 'updated' ELSE 'created' END;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_create_source(text, name, text, text[], name, text, text, interval, interval, text, jsonb) IS
	'Register (or update) a source: relations in local_schema that models read but medallion does not build; tds, postgres and file sources get their foreign tables created there; returns created or updated';

CREATE OR REPLACE FUNCTION @extschema@.medallion_refresh_source(name text)
RETURNS TABLE (relation text, change text, column_name text, old_type text, new_type text)
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s medallion.sources;
	spec jsonb;
BEGIN
	SELECT * INTO s FROM medallion.sources x WHERE x.name = medallion_refresh_source.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', name
			USING ERRCODE = 'undefined_object', HINT = 'Sources are listed in medallion.sources.';
	END IF;
	IF NOT pg_has_role(s.owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of source "%"', name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The source belongs to role "%s".', s.owner);
	END IF;
	IF s.kind = 'local' THEN
		RAISE EXCEPTION 'source "%" is local: there is nothing to refresh', name
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Refresh reads the remote side of tds, postgres and file sources.';
	END IF;
	PERFORM medallion.require_server(s.kind, s.server_name);
	/* the tables the source was created with; all of the remote schema if none were named */
	spec := medallion.source_spec(s.kind, s.server_name, s.remote_schema,
								  CASE WHEN s.options->>'all_tables' = 'false' OR s.kind = 'file' THEN s.tables END,
								  s.options);
	RETURN QUERY SELECT * FROM medallion.source_sync(s.server_name, s.local_schema, spec, s.tables);
	PERFORM medallion.source_write('tables', s.name,
								   tables => (SELECT array_agg(e->>'table' ORDER BY e->>'table') FROM jsonb_array_elements(spec) e));
	PERFORM @extschema@.medallion_reanalyze(string_agg(DISTINCT d.model, ' '))
	   FROM medallion.model_dependencies d
	  WHERE d.dep_schema = s.local_schema
	 HAVING count(*) > 0;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_refresh_source(text) IS
	'Read the remote side of a source again and add, drop or retype its foreign tables and columns to match; returns each change';

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_source(name text, drop_relations boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s medallion.sources;
	t text;
BEGIN
	SELECT * INTO s FROM medallion.sources x WHERE x.name = medallion_drop_source.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Sources are listed in medallion.sources.';
	END IF;
	IF NOT pg_has_role(s.owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of source "%"', name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The source belongs to role "%s".', s.owner);
	END IF;
	/* the foreign tables it created go with it; a local source's relations stay */
	IF s.kind <> 'local' AND drop_relations THEN
		FOREACH t IN ARRAY s.tables LOOP
			EXECUTE format('DROP FOREIGN TABLE IF EXISTS %I.%I', s.local_schema, t);
		END LOOP;
	END IF;
	PERFORM medallion.source_write('delete', name);
	PERFORM @extschema@.medallion_reanalyze(string_agg(DISTINCT d.model, ' '))
	   FROM medallion.model_dependencies d
	  WHERE d.dep_schema = s.local_schema
	 HAVING count(*) > 0;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_drop_source(text, boolean) IS
	'Forget a source and drop the foreign tables it created (a local source''s relations are left alone); models reading it are classified again';

/* Tests of a source's own relation (#29): src/sql/install/43_source_tests.sql */
CREATE OR REPLACE FUNCTION @extschema@.medallion_add_source_test(
	source text,
	relation text,
	kind text,
	column_name text,
	accepted text[] DEFAULT NULL,
	to_relation text DEFAULT NULL,
	to_column text DEFAULT NULL,
	severity text DEFAULT 'error',
	name text DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_add_source_test'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_add_source_test(text, text, text, text, text[], text, text, text, text, text) IS
	'Define (or redefine) a test of a source''s relation itself (not_null, unique, accepted_values, relationships), run by medallion_check_sources as the source''s owner; returns the test name';

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_source_test(source text, name text)
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_drop_source_test'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_source_test(text, text) IS 'Drop a test of a source';
