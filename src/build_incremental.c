/*-------------------------------------------------------------------------
 *
 * build_incremental.c
 *	  Incremental models: the delta past the high-water mark, tested, then
 *	  applied to the published table by the model's strategy.
 *
 * The candidate of an incremental model is its delta: the rows of the
 * model query that are new since its last build, in a heap shaped like
 * the published table, deduplicated by unique_key for merge and
 * delete+insert (the row with the highest watermark wins).  The run tests
 * it, then applies it to the published table with ordinary DML inside the
 * model's subtransaction: readers keep seeing the old rows until the run
 * commits (MVCC), so no exclusive lock is needed, and the model's state
 * is stored in the same transaction.
 *
 * Which rows are new depends on where the watermark column comes from
 * (AnalyzeColumnSources):
 *
 * - A column of a local table (through views and subqueries), or the
 *   GREATEST of such columns: row capture.  Triggers on each such table,
 *   and on every table its rows can be written through, log the lowest
 *   value of the column each transaction writes (changes.c,
 *   medallion.written_lows).  A build reads under one pinned snapshot,
 *   which it stores: the rows past the lowest value written by the
 *   transactions its previous build's snapshot does not see (a row built
 *   from a row written with value v has a watermark of v at least, since
 *   GREATEST is never below a non-null argument; a NULL written to one of
 *   several columns makes the build read all rows).  Every row written since, whatever its watermark, whenever its
 *   transaction began or committed (prepared, open across runs, rolled
 *   back in part), is read exactly once more at least, and merged by key
 *   (or, for append, not added twice).  The state of capture (storage and
 *   triggers of those tables) is stored too: when it differs, a rewrite,
 *   a partition attached or detached, a trigger disabled or made again,
 *   the build reads all rows again.
 * - A column of a foreign table (a source medallion cannot track): the
 *   rows past the stored high-water mark, minus the lookback.
 * - A computed column, or a table that cannot be captured: all rows, every
 *   build (medallion_create_model warns).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/skey.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/params.h"
#include "parser/parse_utilcmd.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "medallion.h"
#include "relation.h"
#include "scale.h"
#include "sqltext.h"

/*
 * next_watermark
 *		The high-water mark to store after building heap: the largest
 *		watermark in it, or the previous one when that is larger.
 */
static void
next_watermark(Candidate *cand, Oid heap, const char *previous, const char *previous_max)
{
	ModelDef   *model = cand->model;
	char	   *max_seen;

	max_seen = SqlValue(psprintf("SELECT max(%s)::text FROM %s", quote_identifier(model->watermark),
								  SqlRelationName(heap)), 0, NULL, NULL);
	if (max_seen == NULL)
		max_seen = previous_max ? pstrdup(previous_max) : NULL;
	cand->max_seen = max_seen;
	if (max_seen == NULL || previous == NULL)
		cand->watermark = max_seen ? max_seen : (previous ? pstrdup(previous) : NULL);
	else
	{
		Datum		values[2] = {CStringGetTextDatum(previous), CStringGetTextDatum(max_seen)};
		char	   *type = SqlColumnType(cand->columns, model->watermark);

		cand->watermark = SqlValue(psprintf("SELECT CASE WHEN $1::%s OPERATOR(pg_catalog.>=) $2::%s "
											 "THEN $1 ELSE $2 END", type, type), 2, values, NULL);
	}
}

/* Does the tgargs of a pg_trigger tuple name column? */
static bool
trigger_names(HeapTuple tuple, TupleDesc desc, const char *column)
{
	Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
	bool		isnull;
	Datum		args = heap_getattr(tuple, Anum_pg_trigger_tgargs, desc, &isnull);
	bytea	   *bytes;
	char	   *p;
	char	   *end;

	if (isnull)
		return false;
	bytes = DatumGetByteaPP(args);
	p = VARDATA_ANY(bytes);
	end = p + VARSIZE_ANY_EXHDR(bytes);
	for (int i = 0; i < form->tgnargs && p < end; i++)
	{
		if (strcmp(p, column) == 0)
			return true;
		p += strlen(p) + 1;
	}
	return false;
}

/*
 * capture_state
 *		The state of row capture of column on relids (a table and every
 *		table its rows can be written through, below and above it): each
 *		one's storage and capture triggers (OID, row version), as text.  It
 *		is the same at two builds only if none of them was rewritten,
 *		attached, detached, or had a capture trigger disabled, dropped or
 *		made again in between.  NULL, with *why set, when one of them does
 *		not capture column.
 *
 *		Read before the build's snapshot is taken: a trigger seen here was
 *		made by a transaction that waited for every writer of its table, so
 *		every write the snapshot does not see was captured.
 */
static char *
capture_state(List *relids, const char *column, char **why)
{
	const char *names[3] = {ROWS_INSERT_TRIGGER, ROWS_UPDATE_TRIGGER, ROWS_ROW_TRIGGER};
	const char	enabled[3] = {TRIGGER_FIRES_ALWAYS, TRIGGER_FIRES_ALWAYS, TRIGGER_FIRES_ON_REPLICA};
	Relation	triggers = table_open(TriggerRelationId, AccessShareLock);
	/* a trigger of the name calling another function captures nothing */
	Oid			capture_function = CatalogFunctionOid("track_rows");
	StringInfoData state;
	ListCell   *lc;

	relids = list_copy(relids);
	list_sort(relids, list_oid_cmp);
	initStringInfo(&state);
	foreach(lc, relids)
	{
		Oid			r = lfirst_oid(lc);
		HeapTuple	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(r));
		Form_pg_class form;
		int			needed;

		if (!HeapTupleIsValid(classtup))
			elog(ERROR, "cache lookup failed for relation %u", r);
		form = (Form_pg_class) GETSTRUCT(classtup);
		needed = form->relkind == RELKIND_RELATION ? 3 : 2;
		appendStringInfo(&state, "%s%u:%u", state.len > 0 ? ";" : "", r, form->relfilenode);
		ReleaseSysCache(classtup);
		for (int t = 0; t < needed; t++)
		{
			HeapTuple	tup = RelTriggerNamed(triggers, r, names[t]);
			bool		ok;

			ok = HeapTupleIsValid(tup) &&
				((Form_pg_trigger) GETSTRUCT(tup))->tgenabled == enabled[t] &&
				((Form_pg_trigger) GETSTRUCT(tup))->tgfoid == capture_function &&
				trigger_names(tup, RelationGetDescr(triggers), column);
			if (ok)
				appendStringInfo(&state, ",%u/%u", ((Form_pg_trigger) GETSTRUCT(tup))->oid,
								 HeapTupleHeaderGetRawXmin(tup->t_data));
			if (!ok)
			{
				table_close(triggers, AccessShareLock);
				*why = psprintf("%s does not capture column \"%s\"", SqlRelationName(r), column);
				return NULL;
			}
		}
	}
	table_close(triggers, AccessShareLock);
	return state.data;
}

/*
 * lowest_written
 *		The lowest value of column, as captured, that the transactions the
 *		snapshot previous does not see wrote to relids (a table and those
 *		its rows can be written through), read under the pinned snapshot (what it
 *		sees was written; what it does not, the next build reads): NULL
 *		when there is none.  *nulls: one of them wrote a NULL there.
 */
static char *
lowest_written(List *relids, const char *column, Oid type, const char *previous, bool *nulls)
{
	MemoryContext callercxt = CurrentMemoryContext;
	StringInfoData array;
	CatalogSession session;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char	   *low = NULL;
	ListCell   *lc;
	int			ret;

	initStringInfo(&array);
	appendStringInfoChar(&array, '{');
	foreach(lc, relids)
		appendStringInfo(&array, "%s%u", foreach_current_index(lc) > 0 ? "," : "", lfirst_oid(lc));
	appendStringInfoChar(&array, '}');
	values[0] = CStringGetTextDatum(array.data);
	values[1] = CStringGetTextDatum(column);
	values[2] = CStringGetTextDatum(previous);

	CatalogEnter(&session);
	BindPushPinned();
	ret = SPI_execute_with_args(psprintf("WITH new AS (SELECT w.low FROM medallion.written_lows w "
										 "WHERE w.relid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
										 "AND w.attname OPERATOR(pg_catalog.=) $2::pg_catalog.name "
										 "AND NOT pg_catalog.pg_visible_in_snapshot(w.xid, $3::pg_catalog.pg_snapshot)) "
										 "SELECT (SELECT n.low FROM new n WHERE n.low IS NOT NULL "
										 "        ORDER BY n.low::%s LIMIT 1), "
										 "       EXISTS (SELECT FROM new n WHERE n.low IS NULL)",
										 format_type_be(type)),
								3, argtypes, values, NULL, true, 1);
	PopActiveSnapshot();
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the captured rows: %s", SPI_result_code_string(ret));
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		bool		isnull;

		if (value != NULL)
			low = MemoryContextStrdup(callercxt, value);
		*nulls = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	CatalogLeave(&session);
	return low;
}

/* EXPLAIN (VERBOSE, FORMAT JSON) of sql, as text. */
static char *
explain_json(const char *sql)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *plan = NULL;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("EXPLAIN (VERBOSE, FORMAT JSON) %s", sql), false, 1);
	if ((ret == SPI_OK_UTILITY || ret == SPI_OK_SELECT) && SPI_tuptable != NULL && SPI_processed == 1)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			plan = MemoryContextStrdup(callercxt, value);
	}
	SPI_finish();
	if (plan == NULL)
		elog(ERROR, "could not EXPLAIN \"%s\"", sql);
	return plan;
}

/*
 * check_pushdown
 *		EXPLAIN VERBOSE the delta query of an incremental model that reads
 *		a foreign table: when no remote query carries the watermark bound,
 *		the wrapper pulls the whole remote table at every run; say so.
 *		postgres_fdw shows "Remote SQL", tds_fdw "Remote query".
 */
static void
check_pushdown(ModelDef *model, const char *delta_sql, const char *bound)
{
	char	   *plan = explain_json(delta_sql);
	const char *keys[] = {"\"Remote SQL\": \"", "\"Remote query\": \""};
	char	   *remote = NULL;

	for (int k = 0; k < lengthof(keys); k++)
	{
		for (char *p = strstr(plan, keys[k]); p != NULL; p = strstr(p + 1, keys[k]))
		{
			char	   *start = p + strlen(keys[k]);
			char	   *end = start;

			while (*end && !(*end == '"' && end[-1] != '\\'))
				end++;
			remote = pnstrdup(start, end - start);
			if (strstr(remote, bound) != NULL)
				return;			/* pushed down */
		}
	}
	if (remote != NULL)
		ereport(WARNING,
				(errmsg("the watermark of model \"%s\" is not pushed to the remote server: every run reads the whole remote table",
						model->name),
				 errdetail("Remote query: %s", remote),
				 errhint("Select the remote column as it is (no function or cast on it) as the watermark, so that \"%s > bound\" can be sent to the remote side.",
						 model->watermark)));
}

/* How an incremental model's new rows are found (see the top of the file). */
typedef enum NewRows
{
	NEW_BY_CAPTURE,				/* past the lowest value written since */
	NEW_BY_WATERMARK,			/* past the high-water mark (foreign tables, staged) */
	NEW_ALL						/* all rows */
} NewRows;

/*
 * A column the watermark is, or is the GREATEST of: its table with the
 * tables its rows are written through, its name and type.
 */
typedef struct CapturedColumn
{
	List	   *relids;
	char	   *column;
	Oid			type;
} CapturedColumn;

/* What one incremental build works from. */
typedef struct IncrementalBuild
{
	ModelDef   *model;
	AnalyzedModel *analyzed;
	const char *sql;
	List	   *redirect_from;
	List	   *redirect_to;
	bool		full_refresh;
	bool		reads_remote;
	char	   *staged_sql;		/* the stage's rows, or NULL */
	NewRows		how;
	List	   *captured;		/* NEW_BY_CAPTURE: the watermark's CapturedColumns */
	char	   *capture;		/* the state of their capture now */
	char	   *why;			/* NEW_ALL: why */
	char	   *stored_snapshot;	/* what the previous build stored */
	char	   *stored_capture;
} IncrementalBuild;

/*
 * new_rows_by
 *		How the build finds the model's new rows, from where its watermark
 *		column comes from; read before the build's snapshot is taken.
 */
static void
new_rows_by(IncrementalBuild *b)
{
	ModelDef   *model = b->model;
	List	   *sources;
	List	   *attnums;
	ListCell   *ls;
	ListCell   *la;
	StringInfoData state;

	if (b->staged_sql != NULL)
	{
		b->how = NEW_BY_WATERMARK;	/* the stage holds the new rows */
		return;
	}
	if (model->watermark == NULL)
	{
		b->how = NEW_ALL;
		b->why = "it has no watermark";
		return;
	}
	if (!AnalyzeColumnSources(b->analyzed->query, model->watermark, &sources, &attnums))
	{
		b->how = b->reads_remote ? NEW_BY_WATERMARK : NEW_ALL;
		b->why = psprintf("its watermark \"%s\" is computed", model->watermark);
		return;
	}
	if (!CatalogHasCapture())
	{
		b->how = NEW_ALL;
		b->why = "the extension is not updated to 0.3.0";
		return;
	}
	initStringInfo(&state);
	b->how = NEW_BY_CAPTURE;
	forboth(ls, sources, la, attnums)
	{
		Oid			source = lfirst_oid(ls);
		AttrNumber	attnum = lfirst_int(la);
		CapturedColumn *captured;
		char	   *one;

		if (get_rel_relkind(source) == RELKIND_FOREIGN_TABLE)
		{
			b->how = NEW_BY_WATERMARK;
			return;
		}
		if (!RelCapturableType(get_atttype(source, attnum)))
		{
			b->how = NEW_ALL;
			b->why = psprintf("its watermark \"%s\" is of type %s", model->watermark,
							  format_type_be(get_atttype(source, attnum)));
			return;
		}
		captured = palloc(sizeof(CapturedColumn));
		captured->column = get_attname(source, attnum, false);
		captured->type = get_atttype(source, attnum);
		captured->relids = list_concat(RelTree(source), RelAncestors(source));
		one = capture_state(captured->relids, captured->column, &b->why);
		if (one == NULL)
			b->how = NEW_ALL;
		else
			appendStringInfo(&state, "%s%s", state.len > 0 ? "|" : "", one);
		b->captured = lappend(b->captured, captured);
	}
	if (b->how == NEW_BY_CAPTURE)
		b->capture = state.data;
}

/*
 * lowest_written_all
 *		The lowest value written to any of the captured columns since the
 *		snapshot previous (lowest_written), as text of type (the
 *		watermark's), or NULL for none; *nulls: a NULL was written to one
 *		of them.
 */
static char *
lowest_written_all(List *captured, const char *type, const char *previous, bool *nulls)
{
	char	   *low = NULL;
	ListCell   *lc;

	*nulls = false;
	foreach(lc, captured)
	{
		CapturedColumn *c = lfirst(lc);
		bool		one_nulls;
		char	   *one = lowest_written(c->relids, c->column, c->type, previous, &one_nulls);

		*nulls = *nulls || one_nulls;
		if (one == NULL)
			continue;
		if (low == NULL)
			low = one;
		else
		{
			Datum		values[2] = {CStringGetTextDatum(low), CStringGetTextDatum(one)};

			low = SqlValue(psprintf("SELECT LEAST($1::%s, $2::%s)::pg_catalog.text",
									type, type), 2, values, NULL);
		}
	}
	return low;
}

/*
 * incremental_candidate
 *		BuildIncrementalCandidate's work, under the pinned snapshot.
 */
/*
 * ignore_schema_change
 *		on_schema_change = 'ignore' (dbt's default): new columns of the
 *		query are not added (the delta fills the table's columns by name),
 *		and a column the table has that the query no longer gives, or gives
 *		with another type, fails the build, as dbt's insert would.
 */
static void
ignore_schema_change(ModelDef *model, SchemaChange *change)
{
	if (change->removed != NIL || change->retyped != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the columns of incremental model \"%s\" no longer match %s", model->name,
						SqlModelName(model)),
				 errdetail("Removed columns: %s. Columns of another type: %s. on_schema_change = ignore adds no column and changes none.",
						   BuildNameList(change->removed, false), BuildNameList(change->retyped, true)),
				 errhint("Run it with full_refresh => true to rebuild it with the new columns, or define it with on_schema_change => 'sync_all_columns'.")));
	if (change->added != NIL)
		ereport(NOTICE,
				(errmsg("incremental model \"%s\": new columns not added to %s: %s", model->name,
						SqlModelName(model), BuildNameList(change->added, true)),
				 errdetail("on_schema_change = ignore; a full refresh adds them.")));
}

static Candidate *
incremental_candidate(IncrementalBuild *b, Oid published)
{
	ModelDef   *model = b->model;
	AnalyzedModel *analyzed = b->analyzed;
	const char *sql = b->sql;
	char	   *previous = NULL;
	char	   *previous_max = NULL;
	bool		has_state = CatalogGetState(model->name, &previous, &previous_max);
	Candidate  *cand;
	Relation	rel;
	SchemaChange *change;
	StringInfoData delta;
	double		published_rows;
	char	   *bound = NULL;
	bool		reread = false;
	const char *why_all = NULL;

	/*
	 * For a first build or a full refresh a batched extraction staged
	 * everything, so a full build reads the stage too; any other full
	 * build (columns changed, above full_refresh_threshold) reads the model
	 * query.
	 */
	if (b->staged_sql != NULL && (b->full_refresh || !has_state))
		sql = b->staged_sql;

	rel = table_open(published, AccessShareLock);
	change = BuildSchemaChange(rel, analyzed->columns);
	table_close(rel, NoLock);

	if (strcmp(model->on_schema_change, "ignore") == 0 && !b->full_refresh && has_state)
		ignore_schema_change(model, change);
	else if (b->full_refresh || !has_state || change->added || change->removed || change->retyped)
	{
		/* a full refresh or first build takes the query's columns, whatever on_schema_change says */
		cand = BuildTableCandidate(model, analyzed, sql, b->redirect_from, b->redirect_to, true,
								   b->full_refresh || !has_state);
		cand->full_reason = b->full_refresh ? "full refresh" : !has_state ? "first build" :
			"the columns changed";
		if (model->watermark)
			next_watermark(cand, cand->candidate, NULL, NULL);
		return cand;
	}

	/*
	 * The delta: the new rows (of the stage; past the lowest value written
	 * since; past the high-water mark minus the lookback; or all), one per
	 * key.  A bound is a typed literal, not a parameter, so that a foreign
	 * data wrapper can push "watermark > bound" to the remote side.
	 */
	initStringInfo(&delta);
	if (b->staged_sql != NULL)
		appendStringInfoString(&delta, b->staged_sql);
	else if (b->how == NEW_BY_CAPTURE && b->stored_capture != NULL && b->stored_snapshot != NULL &&
			 strcmp(b->stored_capture, b->capture) == 0)
	{
		char	   *type = SqlColumnType(analyzed->columns, model->watermark);
		bool		nulls;

		bound = lowest_written_all(b->captured, type, b->stored_snapshot, &nulls);
		reread = true;
		appendStringInfo(&delta, "SELECT * FROM (%s) AS q WHERE ", sql);
		if (nulls && list_length(b->captured) > 1)
		{
			/* GREATEST(NULL, x) is x: a row written with a NULL can give any value */
			appendStringInfoString(&delta, "true");
			bound = NULL;
			why_all = "a NULL was written to a column its watermark is the GREATEST of";
		}
		else
		{
			if (bound != NULL)
				appendStringInfo(&delta, "q.%s OPERATOR(pg_catalog.>=) %s::%s",
								 quote_identifier(model->watermark), quote_literal_cstr(bound), type);
			if (nulls)
				appendStringInfo(&delta, "%sq.%s IS NULL", bound != NULL ? " OR " : "",
								 quote_identifier(model->watermark));
			if (bound == NULL && !nulls)
				appendStringInfoString(&delta, "false");	/* nothing written since */
		}
	}
	else if (b->how == NEW_BY_WATERMARK && previous != NULL)
	{
		char	   *type = SqlColumnType(analyzed->columns, model->watermark);

		bound = previous;
		if (model->lookback)
		{
			Datum		args[2] = {CStringGetTextDatum(previous), CStringGetTextDatum(model->lookback)};

			bound = SqlValue(psprintf("SELECT ($1::%s OPERATOR(pg_catalog.-) $2::pg_catalog.interval)::%s::pg_catalog.text", type, type),
							  2, args, NULL);
			reread = true;
		}
		appendStringInfo(&delta, "SELECT * FROM (%s) AS q WHERE q.%s OPERATOR(pg_catalog.>) %s::%s",
						 sql, quote_identifier(model->watermark), quote_literal_cstr(bound), type);
		if (b->reads_remote)
			check_pushdown(model, delta.data, bound);
	}
	else
	{
		/* all rows: capture started or changed, or cannot be */
		appendStringInfoString(&delta, sql);
		reread = true;
		why_all = b->how == NEW_BY_CAPTURE ?
			(b->stored_capture == NULL ? "row capture starts" :
			 "a table of the watermark was rewritten, attached or detached, or its capture changed") :
			b->why;
	}
	if (strcmp(model->strategy, "append") != 0)
	{
		char	   *keys = SqlNameList(model->unique_key);

		delta.data = psprintf("SELECT DISTINCT ON (%s) * FROM (%s) AS d ORDER BY %s%s%s",
							  keys, delta.data, keys,
							  model->watermark ? ", " : "",
							  model->watermark ? psprintf("%s DESC NULLS LAST",
														  quote_identifier(model->watermark)) : "");
	}

	cand = palloc0(sizeof(Candidate));
	cand->model = model;
	cand->columns = analyzed->columns;
	cand->published = published;
	cand->delta = true;
	cand->lower_bound = bound;
	cand->reread = reread;
	if (why_all != NULL)
		cand->full_reason = psprintf("all rows read: %s", why_all);
	rel = table_open(published, AccessShareLock);
	published_rows = rel->rd_rel->reltuples;
	cand->candidate = make_new_heap(published, rel->rd_rel->reltablespace, rel->rd_rel->relam,
									rel->rd_rel->relpersistence, AccessShareLock);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RelKeepFromAutovacuum(cand->candidate);
	cand->rows = BuildFillHeap(cand->candidate, analyzed->columns, delta.data,
							   published, b->redirect_from, b->redirect_to);

	if (model->full_refresh_threshold && cand->rows > 0 && published_rows > 0 &&
		cand->rows > atof(model->full_refresh_threshold) * published_rows)
	{
		ereport(NOTICE,
				(errmsg("model \"%s\": %lld changed rows are more than %s of %.0f; rebuilding instead",
						model->name, (long long) cand->rows, model->full_refresh_threshold,
						published_rows)));
		BindDropRelation(cand->candidate);
		cand = BuildTableCandidate(model, analyzed, sql, b->redirect_from, b->redirect_to, true, false);
		cand->full_reason = "above full_refresh_threshold";
		if (model->watermark)
			next_watermark(cand, cand->candidate, NULL, NULL);
		return cand;
	}
	if (model->watermark)
		next_watermark(cand, cand->candidate, previous, previous_max);
	return cand;
}

/*
 * BuildIncrementalCandidate
 *		Build an incremental model's candidate: its delta, or (first run,
 *		full_refresh, a changed share above full_refresh_threshold, changed
 *		columns) a whole new table like a table model.  stage is a batched
 *		extraction's staging table (or InvalidOid); reads_remote says the
 *		model reads foreign tables, whose delta query is checked for
 *		pushdown.  Everything it reads, it reads under one snapshot, which
 *		the candidate carries to be stored with the model's state.  Runs as
 *		the model owner.
 */
Candidate *
BuildIncrementalCandidate(ModelDef *model, AnalyzedModel *analyzed, const char *sql,
						  List *redirect_from, List *redirect_to, bool full_refresh, Oid stage,
						  bool reads_remote)
{
	IncrementalBuild b = {0};
	Oid			published = RelPublished(model);
	Candidate  *volatile cand = NULL;
	char	   *snapshot;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		return BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true, true); /* it reports the problem */

	b.model = model;
	b.analyzed = analyzed;
	b.sql = sql;
	b.redirect_from = redirect_from;
	b.redirect_to = redirect_to;
	b.full_refresh = full_refresh;
	b.reads_remote = reads_remote;
	if (OidIsValid(stage))
		b.staged_sql = psprintf("SELECT %s FROM %s", SqlNameList(SqlColumnNames(analyzed->columns)),
								SqlRelationName(stage));
	new_rows_by(&b);
	CatalogGetCapture(model->name, &b.stored_snapshot, &b.stored_capture);

	snapshot = BindPinSnapshot();
	PG_TRY();
	{
		cand = incremental_candidate(&b, published);
	}
	PG_FINALLY();
	{
		BindUnpinSnapshot();
	}
	PG_END_TRY();
	cand->snapshot = snapshot;
	cand->capture = b.capture;
	cand->previous_snapshot = b.stored_snapshot;
	return cand;
}

/*
 * BuildApplyDelta
 *		Apply an incremental model's delta to its published table (inside
 *		the model's subtransaction, as the model owner) by its strategy, and
 *		drop the delta.  Returns the rows inserted or changed.
 */
int64
BuildApplyDelta(Candidate *cand)
{
	ModelDef   *model = cand->model;
	char	   *target = SqlRelationName(cand->published);
	char	   *delta = SqlRelationName(cand->candidate);
	char	   *cols;
	char	   *source;
	uint64		rows = 0;

	SqlColumnLists(cand->published, cand->columns, &cols, &source);
	ScaleClaim(cand->published, psprintf("model \"%s\"", model->name));
	if (strcmp(model->strategy, "append") == 0)
	{
		if (cand->reread)
		{
			/*
			 * Rows read again (the lowest value written since, the
			 * lookback, all rows) are not added twice: a row equal to one
			 * published at or past the bound is left out.
			 */
			const char *from = "";

			if (model->watermark && cand->lower_bound != NULL)
				from = psprintf("p.%s OPERATOR(pg_catalog.>=) %s::%s AND ",
								quote_identifier(model->watermark), quote_literal_cstr(cand->lower_bound),
								SqlColumnType(cand->columns, model->watermark));
			rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s AS d "
								   "WHERE NOT EXISTS (SELECT 1 FROM %s AS p WHERE %s"
								   "ROW(%s) IS NOT DISTINCT FROM ROW(%s))",
								   target, cols, cols, delta, target, from,
								   SqlEachColumn(cols, "p.", false), SqlEachColumn(cols, "d.", false)),
						  SPI_OK_INSERT);
		}
		else
			rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, delta),
						   SPI_OK_INSERT);
	}
	else
	{
		StringInfoData on;
		ListCell   *lc;
		char	   *differs;

		initStringInfo(&on);
		foreach(lc, model->unique_key)
			appendStringInfo(&on, "%st.%s OPERATOR(pg_catalog.=) s.%s", on.len > 0 ? " AND " : "",
							 quote_identifier(lfirst(lc)), quote_identifier(lfirst(lc)));
		/*
		 * A row equal to the published one is left alone: a delta read
		 * again (rows past the lowest value written since, or all rows)
		 * then writes and counts only what changed.  Compared by the
		 * records' binary images (*=, as REFRESH MATERIALIZED VIEW
		 * CONCURRENTLY compares), which every type has and which tells
		 * 1.0 from 1.00; comparing them as text cost a call of every
		 * column's output function per row on both sides (a third of an
		 * incremental run's time, issue 27).
		 */
		differs = psprintf("NOT (ROW(%s)::pg_catalog.record OPERATOR(pg_catalog.*=) ROW(%s)::pg_catalog.record)",
						   SqlEachColumn(cols, "t.", false), SqlEachColumn(cols, "s.", false));

		/*
		 * Citus runs no MERGE from a local table into a distributed one;
		 * replacing the rows of the keys does the same there.
		 */
		if (strcmp(model->strategy, "merge") == 0 && !ScaleIsCitusTable(cand->published))
			rows = SqlRun(psprintf("MERGE INTO %s AS t USING %s AS s ON %s "
									"WHEN MATCHED AND %s THEN UPDATE SET %s "
									"WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
									target, delta, on.data, differs, SqlEachColumn(cols, "s.", true),
									cols, SqlEachColumn(cols, "s.", false)),
						   SPI_OK_MERGE);
		else if (ScaleIsCitusTable(cand->published))
		{
			/*
			 * Citus plans neither a stable function of the columns
			 * (record_out) in a DELETE nor an INSERT whose NOT EXISTS reads
			 * the distributed table for each row of the local delta: there
			 * every row of the delta replaces its key's, changed or not,
			 * and is counted.
			 */
			(void) SqlRun(psprintf("DELETE FROM %s AS t USING %s AS s WHERE %s", target, delta, on.data),
						   SPI_OK_DELETE);
			rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, delta),
						   SPI_OK_INSERT);
		}
		else
		{
			(void) SqlRun(psprintf("DELETE FROM %s AS t USING %s AS s WHERE %s AND %s",
								   target, delta, on.data, differs),
						   SPI_OK_DELETE);
			rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s AS s "
								   "WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE %s)",
								   target, cols, cols, delta, target, on.data),
						   SPI_OK_INSERT);
		}
	}
	BindDropRelation(cand->candidate);
	cand->candidate = InvalidOid;
	CommandCounterIncrement();
	return (int64) rows;
}
