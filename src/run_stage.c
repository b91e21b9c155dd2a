/*-------------------------------------------------------------------------
 *
 * run_stage.c
 *	  Staged deploys: candidates built and tested under new definitions,
 *	  kept with the definitions pending (medallion_stage_build,
 *	  medallion_stage_keep), then published in one commit
 *	  (medallion_promote) or dropped (medallion_discard).
 *
 * A stage is made in one transaction:
 *
 *	  SAVEPOINT s;
 *	  -- the new definitions (medallion_create_model, medallion_add_test ...)
 *	  SELECT * FROM medallion_stage_build('tag:shop');
 *	  ROLLBACK TO SAVEPOINT s;
 *	  SELECT medallion_stage_keep();
 *
 * medallion_stage_build is a change-aware run that does not publish: its
 * table candidates are copied into tuplestores of the top transaction
 * (their temporary files belong to its resource owner), with what the
 * stage needs of the catalog as it is under the new definitions: the
 * selected models' rows and tests (the pending definitions), the build
 * state of what it built, the models they depend on.  The rollback to
 * the savepoint undoes the definitions and the candidates;
 * medallion_stage_keep makes each candidate again from its rows, beside
 * the published table it replaces (same columns, clones of its indexes),
 * in schema medallion_stage, readable by the model owner only, and
 * records the stage.  Nothing that readers or other runs read changed.
 *
 * medallion_promote applies the pending definitions as the caller (the
 * role that staged it, or one with its privileges), swaps each kept
 * candidate in as a run publishes (publish.c; a table whose columns the
 * build changed takes the candidate's first, and a candidate gets indexes
 * the definition changed), restores the build state recorded with it,
 * and runs the stage's selector change-aware: a model whose inputs
 * changed since it was staged (or that was not kept: new models,
 * incremental and snapshot models) is built then; the others are up to
 * date.  All of it in the caller's
 * transaction.  A definition that a stage depends on changing meanwhile
 * discards it (the trigger medallion.stage_follow on medallion.models).
 *
 * Incremental and snapshot models apply what they build to their
 * published table inside the run: a stage does not build them, the
 * promote does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "medallion.h"
#include "model.h"
#include "publish.h"
#include "relation.h"
#include "run.h"
#include "scope.h"
#include "sqltext.h"

PG_FUNCTION_INFO_V1(medallion_stage_keep);
PG_FUNCTION_INFO_V1(medallion_promote);
PG_FUNCTION_INFO_V1(medallion_discard);

/* A table candidate's rows, held across the rollback of its definitions. */
typedef struct HeldCandidate
{
	char	   *model;
	Oid			owner;			/* the model's owner */
	Oid			published;
	int64		rows;
	TupleDesc	desc;			/* the candidate's columns */
	Tuplestorestate *store;
} HeldCandidate;

/* What medallion_stage_build held, in TopTransactionContext. */
typedef struct HeldStage
{
	int64		run_id;
	char	   *selector;
	char	   *exclude;		/* or NULL */
	SubTransactionId definitions;	/* the subtransaction holding the new
									 * definitions (or, released, its parent) */
	bool		rolled_back;	/* ... was rolled back: they are pending */
	int			not_built;		/* steps that failed or were skipped */
	List	   *models;			/* names, every selected model */
	List	   *candidates;		/* HeldCandidate * */
	char	   *catalog;		/* jsonb: definitions, tests, builds, depends */
} HeldStage;

/* A row of medallion.stages, as promote and discard check it. */
typedef struct StageRow
{
	int64		id;
	char	   *state;
	char	   *created_by;
	char	   *selector;
	char	   *exclude;
	char	   *definitions;
	char	   *tests;
	char	   *reason;
} StageRow;

static HeldStage *held = NULL;
static bool callback_registered = false;

/*
 * release_held
 *		Close what is held (its temporary files) and forget it.
 */
static void
release_held(bool close)
{
	ListCell   *lc;

	if (held != NULL && close)
	{
		foreach(lc, held->candidates)
			tuplestore_end(((HeldCandidate *) lfirst(lc))->store);
	}
	held = NULL;
}

/*
 * stage_xact_callback
 *		What a transaction held and did not keep goes when it ends: before
 *		its commit the tuplestores are closed; an abort releases their
 *		files with the transaction's resource owner.
 */
static void
stage_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		event == XACT_EVENT_PRE_PREPARE)
		release_held(true);
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		release_held(false);
}

/*
 * stage_subxact_callback
 *		Follow the subtransaction the held stage's definitions were made in:
 *		rolled back, they are pending; released, they belong to its parent.
 */
static void
stage_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (held == NULL || held->rolled_back || mySubid != held->definitions)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		held->rolled_back = true;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		held->definitions = parentSubid;
}

/*
 * catalog_value
 *		The first column of the one row a catalog statement returns (a
 *		SELECT, or a write with RETURNING), as the extension owner, as a
 *		string palloc'd in the caller's context, or NULL.
 */
static char *
catalog_value(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	char	   *value = NULL;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	if (ret < 0 || SPI_tuptable == NULL)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		char	   *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (text != NULL)
			value = MemoryContextStrdup(callercxt, text);
	}
	CatalogLeave(&session);
	return value;
}

/*
 * What each model's binding refers to (models: a text[] expression): the
 * objects its rule depends on (relations and their columns, functions,
 * operators, types, collations), by OID, as {model: "class:object:sub,..."}.
 * The same at the promote as at the stage only when every name in the
 * models' SQL resolves to the same object.
 */
#define BINDINGS_SQL(models) \
"(SELECT COALESCE(pg_catalog.jsonb_object_agg(o.name, (" \
"   SELECT pg_catalog.string_agg(d.refclassid::pg_catalog.text || ':' || d.refobjid::pg_catalog.text" \
"          || ':' || d.refobjsubid::pg_catalog.text, ',' ORDER BY d.refclassid, d.refobjid, d.refobjsubid)" \
"     FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_depend d" \
"       ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid" \
"    WHERE r.ev_class = pg_catalog.to_regclass('" MEDALLION_BIND_SCHEMA ".' || pg_catalog.quote_ident(o.name))" \
"      AND r.rulename = '_RETURN'" \
"      AND NOT (d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = r.ev_class))), '{}')" \
"   FROM pg_catalog.unnest(" models ") AS o (name))"

/* The catalog as a stage keeps it, read under the new definitions. */
static const char *const capture_sql =
"WITH RECURSIVE up (name) AS ("
"  SELECT pg_catalog.unnest($1::pg_catalog.text[])"
"  UNION SELECT d.dep_name::pg_catalog.text COLLATE \"default\" FROM medallion.model_dependencies d JOIN up ON d.model = up.name"
"   WHERE d.kind = 'model')"
" SELECT pg_catalog.jsonb_build_object("
"  'definitions', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(m) ORDER BY o.n)"
"     FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS o (name, n)"
"     JOIN medallion.models m ON m.name = o.name),"
"  'tests', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) ORDER BY t.model, t.name), '[]'::pg_catalog.jsonb)"
"     FROM medallion.tests t WHERE t.model = ANY ($1::pg_catalog.text[])),"
"  'builds', (SELECT COALESCE(pg_catalog.jsonb_object_agg(b.model, pg_catalog.to_jsonb(b)), '{}'::pg_catalog.jsonb)"
"     FROM medallion.build_state b WHERE b.model = ANY ($2::pg_catalog.text[])),"
"  'depends', (SELECT pg_catalog.jsonb_agg(up.name ORDER BY up.name) FROM up),"
"  'bindings', " BINDINGS_SQL("$1::pg_catalog.text[]") ")::pg_catalog.text";

/*
 * StageHold
 *		At the end of medallion_stage_build's run, instead of publishing:
 *		hold the rows of every table candidate built, with its columns, and
 *		what the stage needs of the catalog, in TopTransactionContext.
 */
void
StageHold(Run *run)
{
	MemoryContext old;
	HeldStage  *stage;
	ListCell   *lc;
	Oid			argtypes[2] = {TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[2];
	CatalogSession session;
	int			ret;

	if (!callback_registered)
	{
		RegisterXactCallback(stage_xact_callback, NULL);
		RegisterSubXactCallback(stage_subxact_callback, NULL);
		callback_registered = true;
	}
	release_held(true);			/* a second stage in one transaction replaces it */

	old = MemoryContextSwitchTo(TopTransactionContext);
	stage = palloc0(sizeof(HeldStage));
	stage->run_id = run->run_id;
	stage->selector = pstrdup(run->selector);
	stage->exclude = run->exclude ? pstrdup(run->exclude) : NULL;
	stage->definitions = run->stage_subxact;
	foreach(lc, run->steps)
		stage->models = lappend(stage->models, pstrdup(((RunStep *) lfirst(lc))->model->name));
	MemoryContextSwitchTo(old);

	/* what an error leaves held is closed: only a whole stage is kept */
	PG_TRY();
	{
		foreach(lc, run->steps)
		{
			RunStep    *step = lfirst(lc);
			Candidate  *cand = step->candidate;
			HeldCandidate *h;
			Relation	rel;

			if (!STEP_BUILT(step->status))
			{
				stage->not_built++;
				continue;
			}
			if (cand == NULL || cand->delta || cand->kept)
				continue;
			h = MemoryContextAllocZero(TopTransactionContext, sizeof(HeldCandidate));
			h->model = MemoryContextStrdup(TopTransactionContext, step->model->name);
			h->owner = ModelOwnerId(step->model);
			h->published = cand->published;
			h->rows = cand->rows;
			rel = relation_open(cand->candidate, AccessShareLock);
			old = MemoryContextSwitchTo(TopTransactionContext);
			h->desc = CreateTupleDescCopy(RelationGetDescr(rel));
			MemoryContextSwitchTo(old);
			relation_close(rel, AccessShareLock);
			h->store = BuildHoldRows(cand->candidate, TopTransactionContext,
									 TopTransactionResourceOwner);
			old = MemoryContextSwitchTo(TopTransactionContext);
			stage->candidates = lappend(stage->candidates, h);
			MemoryContextSwitchTo(old);
			run->staged++;
		}

		values[0] = ListToTextArray(stage->models);
		{
			List	   *built = NIL;
			ListCell   *lh;

			foreach(lh, stage->candidates)
				built = lappend(built, ((HeldCandidate *) lfirst(lh))->model);
			values[1] = ListToTextArray(built);
		}
		CatalogEnter(&session);
		ret = CatalogQuery(capture_sql, 2, argtypes, values, NULL, 1);
		CatalogCheckSpi(ret, SPI_OK_SELECT, "read the definitions of a stage");
		stage->catalog = MemoryContextStrdup(TopTransactionContext,
											 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		CatalogLeave(&session);
	}
	PG_CATCH();
	{
		foreach(lc, stage->candidates)
			tuplestore_end(((HeldCandidate *) lfirst(lc))->store);
		PG_RE_THROW();
	}
	PG_END_TRY();
	held = stage;
}

/*
 * require_pending
 *		Error unless the definitions the held stage was built with were
 *		rolled back: the subtransaction they were made in was, and no row
 *		of a selected model was written by this transaction (one defined
 *		outside that savepoint would be committed with the stage).
 */
static void
require_pending(void)
{
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	CatalogSession session;
	int			ret;

	if (!held->rolled_back)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("the definitions medallion_stage_build ran with were not rolled back"),
				 errdetail("A stage keeps them pending: the savepoint made before them must be rolled back, not released or left open."),
				 errhint("ROLLBACK TO SAVEPOINT that savepoint, then call medallion_stage_keep().")));
	values[0] = ListToTextArray(held->models);
	CatalogEnter(&session);
	ret = CatalogQuery("SELECT name, xmin::pg_catalog.text FROM medallion.models WHERE name = ANY ($1)",
					   1, argtypes, values, NULL, 0);
	CatalogCheckSpi(ret, SPI_OK_SELECT, "read the models of a stage");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *xmin = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (TransactionIdIsCurrentTransactionId((TransactionId) strtoul(xmin, NULL, 10)))
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("model \"%s\" was defined in this transaction, outside the savepoint rolled back",
							SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)),
					 errdetail("A stage keeps its definitions pending: its transaction must not commit any of them."),
					 errhint("Stage in a transaction of its own: BEGIN; SAVEPOINT s; the definitions; medallion_stage_build; ROLLBACK TO SAVEPOINT s; medallion_stage_keep(); COMMIT.")));
	}
	CatalogLeave(&session);
}

/*
 * medallion_stage_keep() keeps what medallion_stage_build held in this
 * transaction, after its definitions were rolled back: records the stage
 * and makes its candidates in medallion_stage; returns the stage's ID.
 */
Datum
medallion_stage_keep(PG_FUNCTION_ARGS)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
	Datum		values[5];
	Oid			tabtypes[5] = {INT8OID, TEXTOID, OIDOID, OIDOID, INT8OID};
	Datum		tabvalues[5];
	int64		id;
	int			kept = 0;
	int64		rows = 0;
	ListCell   *lc;

	CatalogRequireAdmin("stage models");
	if (held == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no stage was built in this transaction"),
				 errhint("Call medallion_stage_build inside a savepoint first (docs/deploy.md, Staged deploys).")));
	require_pending();
	if (held->not_built > 0)
	{
		int			n = held->not_built;

		release_held(true);
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%d model%s of the stage did not build or pass their tests", n, n == 1 ? "" : "s"),
				 errdetail("A stage keeps only a run where every selected model built."),
				 errhint("See the rows medallion_stage_build returned.")));
	}

	values[0] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[1] = CStringGetTextDatum(held->selector);
	values[2] = Int64GetDatum(held->run_id);
	values[3] = CStringGetTextDatum(held->catalog);
	values[4] = held->exclude ? CStringGetTextDatum(held->exclude) : (Datum) 0;
	id = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(
		catalog_value("INSERT INTO medallion.stages (created_by, selector, exclude, run_id, definitions, tests, "
					  "builds, depends, bindings) "
					  "SELECT $1, $2, $5, $3, c -> 'definitions', c -> 'tests', c -> 'builds', "
					  "ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c -> 'depends')), c -> 'bindings' "
					  "FROM (SELECT $4::pg_catalog.jsonb AS c) x RETURNING stage_id::pg_catalog.text",
					  5, argtypes, values, held->exclude ? NULL : "    n"))));

	tabvalues[0] = Int64GetDatum(id);
	foreach(lc, held->candidates)
	{
		HeldCandidate *h = lfirst(lc);
		ModelDef   *model = CatalogGetModel(h->model, true);
		ModelScope	scope;
		Oid			relid;

		/*
		 * A model the new definitions add has no published table yet: its
		 * candidate is made new, recorded with no published table (the
		 * promote's definition makes it).
		 */
		if (model != NULL && RelPublished(model) != h->published)
			continue;
		ModelScopeEnter(&scope, h->owner, 0);
		relid = BuildStagedCandidate(model, h->owner, h->store, h->desc,
									 model ? psprintf("s" INT64_FORMAT "_%u", id, h->published) :
									 psprintf("s" INT64_FORMAT "_new%d", id, foreach_current_index(lc)));
		ModelScopeLeave(&scope);
		if (!OidIsValid(relid))
			continue;
		tabvalues[1] = CStringGetTextDatum(h->model);
		tabvalues[2] = ObjectIdGetDatum(relid);
		tabvalues[3] = ObjectIdGetDatum(model ? h->published : InvalidOid);
		tabvalues[4] = Int64GetDatum(h->rows);
		CatalogExecute("INSERT INTO medallion.stage_tables (stage_id, model, relid, published, rows) "
					   "VALUES ($1, $2, $3, $4, $5)", 5, tabtypes, tabvalues, NULL,
					   SPI_OK_INSERT, "record a staged candidate");
		kept++;
		rows += h->rows;
	}
	/* the build state of what it kept, and the oldest snapshot of those builds */
	CatalogExecute("UPDATE medallion.stages s SET builds = k.builds, snapshot_xmin = k.snapshot_xmin "
				   "FROM (SELECT COALESCE(pg_catalog.jsonb_object_agg(b.key, b.value), '{}'::pg_catalog.jsonb) AS builds, "
				   "  min(pg_catalog.pg_snapshot_xmin((b.value ->> 'snapshot')::pg_catalog.pg_snapshot)) AS snapshot_xmin "
				   "  FROM medallion.stages o, pg_catalog.jsonb_each(o.builds) b "
				   " WHERE o.stage_id = $1 AND b.key IN (SELECT t.model FROM medallion.stage_tables t WHERE t.stage_id = $1)) k "
				   "WHERE s.stage_id = $1", 1, tabtypes, tabvalues, NULL, SPI_OK_UPDATE,
				   "record the builds of a stage");
	release_held(true);
	ereport(NOTICE,
			(errmsg("stage " INT64_FORMAT ": %d candidate%s kept, %s rows", id, kept,
					kept == 1 ? "" : "s", RunFormatCount(rows)),
			 errhint("medallion_promote(" INT64_FORMAT ") publishes them, medallion_discard(" INT64_FORMAT ") drops them.",
					 id, id)));
	PG_RETURN_INT64(id);
}

/* A row of medallion.stages as a StageRow. */
static void *
stage_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	StageRow   *row = palloc0(sizeof(StageRow));

	row->id = *(int64 *) arg;
	row->state = CatalogText(tuple, desc, 1);
	row->created_by = CatalogText(tuple, desc, 2);
	row->selector = CatalogText(tuple, desc, 3);
	row->definitions = CatalogText(tuple, desc, 4);
	row->tests = CatalogText(tuple, desc, 5);
	row->reason = CatalogText(tuple, desc, 6);
	row->exclude = CatalogText(tuple, desc, 7);
	return row;
}

/*
 * stage_to_change
 *		The stage id, locked for the rest of the transaction, that what
 *		(promote, discard) may change: it exists, is staged and the caller
 *		has the privileges of the role that staged it.
 */
static StageRow *
stage_to_change(int64 id, const char *what)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	List	   *rows;
	StageRow   *row;

	rows = CatalogReadRows("SELECT state, created_by::pg_catalog.text, selector, definitions::pg_catalog.text, "
						   "tests::pg_catalog.text, reason, exclude FROM medallion.stages WHERE stage_id = $1 FOR UPDATE",
						   1, argtypes, values, "read a stage", stage_row, &id);
	if (rows == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stage " INT64_FORMAT " does not exist", id),
				 errhint("medallion.stages lists the stages.")));
	row = linitial(rows);
	if (strcmp(row->state, "staged") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("stage " INT64_FORMAT " was %s: it cannot be %s", id, row->state, what),
				 row->reason ? errdetail("%s.", row->reason) : 0,
				 errhint("Stage the project again (medallion deploy --stage).")));
	if (!has_privs_of_role(GetUserId(), get_role_oid(row->created_by, false)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("stage " INT64_FORMAT " was staged by role \"%s\": only roles with its privileges may have it %s",
						id, row->created_by, what)));
	return row;
}

/* What publish_staged reads of each staged candidate. */
typedef struct StagedTable
{
	char	   *model;
	Oid			relid;
	Oid			published;
	int64		rows;
} StagedTable;

static void *
staged_table(HeapTuple tuple, TupleDesc desc, void *arg)
{
	StagedTable *t = palloc0(sizeof(StagedTable));
	char	   *relid = CatalogText(tuple, desc, 2);
	char	   *published = CatalogText(tuple, desc, 3);
	char	   *rows = CatalogText(tuple, desc, 4);

	t->model = CatalogText(tuple, desc, 1);
	t->relid = (Oid) strtoul(relid, NULL, 10);
	t->published = (Oid) strtoul(published, NULL, 10);
	t->rows = strtoll(rows, NULL, 10);
	return t;
}

/*
 * publish_staged
 *		Swap in each candidate of stage id that still fits its model's
 *		published table (the definitions applied kept its columns; indexes
 *		that changed are made again on it), and restore the build state it
 *		was staged with; those that do not fit are dropped (the run builds
 *		their models).  Returns the names of the models published.
 */
static List *
publish_staged(int64 id)
{
	Oid			argtypes[2] = {INT8OID, TEXTARRAYOID};
	Datum		values[2] = {Int64GetDatum(id), 0};
	List	   *staged;
	List	   *fits = NIL;
	List	   *locks = NIL;
	List	   *published = NIL;
	ListCell   *lc;

	staged = CatalogReadRows("SELECT model, relid::pg_catalog.text, published::pg_catalog.text, rows::pg_catalog.text "
							 "FROM medallion.stage_tables WHERE stage_id = $1 ORDER BY model",
							 1, argtypes, values, "read the candidates of a stage", staged_table, NULL);
	foreach(lc, staged)
	{
		StagedTable *t = lfirst(lc);
		ModelDef   *model = CatalogGetModel(t->model, true);
		bool		fit = false;

		/* a model the stage added: the table its definition just made */
		if (model != NULL && !OidIsValid(t->published) &&
			get_rel_relkind(RelPublished(model)) == RELKIND_RELATION)
			t->published = RelPublished(model);
		if (model != NULL && OidIsValid(t->published) && RelPublished(model) == t->published &&
			get_rel_namespace(t->relid) == get_namespace_oid(MEDALLION_STAGE_SCHEMA, false))
		{
			Relation	pubrel = table_open(t->published, AccessShareLock);
			Relation	rel = table_open(t->relid, AccessShareLock);
			bool		same_indexes;

			fit = RelSameColumns(pubrel, rel);
			if (!fit)
			{
				/*
				 * Its build changed the columns (the published table kept
				 * its own, having rows): the table takes the candidate's
				 * now, as the build altered it, its readers bound again.
				 */
				TupleDesc	desc = CreateTupleDescCopy(RelationGetDescr(rel));
				ModelScope	scope;
				List	   *unbound;

				table_close(rel, NoLock);
				table_close(pubrel, NoLock);
				RelLockPatiently(list_make1_oid(t->published));
				ModelScopeEnter(&scope, ModelOwnerId(model), 0);
				unbound = BuildAlterLike(t->published, desc, model);
				BuildEnsureIndexes(model, t->published);
				ModelScopeLeave(&scope);
				if (unbound != NIL)
					ModelRebindReaders(unbound, model->name);
				pubrel = table_open(t->published, AccessShareLock);
				rel = table_open(t->relid, AccessShareLock);
				fit = RelSameColumns(pubrel, rel);
			}
			same_indexes = RelSameIndexes(RelationGetIndexList(pubrel), RelationGetIndexList(rel));
			table_close(rel, NoLock);
			table_close(pubrel, NoLock);
			/* its indexes changed: the candidate gets the new ones, its rows stay */
			if (fit && !same_indexes)
			{
				ModelScope	scope;

				ModelScopeEnter(&scope, ModelOwnerId(model), 0);
				BuildMatchIndexes(t->published, t->relid);
				ModelScopeLeave(&scope);
			}
		}
		if (fit)
		{
			fits = lappend(fits, t);
			locks = lappend_oid(locks, t->published);
		}
		else if (get_rel_namespace(t->relid) == get_namespace_oid(MEDALLION_STAGE_SCHEMA, false))
			BindDropRelation(t->relid);
	}
	if (locks != NIL)
		RelLockPatiently(locks);
	foreach(lc, fits)
	{
		StagedTable *t = lfirst(lc);
		ModelDef   *model = CatalogGetModel(t->model, false);
		Candidate  *cand = BuildAdoptCandidate(model, NIL, t->relid, t->rows);
		ModelScope	scope;

		ModelScopeEnter(&scope, ModelOwnerId(model), 0);
		PublishTable(cand);
		ModelScopeLeave(&scope);
		published = lappend(published, t->model);
	}
	values[1] = ListToTextArray(published);
	CatalogExecute("INSERT INTO medallion.build_state (model, run_id, version, snapshot, inputs, built_at) "
				   "SELECT b.key, (b.value ->> 'run_id')::pg_catalog.int8, m.version, "
				   "(b.value ->> 'snapshot')::pg_catalog.pg_snapshot, b.value -> 'inputs', "
				   "(b.value ->> 'built_at')::pg_catalog.timestamptz "
				   "FROM medallion.stages s, pg_catalog.jsonb_each(s.builds) b "
				   "JOIN medallion.models m ON m.name = b.key "
				   "WHERE s.stage_id = $1 AND b.key = ANY ($2) "
				   "ON CONFLICT (model) DO UPDATE SET run_id = excluded.run_id, version = excluded.version, "
				   "snapshot = excluded.snapshot, inputs = excluded.inputs, built_at = excluded.built_at, changed = NULL",
				   2, argtypes, values, NULL, SPI_OK_INSERT, "restore the build state of a stage");
	CatalogExecute("DELETE FROM medallion.stage_tables WHERE stage_id = $1", 1, argtypes, values, NULL,
				   SPI_OK_DELETE, "forget the candidates of a stage");
	return published;
}

/*
 * medallion_promote(stage_id) publishes a stage in the caller's
 * transaction: its pending definitions applied, its candidates swapped
 * in, then what changed since it was staged built by a change-aware run
 * of its selector; returns what it did.
 */
Datum
medallion_promote(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	StageRow   *row;
	Datum		values[2];
	char	   *schema;
	char	   *outcome;
	char	   *state;
	char	   *rebound;
	List	   *published;
	int			failed;
	int			built;
	Oid			argtypes[1] = {INT8OID};
	Datum		idvalue[1] = {Int64GetDatum(id)};
	List	   *names = NIL;
	ListCell   *lc;

	CatalogRequireAdmin("promote stages");
	row = stage_to_change(id, "promoted");

	/*
	 * The run locks of its models first, in name order as a run takes
	 * them: a run building one of them finishes before its candidate is
	 * swapped in, and waits for the promote after.
	 */
	foreach(lc, CatalogReadRows("SELECT d ->> 'name' FROM medallion.stages s, "
								"pg_catalog.jsonb_array_elements(s.definitions) d WHERE s.stage_id = $1",
								1, argtypes, idvalue, "read the models of a stage", CatalogRowTexts, NULL))
		names = lappend(names, ((char **) lfirst(lc))[0]);
	list_sort(names, SqlCompareNames);
	foreach(lc, names)
		(void) CatalogLockModel(lfirst(lc), true);

	/* the definitions, as the caller: what it could do by hand */
	values[0] = CStringGetTextDatum(row->definitions);
	values[1] = CStringGetTextDatum(row->tests);
	(void) SqlValue("SELECT medallion.stage_apply($1::pg_catalog.jsonb, $2::pg_catalog.jsonb)",
					2, values, NULL);
	/*
	 * The tests are the ones it was staged with (a change-aware run
	 * compares a digest of their rows): their definition time too.
	 */
	CatalogExecute("UPDATE medallion.tests t SET created_at = (p ->> 'created_at')::pg_catalog.timestamptz "
				   "FROM medallion.stages s, pg_catalog.jsonb_array_elements(s.tests) p "
				   "WHERE s.stage_id = $1 AND t.model = p ->> 'model' AND t.name = p ->> 'name'",
				   1, argtypes, idvalue, NULL, SPI_OK_UPDATE, "keep the tests of a stage");
	state = catalog_value("SELECT state FROM medallion.stages WHERE stage_id = $1", 1, argtypes, idvalue, NULL);
	if (strcmp(state, "staged") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("stage " INT64_FORMAT " cannot be promoted: a definition it depends on is not the one it was staged with",
						id),
				 errdetail("%s.", catalog_value("SELECT reason FROM medallion.stages WHERE stage_id = $1",
												  1, argtypes, idvalue, NULL)),
				 errhint("Discard it (medallion_discard) and stage the project again.")));

	/*
	 * The definitions bound as they were staged: a name that now resolves
	 * to another object (a table made meanwhile in a schema its
	 * search_path names first, one dropped or renamed) would publish rows
	 * that are not the query's.
	 */
	rebound = catalog_value("SELECT pg_catalog.string_agg(k.key, ', ' ORDER BY k.key) "
							"FROM medallion.stages s CROSS JOIN LATERAL pg_catalog.jsonb_each_text(s.bindings) k "
							"WHERE s.stage_id = $1 AND (" BINDINGS_SQL("ARRAY[k.key]") " ->> k.key) IS DISTINCT FROM k.value",
							1, argtypes, idvalue, NULL);
	if (rebound != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("stage " INT64_FORMAT " cannot be promoted: %s bind%s otherwise than when it was staged",
						id, rebound, strchr(rebound, ',') ? "" : "s"),
				 errdetail("A name in their SQL now resolves to another object (made, dropped or renamed since): the staged rows are not their query's."),
				 errhint("Discard it (medallion_discard) and stage the project again.")));

	published = publish_staged(id);

	/* what changed since it was staged, and what it could not keep */
	schema = catalog_value("SELECT e.extnamespace::pg_catalog.regnamespace::pg_catalog.text "
						   "FROM pg_catalog.pg_extension e WHERE e.extname = 'medallion'", 0, NULL, NULL, NULL);
	values[0] = CStringGetTextDatum(row->selector);
	values[1] = row->exclude ? CStringGetTextDatum(row->exclude) : (Datum) 0;
	outcome = SqlValue(psprintf("SELECT pg_catalog.format('%%s %%s', "
								"count(*) FILTER (WHERE status NOT IN ('success', 'up_to_date')), "
								"count(*) FILTER (WHERE status = 'success')) "
								"FROM %s.medallion_run($1, changed_only => true, exclude => $2)",
								schema), 2, values, row->exclude ? NULL : " n");
	if (sscanf(outcome, "%d %d", &failed, &built) != 2)
		elog(ERROR, "unexpected outcome of the promote's run: %s", outcome);
	if (failed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("stage " INT64_FORMAT " was not promoted: %d model%s changed since it was staged did not build",
						id, failed, failed == 1 ? "" : "s"),
				 errdetail("Nothing was published; the stage is kept."),
				 errhint("See medallion.run_models for the last run.")));

	CatalogExecute("UPDATE medallion.stages SET state = 'promoted', finished_at = pg_catalog.now() "
				   "WHERE stage_id = $1", 1, argtypes, idvalue, NULL, SPI_OK_UPDATE,
				   "record a promoted stage");
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("stage " INT64_FORMAT " promoted: %d published as staged, %d built again",
											  id, list_length(published), built)));
}

/*
 * medallion_discard(stage_id) drops a stage's candidates and marks it
 * discarded; returns what it did.
 */
Datum
medallion_discard(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char	   *dropped;

	CatalogRequireAdmin("discard stages");
	(void) stage_to_change(id, "discarded");
	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(psprintf("discarded by role %s",
											 GetUserNameFromId(GetUserId(), false)));
	dropped = catalog_value("SELECT medallion.stage_discard($1, $2)::pg_catalog.text", 2, argtypes, values, NULL);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("stage " INT64_FORMAT " discarded: %s candidate%s dropped",
											  id, dropped, strcmp(dropped, "1") == 0 ? "" : "s")));
}
