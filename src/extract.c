/*-------------------------------------------------------------------------
 *
 * extract.c
 *	  Extraction from sources: which foreign tables a model reads, the
 *	  check that its watermark is pushed to the remote side, and batched,
 *	  resumable extraction into a staging table.
 *
 * An incremental model reading a source with batch_size pulls its new rows
 * in a background worker, batch after batch, each committed into a staging
 * table (medallion_build.s_<published OID>) together with the position it
 * reached (medallion.extract_state).  Batches follow the watermark, and the
 * unique key among rows of equal watermark, so an interrupted extraction
 * resumes after the last committed row.  The run then builds the model's
 * delta from the staging table and drops it with the state, in its own
 * transaction: a failed run leaves the batches for the next one.
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
#include "postmaster/bgworker.h"
#include "storage/procarray.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
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
#include "extract.h"
#include "medallion.h"
#include "relation.h"
#include "scope.h"
#include "sqltext.h"

static bool
foreign_walker(Node *node, List **schemas)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_FOREIGN_TABLE)
			{
				char	   *schema = get_namespace_name(get_rel_namespace(rte->relid));
				ListCell   *ls;
				bool		seen = false;

				foreach(ls, *schemas)
					seen = seen || strcmp(lfirst(ls), schema) == 0;
				if (!seen)
					*schemas = lappend(*schemas, schema);
			}
		}
		return query_tree_walker(query, foreign_walker, schemas, 0);
	}
	return expression_tree_walker(node, foreign_walker, schemas);
}

/*
 * ExtractForeignSchemas
 *		The schemas of the foreign tables a model reads, through views and
 *		ephemeral models too (the query is rewritten, views expanded).
 */
List *
ExtractForeignSchemas(Query *query)
{
	Query	   *copy = copyObject(query);
	List	   *schemas = NIL;
	ListCell   *lc;

	AcquireRewriteLocks(copy, true, false);
	foreach(lc, QueryRewrite(copy))
		(void) foreign_walker(lfirst(lc), &schemas);
	return schemas;
}

/*
 * ExtractStart
 *		Where a new extraction starts: the stored high-water mark minus the
 *		lookback, or NULL (everything) for a first build or a full refresh.
 */
char *
ExtractStart(ModelDef *model, AnalyzedModel *analyzed, bool full_refresh)
{
	char	   *previous = NULL;
	char	   *previous_max = NULL;
	char	   *type = SqlColumnType(analyzed->columns, model->watermark);

	if (full_refresh || !CatalogGetState(model->name, &previous, &previous_max) || previous == NULL)
		return NULL;
	if (model->lookback)
	{
		Datum		args[2] = {CStringGetTextDatum(previous), CStringGetTextDatum(model->lookback)};

		return SqlValue(psprintf("SELECT ($1::%s OPERATOR(pg_catalog.-) $2::pg_catalog.interval)::%s::pg_catalog.text", type, type),
						 2, args, NULL);
	}
	return previous;
}

/*
 * ExtractCreateStage
 *		A staging table with the published table's columns, owned by its
 *		owner, in medallion_build (committed by the worker that makes it).
 */
Oid
ExtractCreateStage(ModelDef *model)
{
	Oid			published = RelPublished(model);
	Relation	rel = table_open(published, AccessShareLock);
	Oid			stage = make_new_heap(published, rel->rd_rel->reltablespace, rel->rd_rel->relam,
									  RELPERSISTENCE_PERMANENT, AccessShareLock);
	Candidate	cand = {0};

	table_close(rel, AccessShareLock);
	CommandCounterIncrement();
	RelKeepFromAutovacuum(stage);
	cand.candidate = stage;
	cand.published = published;
	BuildMoveToBuildSchema(&cand, -1, NIL);
	RenameRelationInternal(stage, psprintf("s_%u", published), true, false);
	CommandCounterIncrement();
	return stage;
}

/* Drop a staging table (applied, or starting over). */
void
ExtractDropStage(Oid stage)
{
	if (OidIsValid(stage) && get_rel_name(stage) != NULL)
		BindDropRelation(stage);
}

/*
 * ExtractBatch
 *		Stage the next batch_size rows of sql (the model query) past *mark
 *		and *last_key, in (watermark, key) order, and move *mark and
 *		*last_key to the last one.  Runs as the model owner.  Returns the
 *		rows staged: fewer than batch_size means the extraction is done.
 */
int64
ExtractBatch(ModelDef *model, AnalyzedModel *analyzed, const char *sql, Oid stage,
				  char **mark, char **last_key, int batch_size)
{
	const char *key = linitial(model->unique_key);
	char	   *wm_type = SqlColumnType(analyzed->columns, model->watermark);
	char	   *key_type = SqlColumnType(analyzed->columns, key);
	const char *wm = quote_identifier(model->watermark);
	const char *k = quote_identifier(key);
	char	   *columns = SqlNameList(SqlColumnNames(analyzed->columns));
	StringInfoData where;
	int64		rows;

	initStringInfo(&where);
	if (*mark != NULL && *last_key != NULL)
		appendStringInfo(&where, "WHERE q.%s OPERATOR(pg_catalog.>) %s::%s OR (q.%s OPERATOR(pg_catalog.=) %s::%s AND q.%s OPERATOR(pg_catalog.>) %s::%s)",
						 wm, quote_literal_cstr(*mark), wm_type, wm, quote_literal_cstr(*mark), wm_type,
						 k, quote_literal_cstr(*last_key), key_type);
	else if (*mark != NULL)
		appendStringInfo(&where, "WHERE q.%s OPERATOR(pg_catalog.>) %s::%s", wm, quote_literal_cstr(*mark), wm_type);
	else
		appendStringInfo(&where, "WHERE q.%s IS NOT NULL", wm);	/* the rest: ExtractUnmarked */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) AS q %s ORDER BY q.%s, q.%s LIMIT %d",
							 SqlRelationName(stage), columns, columns, sql, where.data, wm, k, batch_size),
					false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not stage a batch of model \"%s\"", model->name);
	rows = (int64) SPI_processed;
	SPI_finish();
	if (rows > 0)
	{
		/* the position reached: the last staged row, in batch order */
		MemoryContext callercxt = CurrentMemoryContext;
		char	   *value;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(psprintf("SELECT %s::text, %s::text FROM %s WHERE %s IS NOT NULL "
								 "ORDER BY %s DESC, %s DESC NULLS LAST LIMIT 1",
								 wm, k, SqlRelationName(stage), wm, wm, k), false, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not read the position of the extraction of model \"%s\"", model->name);
		*mark = MemoryContextStrdup(callercxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		*last_key = value ? MemoryContextStrdup(callercxt, value) : NULL;
		SPI_finish();
	}
	return rows;
}

/*
 * ExtractUnmarked
 *		Stage the rows of a whole extraction that have no watermark (keyset
 *		batches never reach them), skipping keys already staged.
 */
int64
ExtractUnmarked(ModelDef *model, AnalyzedModel *analyzed, const char *sql, Oid stage)
{
	const char *k = quote_identifier(linitial(model->unique_key));
	char	   *columns = SqlNameList(SqlColumnNames(analyzed->columns));
	int64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) AS q WHERE q.%s IS NULL "
							 "AND NOT EXISTS (SELECT 1 FROM %s s WHERE s.%s OPERATOR(pg_catalog.=) q.%s)",
							 SqlRelationName(stage), columns, columns, sql,
							 quote_identifier(model->watermark), SqlRelationName(stage), k, k),
					false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not stage the rows without a watermark of model \"%s\"", model->name);
	rows = (int64) SPI_processed;
	SPI_finish();
	return rows;
}

/* Commit the worker's transaction and start the next, with a snapshot. */
static void
next_transaction(MemoryContext keep)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(keep);
}

/*
 * ExtractInWorker
 *		A batched extraction, in a background worker (run_workers.c) for the
 *		run whose backend is leader_pid: the staging table and its state are
 *		committed first, then each batch with the position it reached,
 *		past start (NULL: from the start), or past what is staged unless
 *		restart.  run_version is the model's version the run read.  Sets the
 *		staging table and the rows staged in all.  Leaves the last
 *		transaction open for the caller to commit.
 */
void
ExtractInWorker(const char *name, int run_version, int batch_size, const char *start, bool restart,
				pid_t leader_pid, Oid *stage_out, int64 *rows_out)
{
	MemoryContext keep = AllocSetContextCreate(TopMemoryContext, "medallion extraction",
											   ALLOCSET_DEFAULT_SIZES);
	ModelDef   *model;
	Oid			stage = InvalidOid;
	char	   *mark = NULL;
	char	   *last_key = NULL;
	int64		staged = 0;
	int64		total = 0;
	int			version = 0;

	MemoryContextSwitchTo(keep);
	model = CatalogGetModel(name, false);
	if (model->version != run_version)
		ereport(ERROR,
				(errcode(ERRCODE_MEDALLION_RUN_ITSELF),
				 errmsg("model \"%s\" was redefined during the run: the run builds it itself",
						model->name)));
	/* go on after what earlier attempts staged, or start over */
	if (CatalogGetExtract(model->name, &stage, &mark, &last_key, &staged, &version) &&
		(restart || get_rel_name(stage) == NULL || version != model->version))
	{
		ExtractDropStage(stage);
		CatalogClearExtract(model->name);
		stage = InvalidOid;
	}
	if (!OidIsValid(stage))
	{
		stage = ExtractCreateStage(model);
		mark = start ? pstrdup(start) : NULL;
		last_key = NULL;
		CatalogSetExtract(model->name, stage, mark, NULL, 0, model->version);
	}
	next_transaction(keep);

	for (;;)
	{
		AnalyzedModel *bound;
		char	   *sql = psprintf("SELECT * FROM %s", BindRelationSql(model->name));
		ModelScope	scope;
		int64		rows;

		/* the run is gone (killed, crashed): stop, what is staged stays */
		if (BackendPidGetProc(leader_pid) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("the run that started the extraction of model \"%s\" is gone", model->name)));
		ModelScopeEnter(&scope, ModelOwnerId(model), 0);
		bound = BindLoad(model);
		ModelScopeIsoDates();
		rows = ExtractBatch(model, bound, sql, stage, &mark, &last_key, batch_size);
		/* after the last batch of a whole extraction: the rows without a watermark */
		if (rows < batch_size && start == NULL)
			rows += ExtractUnmarked(model, bound, sql, stage);
		ModelScopeLeave(&scope);
		if (rows > 0)
			CatalogSetExtract(model->name, stage, mark, last_key, rows, model->version);
		total += rows;
		next_transaction(keep);
		if (rows < batch_size)
			break;
	}
	*stage_out = stage;
	*rows_out = staged + total;
}
