/*-------------------------------------------------------------------------
 *
 * changes_inputs.c
 *	  The inputs of a model and the state no trigger reports
 *	  (medallion.model_inputs), read straight from the catalogs.
 *
 * Every build of a model records the state of its inputs, and every check
 * of a change-aware run compares it with the state now.  As one SQL
 * query (recursive CTEs over medallion's catalog, pg_class, pg_inherits,
 * pg_trigger and pg_rewrite) it cost a third of a millisecond per model,
 * most of it starting the executor for a plan of some forty nodes: more
 * than building a small model (issue 27).  Here it is index scans and
 * syscache lookups.  What it returns, row for row:
 *
 * - each relation the model reads, through view and ephemeral models
 *   (their own reads) and the models its relationships tests reference
 *   (but those built from it: a run tests them after both, run_plan.c):
 *   a model's state is its last build's run ("run N", "never built"), a
 *   view or ephemeral model's its version; a view's its rule's row
 *   version; a partitioned table's, its leaves' storage; a foreign table's
 *   its probe, when the run probed it; any other relation's its storage
 *   and which change triggers it has (made again, disabled and enabled,
 *   they missed writes);
 * - "tests": a digest of the model's tests (a test added, changed or
 *   dropped runs them again);
 * - the tables above and below each table read (partitions at every
 *   level, inheritance parents and children): writes through them are
 *   logged under their own OIDs, so their change triggers count too.
 *
 * A table counts as tracked when its statement trigger is enabled ALWAYS
 * and, for a plain table, its row trigger is enabled REPLICA (a
 * subscription's apply worker); why when it is not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "rewrite/rewriteSupport.h"
#include "utils/json.h"

#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "relation.h"
#include "sqltext.h"

/* A relation a model reads, as its dependencies name it. */
typedef struct InputDep
{
	char	   *schema;			/* '' for a model a test references */
	char	   *name;
	char	   *kind;			/* model, source, view, relation */
} InputDep;

/* One row of medallion.model_inputs. */
typedef struct InputRow
{
	char	   *label;
	char	   *state;			/* NULL when there is none (no leaves) */
	Oid			relid;			/* a table to look up in the change log, or InvalidOid */
	bool		tracked;
	char	   *why;			/* not tracked: why */
} InputRow;

/* The change triggers of a relation (see model_inputs' header). */
typedef struct Triggers
{
	bool		any;			/* has one */
	bool		ok;				/* logs every write */
	char	   *ident;			/* "oid/xmin,...", or NULL */
	char	   *why;			/* not ok: why */
} Triggers;

/* A medallion catalog table and its primary key index, by name. */
static Relation
open_catalog(const char *table, const char *index, Oid *indexid)
{
	Oid			nsp = get_namespace_oid(MEDALLION_CATALOG_SCHEMA, false);
	Oid			relid = get_relname_relid(table, nsp);

	*indexid = get_relname_relid(index, nsp);
	if (!OidIsValid(relid) || !OidIsValid(*indexid))
		elog(ERROR, "medallion.%s or its index %s is missing", table, index);
	return table_open(relid, AccessShareLock);
}

/* A scan of a catalog table by the first (text) column of its primary key. */
static SysScanDesc
scan_by_model(Relation rel, Oid indexid, const char *model, Snapshot snapshot, ScanKey key)
{
	ScanKeyInit(key, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(model));
	return systable_beginscan(rel, indexid, true, snapshot, 1, key);
}

/* A text (or name) column of a catalog tuple, or NULL. */
static char *
text_column(HeapTuple tuple, Relation rel, const char *column)
{
	bool		isnull;
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), column);
	Datum		value = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);

	if (isnull)
		return NULL;
	if (TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid == NAMEOID)
		return pstrdup(NameStr(*DatumGetName(value)));
	return TextDatumGetCString(value);
}

/* An integer column (int4 or int8) of a catalog tuple; *isnull */
static int64
int_column(HeapTuple tuple, Relation rel, const char *column, bool *isnull)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), column);
	Datum		value = heap_getattr(tuple, attnum, RelationGetDescr(rel), isnull);

	if (*isnull)
		return 0;
	return TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid == INT8OID ?
		DatumGetInt64(value) : DatumGetInt32(value);
}

static bool
dep_listed(List *deps, const char *schema, const char *name, const char *kind)
{
	ListCell   *lc;

	foreach(lc, deps)
	{
		InputDep   *d = lfirst(lc);

		if (strcmp(d->schema, schema) == 0 && strcmp(d->name, name) == 0 && strcmp(d->kind, kind) == 0)
			return true;
	}
	return false;
}

/* Append model's dependencies to *deps (once each); returns them as found. */
static void
add_dependencies(List **deps, const char *model, Snapshot snapshot)
{
	Oid			indexid;
	Relation	rel = open_catalog("model_dependencies", "model_dependencies_pkey", &indexid);
	ScanKeyData key;
	SysScanDesc scan = scan_by_model(rel, indexid, model, snapshot, &key);
	HeapTuple	tuple;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		char	   *schema = text_column(tuple, rel, "dep_schema");
		char	   *name = text_column(tuple, rel, "dep_name");
		char	   *kind = text_column(tuple, rel, "kind");

		if (!dep_listed(*deps, schema, name, kind))
		{
			InputDep   *d = palloc(sizeof(InputDep));

			d->schema = schema;
			d->name = name;
			d->kind = kind;
			*deps = lappend(*deps, d);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * reads_model
 *		Does model reader read model, through any number of models?  A
 *		relationships test referring to such a model is deferred by runs
 *		(run_plan.c): it runs whenever either side builds, so the model
 *		it refers to is not an input of the tested one (it would make each
 *		build of one an input change of the other, every run).
 */
static bool
reads_model(const char *reader, const char *model, Snapshot snapshot)
{
	List	   *deps = NIL;
	ListCell   *lc;

	add_dependencies(&deps, reader, snapshot);
	foreach(lc, deps)			/* deps grows as it is walked */
	{
		InputDep   *d = lfirst(lc);

		if (strcmp(d->kind, "model") != 0)
			continue;
		if (strcmp(d->name, model) == 0)
			return true;
		add_dependencies(&deps, d->name, snapshot);
	}
	return false;
}

/* The models model's relationships tests reference; *any: it has tests. */
static List *
test_references(const char *model, Snapshot snapshot, bool *any)
{
	Oid			indexid;
	Relation	rel = open_catalog("tests", "tests_pkey", &indexid);
	ScanKeyData key;
	SysScanDesc scan = scan_by_model(rel, indexid, model, snapshot, &key);
	HeapTuple	tuple;
	List	   *to_models = NIL;

	*any = false;
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		char	   *to_model = text_column(tuple, rel, "to_model");

		*any = true;
		if (to_model != NULL)
			to_models = lappend(to_models, to_model);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return to_models;
}

/* A model's materialization and version; false when there is no such model. */
static bool
model_row(const char *model, Snapshot snapshot, char **materialized, int64 *version)
{
	Oid			indexid;
	Relation	rel = open_catalog("models", "models_pkey", &indexid);
	ScanKeyData key;
	SysScanDesc scan = scan_by_model(rel, indexid, model, snapshot, &key);
	HeapTuple	tuple = systable_getnext(scan);
	bool		found = HeapTupleIsValid(tuple);
	bool		isnull;

	if (found)
	{
		*materialized = text_column(tuple, rel, "materialized");
		*version = int_column(tuple, rel, "version", &isnull);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* "run N" of a model's last build, or "never built" */
static char *
model_build_state(const char *model, Snapshot snapshot)
{
	Oid			indexid;
	Relation	rel = open_catalog("build_state", "build_state_pkey", &indexid);
	ScanKeyData key;
	SysScanDesc scan = scan_by_model(rel, indexid, model, snapshot, &key);
	HeapTuple	tuple = systable_getnext(scan);
	char	   *state = "never built";
	bool		isnull;

	if (HeapTupleIsValid(tuple))
	{
		int64		run_id = int_column(tuple, rel, "run_id", &isnull);

		if (!isnull)
			state = psprintf("run " INT64_FORMAT, run_id);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return state;
}

/*
 * ChangesTestsDigest
 *		The digest of a model's tests: md5 of each test's row as jsonb, by
 *		name (a test added, changed or dropped changes it), or "none".
 */
char *
ChangesTestsDigest(const char *model)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	char	   *digest;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.to_jsonb(t)::pg_catalog.text, '|' "
							  "ORDER BY t.name)) FROM medallion.tests t WHERE t.model OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the tests of model \"%s\"", model);
	digest = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	digest = digest != NULL ? MemoryContextStrdup(callercxt, digest) : "none";
	SPI_finish();
	return digest;
}

/* The change triggers of relid (of relkind) and whether they log every write. */
static Triggers
relation_triggers(Oid relid, char relkind, Oid track_changes)
{
	const char *names[2] = {CHANGES_TRIGGER, CHANGES_ROW_TRIGGER};
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	StringInfoData enabled;
	StringInfoData ident;
	Triggers	t = {0};

	initStringInfo(&enabled);
	initStringInfo(&ident);
	/* by name, as the names sort: the statement trigger, then the row trigger */
	for (int i = 0; i < lengthof(names); i++)
	{
		HeapTuple	tup = RelTriggerNamed(rel, relid, names[i]);

		/* medallion's: another function under the name logs nothing */
		if (HeapTupleIsValid(tup) && ((Form_pg_trigger) GETSTRUCT(tup))->tgfoid == track_changes)
		{
			Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tup);

			appendStringInfo(&enabled, "%s%s=%c", enabled.len > 0 ? "," : "", names[i], form->tgenabled);
			appendStringInfo(&ident, "%s%u/%u", ident.len > 0 ? "," : "", form->oid,
							 HeapTupleHeaderGetRawXmin(tup->t_data));
		}
	}
	table_close(rel, AccessShareLock);

	t.any = enabled.len > 0;
	t.ident = t.any ? ident.data : NULL;
	t.ok = (relkind == RELKIND_RELATION &&
			strcmp(enabled.data, CHANGES_TRIGGER "=A," CHANGES_ROW_TRIGGER "=R") == 0) ||
		(relkind == RELKIND_PARTITIONED_TABLE &&
		 strncmp(enabled.data, CHANGES_TRIGGER "=A", strlen(CHANGES_TRIGGER "=A")) == 0);
	if (relkind == RELKIND_FOREIGN_TABLE)
		t.why = "a foreign table: its changes are not seen here (its source may probe them: options => {\"changes\": \"probe\"})";
	else if (relkind == RELKIND_MATVIEW)
		t.why = "a materialized view: its refreshes fire no trigger";
	else if (!t.any)
		t.why = "not tracked (its owner can call medallion_track)";
	else
		t.why = "its triggers " CHANGES_TRIGGER " (enabled always) and " CHANGES_ROW_TRIGGER
			" (enabled replica) are not both there (its owner can call medallion_track)";
	return t;
}

/* "oid:filenode,..." of a partitioned table's leaves with storage, by OID; NULL for none */
static char *
leaves_state(Oid relid)
{
	List	   *below = list_copy(RelDescendants(relid));
	StringInfoData state;
	ListCell   *lc;

	list_sort(below, list_oid_cmp);
	initStringInfo(&state);
	foreach(lc, below)
	{
		Oid			leaf = lfirst_oid(lc);
		HeapTuple	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(leaf));
		Form_pg_class form;

		if (!HeapTupleIsValid(classtup))
			continue;			/* dropped meanwhile */
		form = (Form_pg_class) GETSTRUCT(classtup);
		if (form->relkind != RELKIND_PARTITIONED_TABLE && RELKIND_HAS_STORAGE(form->relkind))
			appendStringInfo(&state, "%s%u:%u", state.len > 0 ? "," : "", leaf, form->relfilenode);
		ReleaseSysCache(classtup);
	}
	return state.len > 0 ? psprintf("partitions %s", state.data) : NULL;
}

/*
 * A relation's name as regclass prints it under search_path = pg_catalog,
 * pg_temp (as the SQL of 0.2.0 labelled the tables above and below):
 * qualified unless it is found first there.
 */
static char *
regclass_name(Oid relid)
{
	char	   *name = get_rel_name(relid);
	Oid			nsp = get_rel_namespace(relid);

	if (nsp == PG_CATALOG_NAMESPACE ||
		(isTempNamespace(nsp) && !OidIsValid(get_relname_relid(name, PG_CATALOG_NAMESPACE))))
		return pstrdup(quote_identifier(name));
	return quote_qualified_identifier(get_namespace_name(nsp), name);
}

/* The probe of a foreign table in probes (a jsonb object keyed by OID), or NULL */
static char *
probe_of(Jsonb *probes, Oid relid)
{
	char	   *key = psprintf("%u", relid);
	JsonbValue	value;

	if (probes == NULL || !JB_ROOT_IS_OBJECT(probes) ||
		getKeyJsonValueFromContainer(&probes->root, key, strlen(key), &value) == NULL)
		return NULL;
	if (value.type == jbvString)
		return pnstrdup(value.val.string.val, value.val.string.len);
	return JsonbToCString(NULL, &probes->root, 0);	/* never: probes are strings */
}

static InputRow *
new_row(List **rows, char *label, char *state, Oid relid, bool tracked, char *why)
{
	InputRow   *row = palloc(sizeof(InputRow));

	row->label = label;
	row->state = state;
	row->relid = relid;
	row->tracked = tracked;
	row->why = tracked ? NULL : why;
	*rows = lappend(*rows, row);
	return row;
}

/*
 * model_inputs
 *		The rows of medallion.model_inputs(model, probes), read under
 *		snapshot (medallion's catalog tables; PostgreSQL's through their
 *		caches, as the relations are opened).
 */
static List *
model_inputs(const char *model, Jsonb *probes, Snapshot snapshot)
{
	List	   *deps = NIL;
	List	   *rows = NIL;
	List	   *read = NIL;		/* the OIDs of the relations read */
	List	   *tables = NIL;	/* the tables read, whose families are listed */
	List	   *family = NIL;
	List	   *above = NIL;
	Oid			track_changes = CatalogFunctionOid("track_changes");
	bool		has_tests;
	ListCell   *lc;

	/* what it reads, through the view and ephemeral models it reads */
	add_dependencies(&deps, model, snapshot);
	foreach(lc, test_references(model, snapshot, &has_tests))
	{
		if (!dep_listed(deps, "", lfirst(lc), "model") &&
			!reads_model(lfirst(lc), model, snapshot))
		{
			InputDep   *d = palloc(sizeof(InputDep));

			d->schema = "";
			d->name = lfirst(lc);
			d->kind = "model";
			deps = lappend(deps, d);
		}
	}
	foreach(lc, deps)			/* deps grows as it is walked */
	{
		InputDep   *d = lfirst(lc);
		char	   *materialized;
		int64		version;

		if (strcmp(d->kind, "model") == 0 && model_row(d->name, snapshot, &materialized, &version) &&
			(strcmp(materialized, "view") == 0 || strcmp(materialized, "ephemeral") == 0))
			add_dependencies(&deps, d->name, snapshot);
	}

	foreach(lc, deps)
	{
		InputDep   *d = lfirst(lc);
		Oid			nsp = get_namespace_oid(d->schema, true);
		Oid			relid = OidIsValid(nsp) ? get_relname_relid(d->name, nsp) : InvalidOid;
		char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
		char	   *materialized;
		int64		version;

		if (OidIsValid(relid))
			read = lappend_oid(read, relid);
		if (strcmp(d->kind, "model") == 0 && model_row(d->name, snapshot, &materialized, &version))
		{
			bool		virtual = strcmp(materialized, "view") == 0 || strcmp(materialized, "ephemeral") == 0;

			new_row(&rows, psprintf("model %s", d->name),
					virtual ? psprintf("version " INT64_FORMAT, version) : model_build_state(d->name, snapshot),
					InvalidOid, true, NULL);
			continue;
		}
		{
			const char *word = relkind == RELKIND_VIEW ? "view" : relkind == RELKIND_FOREIGN_TABLE ?
				"foreign table" : relkind == RELKIND_MATVIEW ? "materialized view" : "table";
			char	   *label = psprintf("%s %s.%s", word, quote_identifier(d->schema),
										 quote_identifier(d->name));
			Triggers	t = {0};
			char	   *probe = NULL;
			char	   *state;
			bool		tracked;

			if (!OidIsValid(relid))
			{
				new_row(&rows, label, "missing", InvalidOid, false, "it is missing");
				continue;
			}
			if (relkind != RELKIND_VIEW)
				t = relation_triggers(relid, relkind, track_changes);
			if (relkind == RELKIND_FOREIGN_TABLE)
				probe = probe_of(probes, relid);
			if (probe != NULL)
				state = psprintf("probe %s", probe);
			else if (relkind == RELKIND_VIEW)
			{
				HeapTuple	rule = SearchSysCache2(RULERELNAME, ObjectIdGetDatum(relid),
												   CStringGetDatum(ViewSelectRuleName));

				state = NULL;
				if (HeapTupleIsValid(rule))
				{
					state = psprintf("rule %u", HeapTupleHeaderGetRawXmin(rule->t_data));
					ReleaseSysCache(rule);
				}
			}
			else if (relkind == RELKIND_PARTITIONED_TABLE)
				state = leaves_state(relid);
			else
			{
				HeapTuple	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

				if (!HeapTupleIsValid(classtup))
					elog(ERROR, "cache lookup failed for relation %u", relid);
				state = psprintf("storage %u%s%s", ((Form_pg_class) GETSTRUCT(classtup))->relfilenode,
								 t.ident ? " triggers " : "", t.ident ? t.ident : "");
				ReleaseSysCache(classtup);
			}
			tracked = relkind == RELKIND_VIEW || probe != NULL ||
				((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) && t.ok);
			new_row(&rows, label, state,
					relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
					relkind == RELKIND_FOREIGN_TABLE ? relid : InvalidOid,
					tracked, relkind == RELKIND_VIEW ? NULL : t.why);
			if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE)
				tables = lappend_oid(tables, relid);
		}
	}

	/* its tests */
	new_row(&rows, "tests", has_tests ? ChangesTestsDigest(model) : "none", InvalidOid, true, NULL);

	/* the tables above and below the tables read */
	foreach(lc, tables)
	{
		for (int up = 1; up >= 0; up--)
		{
			ListCell   *lf;

			foreach(lf, up ? RelAncestors(lfirst_oid(lc)) : RelDescendants(lfirst_oid(lc)))
			{
				Oid			r = lfirst_oid(lf);

				if (list_member_oid(read, r) ||
					(up ? list_member_oid(above, r) : list_member_oid(family, r)))
					continue;
				if (up)
					above = lappend_oid(above, r);
				else
					family = lappend_oid(family, r);
			}
		}
	}
	for (int up = 1; up >= 0; up--)
	{
		foreach(lc, up ? above : family)
		{
			Oid			r = lfirst_oid(lc);
			HeapTuple	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(r));
			Form_pg_class form;
			char		relkind;
			bool		partition;
			Triggers	t;

			if (!HeapTupleIsValid(classtup))
				continue;		/* dropped meanwhile */
			form = (Form_pg_class) GETSTRUCT(classtup);
			relkind = form->relkind;
			partition = form->relispartition;
			ReleaseSysCache(classtup);
			t = relation_triggers(r, relkind, track_changes);
			new_row(&rows,
					psprintf("%s %s", up ? "parent" : partition ? "partition" : "child", regclass_name(r)),
					psprintf("%s%s%s", up ? "above" : "below", t.ident ? " triggers " : "",
							 t.ident ? t.ident : ""),
					relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ? r : InvalidOid,
					t.ok, t.why);
		}
	}
	return rows;
}

/*
 * ChangesInputState
 *		The state of model's inputs now, as a jsonb object text of label to
 *		state (what a build records and a check compares), with probes (a
 *		jsonb object text).  As the extension owner, in a transaction that
 *		may have written the catalog just before: its own writes are seen.
 */
char *
ChangesInputState(const char *model, const char *probes)
{
	Jsonb	   *jprobes = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(probes)));
	StringInfoData json;
	List	   *rows;
	ListCell   *lc;

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	rows = model_inputs(model, jprobes, GetActiveSnapshot());
	PopActiveSnapshot();

	initStringInfo(&json);
	appendStringInfoChar(&json, '{');
	foreach(lc, rows)
	{
		InputRow   *row = lfirst(lc);

		if (json.len > 1)
			appendStringInfoString(&json, ", ");
		escape_json(&json, row->label);
		appendStringInfoString(&json, ": ");
		if (row->state != NULL)
			escape_json(&json, row->state);
		else
			appendStringInfoString(&json, "null");
	}
	appendStringInfoChar(&json, '}');
	return json.data;
}

/* pg_current_snapshot(), as text */
char *
ChangesSnapshotNow(void)
{
	return DatumGetCString(OidFunctionCall1(F_PG_SNAPSHOT_OUT,
											OidFunctionCall0Coll(F_PG_CURRENT_SNAPSHOT, InvalidOid)));
}

/*
 * ChangesAnyProbes
 *		Does a source ask for probes (options => {"changes": "probe"})?
 *		Most pipelines have none, and then no model's inputs are probed: a
 *		scan of medallion.sources (a few rows) instead of a query per build.
 */
bool
ChangesAnyProbes(void)
{
	Oid			nsp = get_namespace_oid(MEDALLION_CATALOG_SCHEMA, false);
	Relation	rel = table_open(get_relname_relid("sources", nsp), AccessShareLock);
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), "options");
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false,
										  ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(),
										  0, NULL);
	HeapTuple	tuple;
	bool		any = false;

	while (!any && attnum > 0 && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		options = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);
		JsonbValue	value;

		if (!isnull && getKeyJsonValueFromContainer(&DatumGetJsonbP(options)->root, "changes",
													strlen("changes"), &value) != NULL)
			any = value.type == jbvString && value.val.string.len == strlen("probe") &&
				strncmp(value.val.string.val, "probe", value.val.string.len) == 0;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return any;
}

PG_FUNCTION_INFO_V1(medallion_model_inputs);

/*
 * medallion.model_inputs(model text, probes jsonb)
 *		The inputs of a model with their state (see the top of the file).
 *		Internal: revoked from PUBLIC; build_check and trim_changes call it.
 */
Datum
medallion_model_inputs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *model;
	Jsonb	   *probes = NULL;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		probes = PG_GETARG_JSONB_P(1);
	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, model_inputs(model, probes, GetActiveSnapshot()))
	{
		InputRow   *row = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, row->state == NULL, !OidIsValid(row->relid), false, row->why == NULL};

		values[0] = CStringGetTextDatum(row->label);
		values[1] = row->state ? CStringGetTextDatum(row->state) : (Datum) 0;
		values[2] = ObjectIdGetDatum(row->relid);
		values[3] = BoolGetDatum(row->tracked);
		values[4] = row->why ? CStringGetTextDatum(row->why) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
