/*-------------------------------------------------------------------------
 *
 * build_incremental.c
 *	  Incremental models: the delta past the high-water mark, tested, then
 *	  applied to the published table by the model's strategy.
 *
 * The candidate of an incremental model is its delta: the rows of the
 * model query past the stored high-water mark (minus the lookback), in a
 * heap shaped like the published table, deduplicated by unique_key for
 * merge and delete+insert (the row with the highest watermark wins).  The
 * run tests it, then applies it to the published table with ordinary DML
 * inside the model's subtransaction: readers keep seeing the old rows
 * until the run commits (MVCC), so no exclusive lock is needed, and the
 * new high-water mark is stored in the same transaction.
 *
 * The high-water mark is held back to the start of the oldest transaction
 * in progress in another session: a row such a transaction writes with a
 * timestamp from before its commit is then read by the next run instead of
 * being skipped forever.  For a numeric watermark, in-flight transactions
 * keep the previous mark.  Rows read again are merged by key (merge,
 * delete+insert) or not inserted again (append: an anti-join over the
 * rows past the lower bound).
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
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
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
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "relation.h"
#include "scale.h"
#include "sqltext.h"

/*
 * next_watermark
 *		The high-water mark to store after building heap: the largest
 *		watermark in it (or the previous one), held back to the oldest
 *		transaction in progress.
 */
static void
next_watermark(Candidate *cand, Oid heap, const char *previous, const char *previous_max)
{
	ModelDef   *model = cand->model;
	char	   *type = SqlColumnType(cand->columns, model->watermark);
	char	   *oldest = CatalogOldestTransactionStart();
	char	   *max_seen;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	max_seen = SqlValue(psprintf("SELECT max(%s)::text FROM %s", quote_identifier(model->watermark),
								  SqlRelationName(heap)), 0, NULL, NULL);
	if (max_seen == NULL)
		max_seen = previous_max ? pstrdup(previous_max) : NULL;
	cand->max_seen = max_seen;
	if (max_seen == NULL || oldest == NULL)
		cand->watermark = max_seen;
	else if (SqlIsTimeType(cand->columns, model->watermark))
	{
		/*
		 * Strictly before that transaction began: what it writes with now()
		 * is then past the mark.  A date mark goes back a whole day.
		 */
		values[0] = CStringGetTextDatum(max_seen);
		values[1] = CStringGetTextDatum(oldest);
		cand->watermark = SqlValue(psprintf(strcmp(type, "date") == 0 ?
											 "SELECT least($1::date, $2::pg_catalog.timestamptz::date OPERATOR(pg_catalog.-) 1)::pg_catalog.text" :
											 "SELECT least($1::%s, ($2::pg_catalog.timestamptz OPERATOR(pg_catalog.-) pg_catalog.interval '1 microsecond')::%s)::pg_catalog.text",
											 type, type), 2, values, nulls);
	}
	else
		cand->watermark = previous ? pstrdup(previous) : NULL;
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

/*
 * BuildIncrementalCandidate
 *		Build an incremental model's candidate: its delta, or (first run,
 *		full_refresh, a changed share above full_refresh_threshold, changed
 *		columns) a whole new table like a table model.  stage is a batched
 *		extraction's staging table (or InvalidOid); reads_remote says the
 *		model reads foreign tables, whose delta query is checked for
 *		pushdown.  Runs as the model owner.
 */
Candidate *
BuildIncrementalCandidate(ModelDef *model, AnalyzedModel *analyzed, const char *sql,
						  List *redirect_from, List *redirect_to, bool full_refresh, Oid stage,
						  bool reads_remote)
{
	char	   *previous = NULL;
	char	   *previous_max = NULL;
	bool		has_state = CatalogGetState(model->name, &previous, &previous_max);
	Oid			published = RelPublished(model);
	Candidate  *cand;
	Relation	rel;
	SchemaChange *change;
	StringInfoData delta;
	double		published_rows;
	char	   *staged_sql = NULL;

	/*
	 * Staged by a batched extraction: the new rows, read from there.  For a
	 * first build or a full refresh the extraction staged everything, so a
	 * full build reads the stage too; any other full build (columns
	 * changed, above full_refresh_threshold) reads the model query.
	 */
	if (OidIsValid(stage))
	{
		staged_sql = psprintf("SELECT %s FROM %s", SqlNameList(SqlColumnNames(analyzed->columns)),
							  SqlRelationName(stage));
		if (full_refresh || !has_state)
			sql = staged_sql;
	}

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		return BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true);	/* it reports the problem */
	rel = table_open(published, AccessShareLock);
	change = BuildSchemaChange(rel, analyzed->columns);
	table_close(rel, NoLock);

	if (full_refresh || !has_state || change->added || change->removed || change->retyped)
	{
		cand = BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true);
		cand->full_reason = full_refresh ? "full refresh" : !has_state ? "first build" :
			"the columns changed";
		if (model->watermark)
			next_watermark(cand, cand->candidate, NULL, NULL);
		return cand;
	}

	/*
	 * The delta: rows past the high-water mark (minus the lookback), one per
	 * key.  The bound is a typed literal, not a parameter, so that a foreign
	 * data wrapper can push "watermark > bound" to the remote side.
	 */
	initStringInfo(&delta);
	if (staged_sql != NULL)
		appendStringInfoString(&delta, staged_sql);
	else if (model->watermark && previous != NULL)
	{
		char	   *type = SqlColumnType(analyzed->columns, model->watermark);
		char	   *bound = (char *) previous;

		if (model->lookback)
		{
			Datum		args[2] = {CStringGetTextDatum(previous), CStringGetTextDatum(model->lookback)};

			bound = SqlValue(psprintf("SELECT ($1::%s OPERATOR(pg_catalog.-) $2::pg_catalog.interval)::%s::pg_catalog.text", type, type),
							  2, args, NULL);
		}
		appendStringInfo(&delta, "SELECT * FROM (%s) AS q WHERE q.%s OPERATOR(pg_catalog.>) %s::%s",
						 sql, quote_identifier(model->watermark), quote_literal_cstr(bound), type);
		if (reads_remote)
			check_pushdown(model, delta.data, bound);
	}
	else
		appendStringInfoString(&delta, sql);
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
	cand->lower_bound = previous;
	rel = table_open(published, AccessShareLock);
	published_rows = rel->rd_rel->reltuples;
	cand->candidate = make_new_heap(published, rel->rd_rel->reltablespace, rel->rd_rel->relam,
									rel->rd_rel->relpersistence, AccessShareLock);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RelKeepFromAutovacuum(cand->candidate);
	cand->rows = BuildFillHeap(cand->candidate, analyzed->columns, delta.data,
						   published, redirect_from, redirect_to);

	if (model->full_refresh_threshold && cand->rows > 0 && published_rows > 0 &&
		cand->rows > atof(model->full_refresh_threshold) * published_rows)
	{
		ereport(NOTICE,
				(errmsg("model \"%s\": %lld changed rows are more than %s of %.0f; rebuilding instead",
						model->name, (long long) cand->rows, model->full_refresh_threshold,
						published_rows)));
		BindDropRelation(cand->candidate);
		cand = BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true);
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
	if (strcmp(model->strategy, "append") == 0)
	{
		if (model->watermark && cand->lower_bound != NULL)
		{
			/* rows read again (held-back mark, lookback) are not added twice */
			Datum		values[1] = {CStringGetTextDatum(cand->lower_bound)};
			char	   *type = SqlColumnType(cand->columns, model->watermark);
			Oid			types[1] = {TEXTOID};
			int			ret;

			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			ret = SPI_execute_with_args(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s AS d "
												 "WHERE NOT EXISTS (SELECT 1 FROM %s AS p WHERE p.%s OPERATOR(pg_catalog.>=) ($1::%s OPERATOR(pg_catalog.-) %s) "
												 "AND ROW(%s) IS NOT DISTINCT FROM ROW(%s))",
												 target, cols, cols, delta, target,
												 quote_identifier(model->watermark), type,
												 model->lookback ? psprintf("%s::pg_catalog.interval",
																			quote_literal_cstr(model->lookback)) :
												 psprintf("'0'::%s", strcmp(type, "date") == 0 ? "integer" :
														  SqlIsTimeType(cand->columns, model->watermark) ?
														  "pg_catalog.interval" : type),
												 SqlEachColumn(cols, "p.", false), SqlEachColumn(cols, "d.", false)),
										1, types, values, NULL, false, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "could not append the delta: %s", SPI_result_code_string(ret));
			rows = SPI_processed;
			SPI_finish();
		}
		else
			rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, delta),
						   SPI_OK_INSERT);
	}
	else
	{
		StringInfoData on;
		ListCell   *lc;

		initStringInfo(&on);
		foreach(lc, model->unique_key)
			appendStringInfo(&on, "%st.%s OPERATOR(pg_catalog.=) s.%s", on.len > 0 ? " AND " : "",
							 quote_identifier(lfirst(lc)), quote_identifier(lfirst(lc)));
		/*
		 * Citus runs no MERGE from a local table into a distributed one;
		 * replacing the rows of the keys does the same there.
		 */
		if (strcmp(model->strategy, "merge") == 0 && !ScaleIsCitusTable(cand->published))
			rows = SqlRun(psprintf("MERGE INTO %s AS t USING %s AS s ON %s "
									"WHEN MATCHED THEN UPDATE SET %s "
									"WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
									target, delta, on.data, SqlEachColumn(cols, "s.", true),
									cols, SqlEachColumn(cols, "s.", false)),
						   SPI_OK_MERGE);
		else
		{
			(void) SqlRun(psprintf("DELETE FROM %s AS t USING %s AS s WHERE %s", target, delta, on.data),
						   SPI_OK_DELETE);
			rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, delta),
						   SPI_OK_INSERT);
		}
	}
	BindDropRelation(cand->candidate);
	cand->candidate = InvalidOid;
	CommandCounterIncrement();
	return (int64) rows;
}
