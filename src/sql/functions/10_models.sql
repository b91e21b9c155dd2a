/* ---------------------------------------------------------------------
 * Models: define, drop, re-bind, plan, lineage
 * --------------------------------------------------------------------- */

CREATE OR REPLACE FUNCTION @extschema@.medallion_create_model(
	name text,
	sql text,
	layer text DEFAULT NULL,
	materialized text DEFAULT NULL,
	tags text[] DEFAULT '{}',
	description text DEFAULT NULL,
	unique_key text[] DEFAULT NULL,
	indexes text[] DEFAULT '{}',
	column_descriptions jsonb DEFAULT '{}',
	on_schema_change text DEFAULT 'fail',
	statement_timeout interval DEFAULT NULL,
	enabled boolean DEFAULT true,
	strategy text DEFAULT NULL,
	watermark text DEFAULT NULL,
	lookback interval DEFAULT NULL,
	full_refresh_threshold real DEFAULT NULL,
	snapshot_strategy text DEFAULT NULL,
	updated_at text DEFAULT NULL,
	check_columns text[] DEFAULT NULL,
	hard_deletes text DEFAULT NULL,
	distributed_by text DEFAULT NULL,
	colocate_with text DEFAULT NULL,
	distribution text DEFAULT NULL,
	deterministic boolean DEFAULT false,
	contract jsonb DEFAULT NULL,
	maintain text DEFAULT 'auto')
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_create_model'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_create_model(text, text, text, text, text[], text, text[], text[], jsonb, text, interval, boolean, text, text, interval, real, text, text, text[], text, text, text, text, boolean, jsonb, text) IS
	'Create or update a model: validates the query by parse analysis, records its dependencies and column lineage and creates its published relation (on Citus, distributed or reference when asked); with deterministic, its owner declares that the functions it calls do not make it change without its inputs (change-aware runs); with a contract, the query''s columns must be the contract''s (names and types) and a table model''s published table enforces its constraints; maintain says how a table model is brought up to date (auto, incremental: from its inputs'' row deltas, full); returns created, updated or unchanged';

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_model(name text, cascade boolean DEFAULT false)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'medallion_drop_model'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_model(text, boolean) IS
	'Drop a model and its published relation; with cascade also the models that depend on it; returns the dropped models';

CREATE OR REPLACE FUNCTION @extschema@.medallion_reanalyze(selector text DEFAULT 'all')
RETURNS integer
AS 'MODULE_PATHNAME', 'medallion_reanalyze'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_reanalyze(text) IS
	'Analyze the selected models again and rebuild their dependencies and column lineage (after a restore, or after upstream changes); returns the number of models analyzed';

CREATE OR REPLACE FUNCTION @extschema@.medallion_plan(selector text DEFAULT 'all', threads integer DEFAULT 1,
	exclude text DEFAULT NULL,
	OUT step integer, OUT wave integer, OUT model text, OUT layer text,
	OUT materialized text, OUT depends_on text[], OUT worker boolean, OUT reason text,
	OUT build boolean, OUT why text, OUT tests text[], OUT maintain text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_plan(text, integer, text) IS
	'The models a run of the selector (less those exclude selects) would build, in dependency order (models of one wave are independent of each other); with threads, which ones a background worker may build, and why the run builds each other one itself; whether a change-aware run would build each model, and why (build, why); and when each of its tests runs (tests: "name: with the model", "name: after orders" for a test reading a model built from it, "name: unit test"); how it would bring a table model up to date (maintain: incremental, or full and why)';

CREATE OR REPLACE FUNCTION medallion.impact_columns(model text, sql text,
	OUT column_name text, OUT ordinal integer, OUT type_now text, OUT type_new text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_impact_columns'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.impact_columns(text, text) IS
	'The columns a model publishes now (position, type) and their types under new SQL (NULL: removed), then the columns it adds; the SQL is analyzed as medallion_create_model would, as the model''s owner, and nothing changes';

/*
 * What redefining a model with new SQL would change, and break, before
 * anything changes: its columns, the models, tests and users' views that
 * read them (exactly: pg_depend's column dependencies of their bindings and
 * views, the catalog's tests, column lineage) and the grants on what it
 * publishes.  breaking: the change fails (a view model) or fails that
 * object at the next build (a table model).
 */
CREATE OR REPLACE FUNCTION @extschema@.medallion_impact(model text, sql text, contract jsonb DEFAULT NULL,
	OUT object_kind text, OUT object text, OUT change text, OUT breaking boolean, OUT why text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	m medallion.models;
	rel oid;
	bind_nsp oid := to_regnamespace('medallion_bind');
	gone text[];
	retyped text[];
	remade boolean;
	c record;
	d record;
	reads text[];
	cols jsonb;
	readers jsonb := '[]';
BEGIN
	SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') INTO cols
	  FROM medallion.impact_columns(medallion_impact.model, medallion_impact.sql) x;
	SELECT * INTO m FROM medallion.models mm WHERE mm.name = medallion_impact.model;
	SELECT coalesce(array_agg(x.column_name) FILTER (WHERE x.type_now IS NOT NULL AND x.type_new IS NULL), '{}'),
		   coalesce(array_agg(x.column_name) FILTER (WHERE x.type_now <> x.type_new), '{}')
	  INTO gone, retyped
	  FROM jsonb_to_recordset(cols) AS x (column_name text, ordinal integer, type_now text, type_new text);
	/* a view model's view is made again when a column goes or changes type */
	remade := m.materialized = 'view' AND (gone <> '{}' OR retyped <> '{}');
	IF m.name IS NOT NULL THEN
		rel := CASE WHEN m.materialized = 'ephemeral'
					THEN to_regclass(format('medallion_bind.%I', m.name))
					ELSE to_regclass(format('%I.%I', (SELECT l.schema_name FROM medallion.layers l WHERE l.name = m.layer), m.name)) END;
	END IF;

	/* what depends on the relation, and which of its columns each reads */
	IF rel IS NOT NULL THEN
		SELECT coalesce(jsonb_agg(jsonb_build_object('view', x.view, 'reads', x.reads)), '[]') INTO readers
		  FROM (SELECT r.ev_class AS view,
					   coalesce(array_agg(DISTINCT a.attname::text) FILTER (WHERE a.attname IS NOT NULL), '{}') AS reads
				  FROM pg_depend dep
				  JOIN pg_rewrite r ON r.oid = dep.objid
				  LEFT JOIN pg_attribute a ON a.attrelid = rel AND a.attnum = dep.refobjsubid AND dep.refobjsubid > 0
				 WHERE dep.classid = 'pg_rewrite'::regclass AND dep.refclassid = 'pg_class'::regclass
				   AND dep.refobjid = rel AND r.ev_class <> rel
				 GROUP BY r.ev_class) x;
	END IF;

	/* the columns */
	FOR c IN SELECT * FROM jsonb_to_recordset(cols) AS x (column_name text, ordinal integer, type_now text, type_new text)
			  ORDER BY coalesce(x.ordinal, 100000), x.column_name LOOP
		object_kind := 'column';
		object := c.column_name;
		/* who reads it (the model's own tests are bound again with it) */
		SELECT coalesce(array_agg(v.view::regclass::text ORDER BY v.view::regclass::text), '{}') INTO reads
		  FROM jsonb_to_recordset(readers) AS v (view oid, reads text[])
		  JOIN pg_class r ON r.oid = v.view
		 WHERE c.column_name = ANY (v.reads)
		   AND NOT (r.relnamespace = bind_nsp AND starts_with(r.relname::text, m.name || '$'));
		IF c.type_now IS NULL THEN
			change := 'added';
			breaking := false;
			why := format('new column (%s)%s', c.type_new,
						  CASE WHEN m.materialized = 'view' THEN ', published after the columns the view has' ELSE '' END);
		ELSIF c.type_new IS NULL THEN
			change := 'removed';
			breaking := reads <> '{}';
			why := format('no longer in the query (was %s)%s', c.type_now,
						  CASE WHEN reads <> '{}' THEN '; read by ' || array_to_string(reads, ', ') ELSE '; nothing reads it' END);
		ELSIF c.type_now <> c.type_new THEN
			change := 'retyped';
			breaking := false;
			why := format('%s -> %s%s', c.type_now, c.type_new,
						  CASE WHEN reads <> '{}' THEN '; read by ' || array_to_string(reads, ', ') ELSE '' END);
		ELSE
			change := 'unchanged';
			breaking := false;
			why := c.type_now;
		END IF;
		RETURN NEXT;
	END LOOP;
	IF m.name IS NULL THEN
		RETURN;
	END IF;

	/*
	 * The contract (#29): what the model promises its readers.  The new
	 * definition's contract is the one given (NULL: none, as
	 * medallion_create_model takes it).  Dropping it, or a promised column,
	 * changing a promised type, or dropping a constraint (not_null, unique,
	 * primary_key, a check changed or gone) breaks the promise; what it adds
	 * does not.
	 */
	IF m.contract IS NOT NULL AND medallion_impact.contract IS NULL THEN
		object_kind := 'contract';
		object := m.name;
		change := 'dropped';
		breaking := true;
		why := format('the model no longer promises its columns, their types and constraints (%s)',
					  (SELECT string_agg(c->>'name', ', ') FROM jsonb_array_elements(m.contract->'columns') c));
		RETURN NEXT;
	ELSIF m.contract IS NULL AND medallion_impact.contract IS NOT NULL THEN
		object_kind := 'contract';
		object := m.name;
		change := 'added';
		breaking := false;
		why := format('the model promises %s',
					  (SELECT string_agg(c->>'name', ', ') FROM jsonb_array_elements(medallion_impact.contract->'columns') c));
		RETURN NEXT;
	ELSIF m.contract IS NOT NULL THEN
		FOR d IN WITH sides AS (SELECT s.side, c->>'name' AS name, c,
											 /* a type as the catalog spells it, its modifier kept */
											 coalesce(format_type(to_regtype(c->>'data_type'), NULL)
													  || coalesce(regexp_replace(substring(c->>'data_type' FROM '\(.*\)\s*$'), '\s', '', 'g'), ''),
													  c->>'data_type') AS type
										FROM (VALUES ('was', m.contract), ('will', medallion_impact.contract)) s (side, contract),
											 jsonb_array_elements(s.contract->'columns') c),
					  pairs AS (SELECT coalesce(o.name, n.name) AS name, o.c AS was, n.c AS will,
									   o.type AS type_was, n.type AS type_will
								  FROM (SELECT * FROM sides WHERE side = 'was') o
								  FULL JOIN (SELECT * FROM sides WHERE side = 'will') n ON n.name = o.name)
				 SELECT p.name, p.was, p.will, p.type_was, p.type_will,
						ARRAY(SELECT k FROM unnest(ARRAY['not_null', 'unique', 'primary_key']) k
							   WHERE coalesce((p.was->>k)::boolean, false) AND NOT coalesce((p.will->>k)::boolean, false)) AS dropped,
						ARRAY(SELECT k FROM unnest(ARRAY['not_null', 'unique', 'primary_key']) k
							   WHERE coalesce((p.will->>k)::boolean, false) AND NOT coalesce((p.was->>k)::boolean, false)) AS added
				   FROM pairs p ORDER BY 1 LOOP
			object_kind := 'contract';
			object := d.name;
			IF d.was IS NULL THEN
				change := 'added';
				breaking := false;
				why := format('a new promised column (%s)', d.type_will);
			ELSIF d.will IS NULL THEN
				change := 'removed';
				breaking := true;
				why := format('no longer promised (was %s)', d.type_was);
			ELSE
				why := concat_ws('; ',
					CASE WHEN d.type_was IS DISTINCT FROM d.type_will THEN format('type %s -> %s', d.type_was, d.type_will) END,
					CASE WHEN d.dropped <> '{}' THEN 'drops ' || array_to_string(d.dropped, ', ') END,
					CASE WHEN d.was->>'check' IS NOT NULL AND d.was->>'check' IS DISTINCT FROM d.will->>'check'
						 THEN format('check %s %s', d.was->>'check', CASE WHEN d.will->>'check' IS NULL THEN 'dropped'
																	  ELSE 'becomes ' || (d.will->>'check') END) END,
					CASE WHEN d.added <> '{}' THEN 'adds ' || array_to_string(d.added, ', ') END,
					CASE WHEN d.was->>'check' IS NULL AND d.will->>'check' IS NOT NULL
						 THEN 'adds check ' || (d.will->>'check') END);
				breaking := d.type_was IS DISTINCT FROM d.type_will OR d.dropped <> '{}'
							OR (d.was->>'check' IS NOT NULL AND d.was->>'check' IS DISTINCT FROM d.will->>'check');
				change := CASE WHEN breaking THEN 'weakened or retyped' WHEN why <> '' THEN 'strengthened' ELSE 'unchanged' END;
				IF why = '' THEN
					why := coalesce(d.type_will, '');
				END IF;
			END IF;
			RETURN NEXT;
		END LOOP;
		IF (m.contract->'primary_key') IS DISTINCT FROM (medallion_impact.contract->'primary_key') THEN
			object_kind := 'contract';
			object := m.name || ' (primary key)';
			breaking := m.contract->'primary_key' IS NOT NULL;
			change := CASE WHEN breaking THEN 'weakened or retyped' ELSE 'strengthened' END;
			why := format('primary key %s -> %s', coalesce(m.contract->>'primary_key', 'none'),
						  coalesce(medallion_impact.contract->>'primary_key', 'none'));
			RETURN NEXT;
		END IF;
	END IF;

	/* models (their bindings), tests (theirs) and users' views reading it */
	FOR d IN SELECT v.view, v.reads, c.relnamespace = bind_nsp AS binding, c.relname::text AS relname,
					c.oid::regclass::text AS shown,
					(SELECT mm FROM medallion.models mm WHERE c.relnamespace = bind_nsp AND mm.name = c.relname::text) AS reader,
					EXISTS (SELECT FROM medallion.models mm JOIN medallion.layers l ON l.name = mm.layer
							 WHERE mm.materialized = 'view' AND l.schema_name = c.relnamespace::regnamespace::text
							   AND mm.name = c.relname::text) AS model_view
			   FROM jsonb_to_recordset(readers) AS v (view oid, reads text[]) JOIN pg_class c ON c.oid = v.view
			  ORDER BY 4 LOOP
		IF d.model_view THEN
			CONTINUE;			/* a view model's view: its binding says it */
		END IF;
		IF d.binding AND (d.reader).name IS NOT NULL THEN
			object_kind := 'model';
			object := (d.reader).name;
			IF d.reads && gone THEN
				change := 'reads a removed column';
				breaking := true;
				why := format('reads %s, which the new query removes%s', array_to_string(ARRAY(SELECT unnest(d.reads) INTERSECT SELECT unnest(gone) ORDER BY 1), ', '),
							  coalesce('; its columns ' || (SELECT string_agg(DISTINCT l.column_name::text, ', ') FROM medallion.column_lineage l
															 WHERE l.model = (d.reader).name AND l.src_relation = m.name
															   AND l.src_column = ANY (gone) AND l.kind = 'projection')
									   || ' derive from it', ''));
			ELSIF remade OR d.reads && retyped THEN
				change := 'bound again';
				breaking := NOT pg_has_role((d.reader).owner, 'USAGE');
				why := CASE WHEN breaking
							THEN format('its owner %s is not a role you act for, and binding it again resolves its names again: the change is refused', (d.reader).owner)
							WHEN d.reads && retyped
							THEN format('reads %s, of a new type: bound again with it (an expression that does not take the new type fails the change, or for a table model the next build)',
										array_to_string(ARRAY(SELECT unnest(d.reads) INTERSECT SELECT unnest(retyped) ORDER BY 1), ', '))
							ELSE 'the view is made again: bound again, reading the same columns' END;
			ELSE
				change := 'unaffected';
				breaking := false;
				why := CASE WHEN d.reads = '{}' THEN 'reads no column of it by number'
							ELSE 'reads only columns that stay: ' || array_to_string(d.reads, ', ') END;
			END IF;
			RETURN NEXT;
		ELSIF d.binding AND starts_with(d.relname, m.name || '$') THEN
			/* the model's own test: bound again with the new definition (a
			   SELECT * in it reads every column, so its reads say little) */
			object_kind := 'test';
			object := CASE WHEN right(d.relname, 1) = '$' THEN m.name || ' (its test expressions)'
						   ELSE replace(d.relname, '$', '.') END;
			breaking := false;
			change := CASE WHEN d.reads && gone OR d.reads && retyped OR remade THEN 'bound again' ELSE 'unaffected' END;
			why := CASE WHEN d.reads && gone
						THEN format('the model''s own test, bound again with it; it reads %s, which the new query removes: if its SQL names the column (not only through *), the change fails naming the error',
									array_to_string(ARRAY(SELECT unnest(d.reads) INTERSECT SELECT unnest(gone) ORDER BY 1), ', '))
						WHEN change = 'bound again' THEN 'the model''s own test, bound again with it'
						ELSE 'reads only columns that stay' END;
			RETURN NEXT;
		ELSIF d.binding THEN
			object_kind := 'test';
			object := replace(d.relname, '$', '.');
			breaking := d.reads && gone;
			change := CASE WHEN breaking THEN 'reads a removed column' ELSE 'unaffected' END;
			why := CASE WHEN breaking THEN format('the test''s binding reads %s, which the new query removes',
												  array_to_string(ARRAY(SELECT unnest(d.reads) INTERSECT SELECT unnest(gone) ORDER BY 1), ', '))
						ELSE 'reads only columns that stay' END;
			RETURN NEXT;
		ELSE
			object_kind := 'view';
			object := d.shown;
			breaking := d.reads && gone OR d.reads && retyped OR remade;
			change := CASE WHEN breaking THEN 'in the way' ELSE 'unaffected' END;
			why := CASE WHEN d.reads && gone OR d.reads && retyped
						THEN format('a view medallion does not manage reads %s, which the change removes or retypes: drop it first, or keep the column',
									array_to_string(ARRAY(SELECT unnest(d.reads) INTERSECT (SELECT unnest(gone) UNION SELECT unnest(retyped)) ORDER BY 1), ', '))
						WHEN remade THEN 'the model''s view is made again, and a view medallion does not manage cannot follow: drop it first, or keep the columns in place'
						ELSE 'reads only columns that stay' END;
			RETURN NEXT;
		END IF;
	END LOOP;

	/* the model's own tests, and other models' relationships tests, on removed columns */
	FOR d IN SELECT t.model AS tested, t.name, t.columns, t.to_model, t.to_column FROM medallion.tests t
			  WHERE ((t.model = m.name AND t.columns && gone)
					 OR (t.to_model = m.name AND t.to_column = ANY (gone)))
				/* reported above by its binding */
				AND NOT EXISTS (SELECT FROM jsonb_to_recordset(readers) AS v (view oid, reads text[])
								  JOIN pg_class c ON c.oid = v.view
								 WHERE c.relnamespace = bind_nsp AND c.relname = t.model || '$' || t.name
								   AND v.reads && gone)
			  ORDER BY 1, 2 LOOP
		object_kind := 'test';
		object := d.tested || '.' || d.name;
		change := 'tests a removed column';
		breaking := true;
		why := CASE WHEN d.tested = m.name THEN format('tests %s, which the new query removes', array_to_string(d.columns, ', '))
					ELSE format('references %s.%s, which the new query removes', m.name, d.to_column) END;
		RETURN NEXT;
	END LOOP;

	/* the grants on what it publishes */
	IF rel IS NOT NULL AND m.materialized <> 'ephemeral' THEN
		FOR d IN SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
						string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges
				   FROM pg_class c, aclexplode(c.relacl) a
				  WHERE c.oid = rel AND a.grantee <> c.relowner
				  GROUP BY 1 ORDER BY 1 LOOP
			object_kind := 'grant';
			object := d.grantee;
			change := 'kept';
			breaking := false;
			why := d.privileges || CASE WHEN remade THEN ': given back to the view made again' ELSE ': the relation keeps its OID' END;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.medallion_impact(text, text, jsonb) IS
	'What redefining a model with new SQL (and contract: NULL for none) would change and break, before anything changes: per column added, removed, retyped or unchanged; per promised column of the contract, what is dropped, retyped or added; per model, test and user view reading it, and per grant on it, whether it breaks and why (from pg_depend, the catalog and column lineage)';

CREATE OR REPLACE FUNCTION @extschema@.medallion_lineage(model text, direction text DEFAULT 'upstream',
	depth integer DEFAULT NULL, column_name text DEFAULT NULL,
	OUT depth_from_model integer, OUT direction_of text, OUT relation_schema name,
	OUT relation_name name, OUT kind text, OUT via text, OUT path text[],
	OUT relation_column name)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_lineage'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_lineage(text, text, integer, text) IS
	'Relations upstream or downstream of a model (direction upstream, downstream or both), up to depth steps away, with the path that reaches each; with column_name (or a column of the model in place of direction), the columns that column is computed from (kind projection, followed through models) or filtered, joined or grouped by, or the columns computed from it downstream';

CREATE OR REPLACE FUNCTION @extschema@.medallion_graph(selector text DEFAULT 'all', format text DEFAULT 'mermaid',
	exclude text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_graph'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_graph(text, text, text) IS
	'The dependency graph of the selected models (less those exclude selects) and the sources and relations they read, as mermaid, dot, json or svg text (svg: laid out by Graphviz, needs medallion_docs.so)';

CREATE OR REPLACE FUNCTION @extschema@.medallion_docs(selector text DEFAULT 'all', run_id bigint DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_docs'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_docs(text, bigint) IS
	'The selected part of the pipeline as one self-contained HTML page: the graph, a run as a Gantt chart (run_id, else the last), the last runs by model, runs, sources, schedules, and each model with its SQL, columns, lineage, tests and last steps (and why they failed, to whom may read it), with filters and focus; shows what the caller may read';
