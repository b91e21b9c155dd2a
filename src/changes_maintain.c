/*-------------------------------------------------------------------------
 *
 * changes_maintain.c
 *	  Maintained table models (issue 31): a change-aware run brings a
 *	  table model whose query is in a maintained class
 *	  (analyze_maintain.c) up to date from the row deltas of the tables it
 *	  reads, recomputing only the keys those deltas touch; and the
 *	  lifecycle of the delta logs: made for the tables maintained models
 *	  read, dropped when none does, trimmed of what no build needs.
 *
 * A key is a group (GROUP BY over one table) or a key of the driving
 * table (joins keyed by a table): every output row belongs to one key.
 * The maintained build, as the model owner, in the step's subtransaction:
 *
 *	1. The delta of each table read since the stored snapshot S1 of the
 *	   model's last build is copied out of its log (as the extension
 *	   owner: the log is not the owner's to read) into a table shaped like
 *	   it, column for column at the same positions; the first copy is the
 *	   build's first read, so its snapshot Sd is the one stored for the
 *	   next build.  They are trusted only when the state of capture
 *	   (ChangesDeltaState of each table: the log, the table's storage, the
 *	   triggers) is the one the last build stored: a TRUNCATE, a rewrite,
 *	   a trigger dropped or a log made again since means some writes are
 *	   not in it, and the model is rebuilt whole.
 *	2. The affected keys K: the model's bound query with its read of the
 *	   changed table pointed at that table's delta copy, its output cut to
 *	   the key columns and its grouping, aggregates and HAVING removed.
 *	   Old and new images both count: a row that left a key and one that
 *	   joined another give both.  The WHERE clause and the joins apply:
 *	   through the other tables, as they are now, a change maps to the
 *	   driving keys it touches.  That needs the other tables as they were
 *	   too, so when more than one table changed the model is rebuilt whole.
 *	3. The choice (ChangesMaintainWeigh, changes_apply.c): the estimated
 *	   cost of maintaining against the last full build's measured one,
 *	   with change-ratio guards as a backstop, and alone when there is
 *	   nothing to weigh.
 *	4. The apply, in place (ChangesMaintainApply, changes_apply.c): the
 *	   rows of the keys of K deleted from the published table, the
 *	   model's rows for them inserted, in the step's subtransaction.
 *	The published table is then tested where it is; a failing test rolls
 *	the step back.
 *
 * Why it equals a rebuild: every row of the published table belongs to
 * one key, and was computed from the rows carrying that key at some
 * snapshot that sees at least what S1 sees.  A key none of the
 * transactions S1 does not see and Sd sees touched has the same rows
 * under Sd; every other key is in K and recomputed under a snapshot at
 * least as new as Sd.  A transaction Sd does not see (open during the
 * build, prepared, committed later) is in the next build's delta,
 * whatever the recompute saw of it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parsetree.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "relation.h"
#include "scope.h"
#include "sqltext.h"

/*
 * The change-ratio guards: above this share of its driving table's rows
 * in its delta, or of its own rows in the keys to recompute, a model is
 * rebuilt whole.  The backstop holds whatever the estimate says (it can
 * be wrong, and then a maintained build of half the table is slower than
 * a rebuild); the guard alone decides when there is nothing to weigh
 * (ChangesMaintainWeigh: no full build measured, or one too short).
 */
#define MAINTAIN_BACKSTOP_SHARE		0.5
#define MAINTAIN_GUARD_SHARE		0.2

/*
 * ChangesMaintainPlan
 *		Whether model, whose bound query is query, can be maintained: NULL
 *		with *plan filled, or why not.  The plan is read off query with the
 *		views it reads flattened (plan->query): its tables are those under
 *		the views.
 */
const char *
ChangesMaintainPlan(ModelDef *model, Query *query, MaintainPlan *plan)
{
	List	   *views;
	const char *why;
	Query	   *flat;

	memset(plan, 0, sizeof(MaintainPlan));
	if (model->kind != MAT_TABLE)
		return "it is not a table model";
	if (model->maintain == MAINTAIN_FULL)
		return "maintain => 'full'";
	/* the views it reads followed down to their tables (analyze_flatten.c) */
	flat = AnalyzeFlattenViews(query, ModelOwnerId(model), &views, &why);
	if (flat == NULL)
		return why;
	why = MaintainClassify(flat, plan);
	plan->query = flat;
	plan->views = views;
	return why;
}

/*
 * ChangesMaintainReadsModel
 *		Why a model reading relid is not maintained when relid is the table
 *		of a model (rebuilt whole by its runs: its rows are not captured),
 *		or NULL.
 */
const char *
ChangesMaintainReadsModel(Oid relid)
{
	ListCell   *lc;

	foreach(lc, CatalogListModels())
	{
		ModelDef   *upstream = lfirst(lc);

		if (upstream->kind != MAT_VIEW && upstream->kind != MAT_EPHEMERAL &&
			RelPublished(upstream) == relid)
			return psprintf("reads the table of model %s, whose builds are not captured", upstream->name);
	}
	return NULL;
}

/*
 * ChangesMaintainUncaptured
 *		Why the tables of plan cannot be captured for it (a model's table,
 *		a table its owner does not track), or, with logs, are not (no log
 *		made); NULL when they can (are).
 */
const char *
ChangesMaintainUncaptured(MaintainPlan *plan, bool logs)
{
	ListCell   *lc;

	foreach(lc, plan->tables)
	{
		MaintainTable *table = lfirst(lc);
		const char *why = ChangesMaintainReadsModel(table->relid);
		const char *column;

		if (why != NULL)
			return why;
		if (!ChangesHasTracking(table->relid))
			return psprintf("its input %s is not tracked (its owner tracks it with medallion_track)",
							SqlRelationName(table->relid));
		why = ChangesDeltaColumnsWhy(table->relid, table->columns);
		if (why != NULL)
			return why;
		if (logs && !OidIsValid(ChangesDeltaLog(table->relid)))
			return psprintf("the deltas of %s are not captured (define the model again)",
							SqlRelationName(table->relid));
		/* a view redefined since the capture may read more of the table */
		if (logs && (column = ChangesDeltaUncaptured(table->relid, table->columns)) != NULL)
			return psprintf("the deltas of %s do not capture its column %s (define the model again)",
							SqlRelationName(table->relid), quote_identifier(column));
	}
	return NULL;
}

/*
 * ChangesCaptureMaintained
 *		When model (just defined, its inputs tracked) can be maintained,
 *		capture the deltas of the table it reads: only when its owner
 *		tracks it (ChangesTrackInputs tracked the tables the owner owns).
 *		maintain => 'incremental' fails when it cannot be maintained.
 */
void
ChangesCaptureMaintained(ModelDef *model, Query *query)
{
	MaintainPlan plan;
	const char *why = ChangesMaintainPlan(model, query, &plan);
	CatalogSession session;
	ListCell   *lc;

	if (why == NULL)
		why = ChangesMaintainUncaptured(&plan, false);
	if (why != NULL)
	{
		if (model->maintain == MAINTAIN_INCREMENTAL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("model \"%s\" cannot be maintained incrementally", model->name),
					 errdetail("Its query %s.", why),
					 errhint("Define it with maintain => 'auto' to rebuild it whole, or write its query in a maintained class (docs/incremental-maintenance.md).")));
		return;
	}
	CatalogEnter(&session);
	foreach(lc, plan.tables)
	{
		MaintainTable *table = lfirst(lc);

		ChangesCaptureDeltas(table->relid, table->columns);
	}
	CatalogLeave(&session);
}

/*
 * ChangesCaptureReaders
 *		When model, just defined, is a view or ephemeral model, capture the
 *		deltas of the tables each maintained model reading it (through
 *		views, maintain not 'full') now reads under it, as defining that
 *		model would: a view redefined may read other tables or columns.
 *		Those it cannot capture (not tracked) leave the reader rebuilt
 *		whole, and saying why.
 */
void
ChangesCaptureReaders(ModelDef *model)
{
	Oid			relid;
	CatalogSession session;
	ListCell   *lc;

	if (model->kind != MAT_VIEW && model->kind != MAT_EPHEMERAL)
		return;
	relid = model->kind == MAT_VIEW ? RelPublished(model) : RelBinding(model->name);
	if (!OidIsValid(relid))
		return;
	foreach(lc, CatalogListModels())
	{
		ModelDef   *reader = lfirst(lc);
		MaintainPlan plan;
		ListCell   *lt;

		if (reader->kind != MAT_TABLE || reader->maintain == MAINTAIN_FULL ||
			!OidIsValid(RelBinding(reader->name)))
			continue;
		if (ChangesMaintainPlan(reader, BindLoad(reader)->query, &plan) != NULL ||
			!list_member_oid(plan.views, relid) || ChangesMaintainUncaptured(&plan, false) != NULL)
			continue;
		CatalogEnter(&session);
		foreach(lt, plan.tables)
		{
			MaintainTable *table = lfirst(lt);

			ChangesCaptureDeltas(table->relid, table->columns);
		}
		CatalogLeave(&session);
	}
}

/*
 * The state of the delta capture of every table of plan, with the digest
 * of every view it follows, or NULL when a table is not captured.
 */
static char *
tables_state(MaintainPlan *plan)
{
	StringInfoData state;
	ListCell   *lc;

	initStringInfo(&state);
	foreach(lc, plan->tables)
	{
		char	   *one = ChangesDeltaState(((MaintainTable *) lfirst(lc))->relid);

		if (one == NULL)
			return NULL;
		appendStringInfo(&state, "%s%s", state.len > 0 ? " | " : "", one);
	}
	/* and the definition of each view followed: one redefined, and the plan changes */
	foreach(lc, plan->views)
		appendStringInfo(&state, " | %s", AnalyzeViewDigest(lfirst_oid(lc)));
	return state.data;
}

/*
 * views_redefined
 *		Why the keys of plan cannot be taken from the state deltas of the
 *		last build: the views it follows that were redefined since (their
 *		digests are not in it), or NULL when none was (or there is no
 *		state to compare with).
 */
static const char *
views_redefined(MaintainPlan *plan, const char *deltas)
{
	StringInfoData names;
	int			n = 0;
	ListCell   *lc;

	if (deltas == NULL)
		return NULL;			/* not maintained last time: nothing to compare */
	initStringInfo(&names);
	foreach(lc, plan->views)
	{
		if (strstr(deltas, AnalyzeViewDigest(lfirst_oid(lc))) == NULL)
			appendStringInfo(&names, "%s%s", n++ > 0 ? ", " : "", SqlRelationName(lfirst_oid(lc)));
	}
	if (n == 0)
		return NULL;
	return psprintf("the view%s %s %s redefined since its last build",
					n > 1 ? "s" : "", names.data, n > 1 ? "were" : "was");
}

/*
 * ChangesMaintainState
 *		The state of the delta capture of the table model reads (its build
 *		starts now), or NULL when it is not maintained or not captured.
 */
char *
ChangesMaintainState(ModelDef *model, Query *query)
{
	MaintainPlan plan;

	if (ChangesMaintainPlan(model, query, &plan) != NULL)
		return NULL;
	return tables_state(&plan);
}

/* The last build's snapshot and capture state of model, this version; false when none. */
static bool
stored_state(ModelDef *model, char **snapshot, char **deltas)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(model->name), Int32GetDatum(model->version)};
	int			ret;
	bool		found = false;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT snapshot::text, deltas FROM medallion.build_state "
								"WHERE model = $1 AND version = $2",
								2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the build state of model \"%s\": %s", model->name,
			 SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		char	   *s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *d = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		found = true;
		*snapshot = s ? MemoryContextStrdup(callercxt, s) : NULL;
		*deltas = d ? MemoryContextStrdup(callercxt, d) : NULL;
	}
	CatalogLeave(&session);
	return found;
}

/*
 * delta_copy_columns
 *		The column definitions of a table shaped like relid, column for
 *		column at the same positions (a dropped column as an int4 of its
 *		own name), for D.
 */
static char *
delta_copy_columns(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData cols;

	initStringInfo(&cols);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i > 0)
			appendStringInfoString(&cols, ", ");
		if (att->attisdropped)
			appendStringInfo(&cols, "\"medallion_dropped_%d\" pg_catalog.int4", i + 1);
		else
		{
			appendStringInfo(&cols, "%s %s", quote_identifier(NameStr(att->attname)),
							 format_type_extended(att->atttypid, att->atttypmod,
												  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
			if (OidIsValid(att->attcollation) && att->attcollation != get_typcollation(att->atttypid))
				appendStringInfo(&cols, " COLLATE %s", generate_collation_name(att->attcollation));
		}
	}
	table_close(rel, AccessShareLock);
	return cols.data;
}

/* n with thousands separators, "1,260" (palloc'd). */
static char *
format_count(int64 n)
{
	char		digits[32];
	StringInfoData buf;
	int			len;

	snprintf(digits, sizeof(digits), INT64_FORMAT, n);
	len = strlen(digits);
	initStringInfo(&buf);
	for (int i = 0; i < len; i++)
	{
		if (i > 0 && digits[i - 1] != '-' && (len - i) % 3 == 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoChar(&buf, digits[i]);
	}
	return buf.data;
}

/* A count, of sql's one row and column (run as the current user). */
static int64
count_of(const char *sql)
{
	BindRows	rows = {0};
	char	  **row;

	(void) BindExecute(sql, 0, NULL, NULL, NULL, NIL, NIL, BindRowsReceiver(&rows, 1, CurrentMemoryContext));
	row = linitial(rows.rows);
	return row[0] ? strtoll(row[0], NULL, 10) : 0;
}

/* The JoinExpr of range table index rtindex in the join tree node, or NULL. */
static JoinExpr *
find_join(Node *node, Index rtindex)
{
	ListCell   *lc;
	JoinExpr   *found = NULL;

	check_stack_depth();
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		if (join->rtindex == rtindex)
			return join;
		found = find_join(join->larg, rtindex);
		return found != NULL ? found : find_join(join->rarg, rtindex);
	}
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
		{
			found = find_join(lfirst(lc), rtindex);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

/*
 * keys_query
 *		The query of the affected keys: the model's bound query with the
 *		views it reads flattened (plan->query; UNION ALL: the branch that
 *		reads table) reading d for table, its output the
 *		key columns (named as the model's), with no grouping, aggregates,
 *		HAVING, DISTINCT, window nor order.
 *
 *		A table on the right of a LEFT JOIN (joins keyed by a driving
 *		table, the driving table on the left): the driving rows whose
 *		matches changed are those the old or new images match through the
 *		join's condition, whatever WHERE says of the columns it adds (a row
 *		that lost its only match comes out NULL-extended, which WHERE may
 *		now keep); so that join is made inner and WHERE dropped, which
 *		gives the driving rows matching a changed row, a superset of the
 *		affected keys.  The joins after it are LEFT JOINs too
 *		(analyze_maintain.c): they keep every row.
 */
static Query *
keys_query(Query *bound, MaintainPlan *plan, MaintainTable *table, Oid d)
{
	Query	   *q;
	RangeTblEntry *rte;
	List	   *tlist = NIL;
	ListCell   *lc;

	/* UNION ALL: the keys of the branch that reads the table */
	if (table->branch != 0)
		bound = rt_fetch(table->branch, bound->rtable)->subquery;
	q = copyObject(bound);
	rte = rt_fetch(table->rtindex, q->rtable);
	foreach(lc, plan->key_resnos)
	{
		TargetEntry *tle = list_nth(q->targetList, lfirst_int(lc) - 1);

		tlist = lappend(tlist, makeTargetEntry(copyObject(tle->expr), list_length(tlist) + 1,
											   pstrdup(list_nth(plan->keys, foreach_current_index(lc))),
											   false));
	}
	q->targetList = tlist;
	q->groupClause = NIL;
	q->groupDistinct = false;
	q->havingQual = NULL;
	q->hasAggs = false;
	q->distinctClause = NIL;
	q->windowClause = NIL;
	q->hasWindowFuncs = false;
	q->sortClause = NIL;
	rte->relid = d;
	rte->relkind = RELKIND_RELATION;
	rte->inh = false;
	if (table->outer_join != 0)
	{
		JoinExpr   *join = find_join((Node *) q->jointree, table->outer_join);

		if (join == NULL)
			elog(ERROR, "could not find the LEFT JOIN of range table entry %u", table->outer_join);
		join->jointype = JOIN_INNER;
		rt_fetch(table->outer_join, q->rtable)->jointype = JOIN_INNER;
		q->jointree->quals = NULL;
	}
	return q;
}

/* Drop a work table of the build (D or K), made in this subtransaction. */
static void
drop_work_table(Oid relid)
{
	if (OidIsValid(relid) && get_rel_name(relid) != NULL)
		BindDropRelation(relid);
}

/* pg_class.reltuples of relid (-1: never counted). */
static float4
rel_tuples(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	float4		reltuples = -1;

	if (HeapTupleIsValid(tup))
	{
		reltuples = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return reltuples;
}

/*
 * key_patterns
 *		The patterns of NULL key columns among the keys of table k ('0' or
 *		'1' per column, 1 = NULL), with the number of distinct keys of each,
 *		into *patterns; returns the number of distinct keys.
 */
static int64
key_patterns(Oid k, List *names, BindRows *patterns)
{
	StringInfoData pat;
	ListCell   *lc;
	int64		nkeys = 0;

	initStringInfo(&pat);
	foreach(lc, names)
		appendStringInfo(&pat, "%sCASE WHEN k.%s IS NULL THEN '1' ELSE '0' END",
						 pat.len > 0 ? " OPERATOR(pg_catalog.||) " : "", quote_identifier(lfirst(lc)));
	(void) BindExecute(psprintf("SELECT k.medallion_pattern, pg_catalog.count(*) FROM (SELECT DISTINCT %s, %s AS medallion_pattern "
								"FROM %s k) k GROUP BY k.medallion_pattern",
								SqlEachColumn(SqlNameList(names), "k.", false), pat.data, SqlRelationName(k)),
					   0, NULL, NULL, NULL, NIL, NIL, BindRowsReceiver(patterns, PG_UINT64_MAX, CurrentMemoryContext));
	foreach(lc, patterns->rows)
		nkeys += strtoll(((char **) lfirst(lc))[1], NULL, 10);
	return nkeys;
}

/* Why a model is rebuilt whole: an error for maintain => 'incremental'. */
static Candidate *
rebuild_whole(ModelDef *model, const char *why, bool allowed)
{
	Candidate  *cand;

	if (model->maintain == MAINTAIN_INCREMENTAL && !allowed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" cannot be maintained incrementally now", model->name),
				 errdetail("It would be rebuilt whole: %s.", why),
				 errhint("Run it with full_refresh => true to rebuild it, or define it with maintain => 'auto'.")));
	cand = palloc0(sizeof(Candidate));
	cand->method = psprintf("full: %s", why);
	return cand;
}

/* "N delta rows of t, over P% of its M rows" */
static char *
share_why(int64 ndelta, Oid relid, double share, float4 reltuples)
{
	return psprintf("%s delta rows of %s, over %d%% of its %.0f rows", format_count(ndelta),
					SqlRelationName(relid), (int) (share * 100), reltuples);
}

/* "N delta rows of t touch K groups, over P% of its M rows" */
static char *
keys_why(MaintainPlan *plan, int64 ndelta, Oid relid, int64 nkeys, double share, double rows)
{
	return psprintf("%s delta rows of %s touch %s %s, over %d%% of its %.0f rows",
					format_count(ndelta), SqlRelationName(relid), format_count(nkeys),
					plan->grouped ? (nkeys == 1 ? "group" : "groups") :
					psprintf("key%s of %s", nkeys == 1 ? "" : "s", SqlRelationName(plan->driving)),
					(int) (share * 100), rows);
}

/* A count of rows that may be an estimate: "1,260", "1.2M". */
static char *
format_rows(double rows)
{
	if (rows >= 1e6)
		return psprintf("%.1fM", rows / 1e6);
	return format_count((int64) rint(rows));
}

/*
 * ChangesMaintainCandidate
 *		Bring a table model maintained from its input's deltas up to date
 *		(see the file header), in place (changes_apply.c): a Candidate with
 *		in_place set, no candidate heap, its method and the capture state
 *		it read with; or a Candidate with only method ("full: why") when
 *		the model must be rebuilt whole; or NULL when the model is not
 *		maintained at all (not in the class, maintain => 'full').
 *		change_aware: a change-aware run (not forced, nor a full refresh),
 *		the only kind that maintains.  Runs as the model owner, in the
 *		step's subtransaction.
 */
Candidate *
ChangesMaintainCandidate(ModelDef *model, AnalyzedModel *bound, List *redirect_from,
						 List *redirect_to, bool change_aware)
{
	MaintainPlan plan;
	char	   *snapshot = NULL;
	char	   *deltas = NULL;
	char	   *now;
	Oid			owner = ModelOwnerId(model);
	Oid			published;
	double		table_rows;
	char	   *base;
	List	   *copies = NIL;	/* D of each table, in plan order */
	List	   *changed = NIL;	/* the tables whose delta has rows */
	MaintainTable *source = NULL;	/* the one changed table */
	Oid			source_copy = InvalidOid;
	int64		ndelta = 0;
	Oid			k = InvalidOid;
	AnalyzedModel keys = {0};
	BindRows	patterns = {0};
	List	   *pattern_list = NIL;
	MaintainCost cost = {-1, -1, false};
	Candidate  *cand = NULL;
	const char *why = NULL;
	int64		nkeys = 0;
	int64		deleted = 0;
	int64		inserted = 0;
	char	   *estimate = "";
	ListCell   *lc;

	/* out of the class: 'incremental' was in it when defined, a view it reads changed since */
	why = ChangesMaintainPlan(model, bound->query, &plan);
	if (why != NULL)
		return model->maintain == MAINTAIN_INCREMENTAL && change_aware ? rebuild_whole(model, why, false) : NULL;
	/* not captured (a model's table, an untracked table): a table model as any other */
	why = ChangesMaintainUncaptured(&plan, true);
	if (why != NULL)
		return model->maintain == MAINTAIN_INCREMENTAL ? rebuild_whole(model, why, false) : NULL;
	if (!change_aware)
	{
		/* rebuilt whole as asked: no message, the capture state recorded */
		cand = rebuild_whole(model, "a forced run or a full refresh", true);
		cand->method = NULL;
		return cand;
	}
	foreach(lc, plan.tables)
	{
		MaintainTable *table = lfirst(lc);

		if (list_member_oid(redirect_from, table->relid))
			return rebuild_whole(model, psprintf("its input %s was rebuilt by this run",
												 SqlRelationName(table->relid)), false);
	}
	if (!stored_state(model, &snapshot, &deltas) || snapshot == NULL)
		return rebuild_whole(model, "no build of this version to start from", true);
	now = tables_state(&plan);
	if (now == NULL)
		return rebuild_whole(model, "the deltas of its tables are not captured", false);
	if (deltas == NULL || strcmp(deltas, now) != 0)
	{
		why = views_redefined(&plan, deltas);
		if (why != NULL)
			return rebuild_whole(model, why, true);
		return rebuild_whole(model, psprintf("%s truncated, rewritten or captured anew since its last build",
											 list_length(plan.tables) == 1 ?
											 psprintf("%s was", SqlRelationName(((MaintainTable *) linitial(plan.tables))->relid)) :
											 "one of its tables was"), false);
	}
	/* the table whose rows are replaced: its columns still the query's */
	published = BuildMaintainTarget(model, bound, &why);
	if (!OidIsValid(published))
		return rebuild_whole(model, why, false);
	table_rows = rel_tuples(published);
	if (table_rows < 0)
		table_rows = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s", SqlRelationName(published)));

	/*
	 * D: the delta of each table since the last build, as the table's rows;
	 * the first copy is the build's first read, whose snapshot is stored
	 */
	base = psprintf("maintain_%u", published);
	foreach(lc, plan.tables)
	{
		MaintainTable *table = lfirst(lc);
		Oid			log = ChangesDeltaLog(table->relid);
		char	   *name = psprintf("%s_delta_%d", base, foreach_current_index(lc));
		CatalogSession session;
		Oid			argtypes[1] = {TEXTOID};
		Datum		values[1] = {CStringGetTextDatum(snapshot)};
		Relation	rel = table_open(log, AccessShareLock);
		List	   *cols = SqlLiveColumns(RelationGetDescr(rel));
		char	   *list;
		Oid			d;
		int64		n;

		table_close(rel, AccessShareLock);
		SqlCreateOwnedTable(MEDALLION_BUILD_SCHEMA, name, delta_copy_columns(table->relid), owner);
		d = get_relname_relid(name, get_namespace_oid(MEDALLION_BUILD_SCHEMA, false));
		copies = lappend_oid(copies, d);
		cols = list_delete_first(list_delete_first(cols));	/* xid, w */
		list = SqlNameList(SqlColumnNames(cols));
		CatalogEnter(&session);
		n = BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s.%s l "
								 "WHERE NOT pg_catalog.pg_visible_in_snapshot(l." DELTA_XID_COLUMN ", $1::pg_catalog.pg_snapshot)",
								 SqlRelationName(d), list, list,
								 quote_identifier(MEDALLION_DELTA_SCHEMA), quote_identifier(get_rel_name(log))),
						1, argtypes, values, NULL, NIL, NIL, None_Receiver);
		CatalogLeave(&session);
		if (n > 0)
		{
			changed = lappend(changed, table);
			source = table;
			source_copy = d;
			ndelta = n;
		}
	}

	/*
	 * One changed table maps to keys through the others as they are now
	 * (they are as they were); two would need each other's old rows too.
	 */
	if (list_length(changed) > 1)
	{
		StringInfoData names;

		initStringInfo(&names);
		foreach(lc, changed)
			appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
							 SqlRelationName(((MaintainTable *) lfirst(lc))->relid));
		why = psprintf("more than one of its tables changed (%s)", names.data);
	}
	/* the backstop on the delta: half the driving table changed */
	else if (source != NULL && source->relid == plan.driving)
	{
		float4		reltuples = rel_tuples(source->relid);

		if (reltuples > 0 && ndelta > MAINTAIN_BACKSTOP_SHARE * reltuples)
			why = share_why(ndelta, source->relid, MAINTAIN_BACKSTOP_SHARE, reltuples);
	}

	/* K: the keys the delta touches, old images and new */
	if (why == NULL)
	{
		foreach(lc, plan.keys)
			keys.columns = lappend(keys.columns, SqlFindColumn(bound->columns, lfirst(lc)));
		SqlCreateOwnedTable(MEDALLION_BUILD_SCHEMA, psprintf("%s_keys", base), SqlColumnDefinitions(keys.columns),
							owner);
		k = get_relname_relid(psprintf("%s_keys", base), get_namespace_oid(MEDALLION_BUILD_SCHEMA, false));
		if (source != NULL)
		{
			keys.query = keys_query(plan.query, &plan, source, source_copy);
			(void) BuildFillHeapBound(k, &keys, psprintf("the keys model \"%s\" recomputes", model->name),
									  NIL, NIL);
		}
		nkeys = key_patterns(k, plan.keys, &patterns);
		/* the backstop on the keys a change elsewhere maps to: half the model's rows */
		if (source != NULL && source->relid != plan.driving && table_rows > 0 &&
			nkeys > MAINTAIN_BACKSTOP_SHARE * table_rows)
			why = keys_why(&plan, ndelta, source->relid, nkeys, MAINTAIN_BACKSTOP_SHARE, table_rows);
	}

	/*
	 * The choice: the estimate against the last full build; with nothing to
	 * weigh, the guard (a share of the driving table changed, or of the
	 * model's rows to recompute).
	 */
	if (why == NULL && source != NULL)
	{
		float4		driving_rows = rel_tuples(plan.driving);
		double		rows_per_key = plan.grouped || driving_rows <= 0 ? 1.0 : table_rows / driving_rows;

		if (!ChangesMaintainWeigh(model, nkeys, rows_per_key, table_rows, &cost))
			why = psprintf("est. %s incremental vs full %s", ChangesFormatMs(cost.estimate_ms),
						   ChangesFormatMs(cost.full_ms));
		else if (!cost.weighed && source->relid == plan.driving)
		{
			float4		reltuples = rel_tuples(source->relid);

			if (reltuples > 0 && ndelta > MAINTAIN_GUARD_SHARE * reltuples)
				why = share_why(ndelta, source->relid, MAINTAIN_GUARD_SHARE, reltuples);
		}
		else if (!cost.weighed && table_rows > 0 && nkeys > MAINTAIN_GUARD_SHARE * table_rows)
			why = keys_why(&plan, ndelta, source->relid, nkeys, MAINTAIN_GUARD_SHARE, table_rows);
		if (cost.estimate_ms >= 0)
			estimate = psprintf(" (est. %s vs full %s%s)", ChangesFormatMs(cost.estimate_ms),
								ChangesFormatMs(cost.full_ms),
								cost.weighed ? "" : ": too short to weigh");
	}

	/* the keys' rows replaced in the published table */
	if (why == NULL)
	{
		foreach(lc, patterns.rows)
			pattern_list = lappend(pattern_list, ((char **) lfirst(lc))[0]);
		ChangesMaintainApply(model, published, bound->columns, k, plan.keys, pattern_list, table_rows,
							 &deleted, &inserted);
	}
	drop_work_table(k);
	foreach(lc, copies)
		drop_work_table(lfirst_oid(lc));
	if (why != NULL)
	{
		cand = rebuild_whole(model, why, false);
		cand->deltas = now;		/* as it was before the first read */
		return cand;
	}
	cand = palloc0(sizeof(Candidate));
	cand->model = model;
	cand->published = published;
	cand->columns = bound->columns;
	cand->in_place = true;
	cand->delta = true;			/* nothing to publish: the rows are in */
	cand->rows = deleted + inserted;
	cand->deltas = now;
	cand->method = psprintf("incremental: %s of %s rows, %s %s%s%s recomputed from %s delta row%s%s%s%s",
							format_count(inserted), format_rows(Max(table_rows - deleted + inserted, 0)),
							format_count(nkeys),
							plan.grouped ? "group" : "key", nkeys == 1 ? "" : "s",
							plan.grouped ? "" : psprintf(" of %s", SqlRelationName(plan.driving)),
							format_count(ndelta), ndelta == 1 ? "" : "s",
							source != NULL ? " of " : "",
							source != NULL ? SqlRelationName(source->relid) : "",
							estimate);
	return cand;
}

/*
 * needed_logs
 *		The tables whose deltas some maintained model reads (OIDs), with,
 *		in *models, each one's model names (a List of char * per table).
 */
static List *
needed_logs(List **models)
{
	List	   *relids = NIL;
	ListCell   *lc;

	*models = NIL;
	foreach(lc, CatalogListModels())
	{
		ModelDef   *model = lfirst(lc);
		MaintainPlan plan;
		ListCell   *lt;

		if (model->kind != MAT_TABLE || model->maintain == MAINTAIN_FULL ||
			!OidIsValid(RelBinding(model->name)))
			continue;
		if (ChangesMaintainPlan(model, BindLoad(model)->query, &plan) != NULL)
			continue;
		foreach(lt, plan.tables)
		{
			Oid			relid = ((MaintainTable *) lfirst(lt))->relid;
			int			i;

			for (i = 0; i < list_length(relids); i++)
			{
				if (list_nth_oid(relids, i) == relid)
					break;
			}
			if (i == list_length(relids))
			{
				relids = lappend_oid(relids, relid);
				*models = lappend(*models, NIL);
			}
			list_nth_cell(*models, i)->ptr_value = lappend(list_nth(*models, i), model->name);
		}
	}
	return relids;
}

/* The delta logs there are: the OIDs of the tables they log. */
static List *
existing_logs(void)
{
	Oid			nsp = get_namespace_oid(MEDALLION_DELTA_SCHEMA, true);
	List	   *tables = NIL;
	CatalogSession session;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	int			ret;

	if (!OidIsValid(nsp))
		return NIL;
	values[0] = ObjectIdGetDatum(nsp);
	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT pg_catalog.substr(relname, 2)::pg_catalog.oid FROM pg_catalog.pg_class "
								"WHERE relnamespace = $1 AND relkind = 'r' AND relname ~ '^d[0-9]+$'",
								1, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list the delta logs: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		tables = lappend_oid(tables, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)));
	}
	CatalogLeave(&session);
	return tables;
}

/*
 * ChangesDropUnneededDeltas
 *		Drop the delta logs no maintained model reads (its model dropped,
 *		defined again or made 'full', its table dropped), and the delta
 *		triggers of their tables, so that writers no longer pay for them.
 *		A table some transaction is using keeps them until the next time:
 *		dropping a trigger locks the table out.
 */
void
ChangesDropUnneededDeltas(void)
{
	List	   *models;
	List	   *logs = existing_logs();
	List	   *needed;
	ListCell   *lc;
	CatalogSession session;

	if (logs == NIL)
		return;					/* nothing to drop: the models are not read */
	needed = needed_logs(&models);
	CatalogEnter(&session);
	foreach(lc, logs)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			log = ChangesDeltaLog(relid);
		bool		exists = get_rel_relkind(relid) == RELKIND_RELATION ||
			get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE;
		ListCell   *lt;

		if (list_member_oid(needed, relid))
			continue;
		if (exists)
		{
			bool		locked = true;

			foreach(lt, RelTree(relid))
				locked = locked && ConditionalLockRelationOid(lfirst_oid(lt), AccessExclusiveLock);
			if (!locked)
				continue;
			foreach(lt, RelTree(relid))
			{
				const char *triggers[] = {DELTAS_INSERT_TRIGGER, DELTAS_UPDATE_TRIGGER,
				DELTAS_DELETE_TRIGGER, DELTAS_ROW_TRIGGER};

				for (int t = 0; t < lengthof(triggers); t++)
				{
					if (OidIsValid(get_trigger_oid(lfirst_oid(lt), triggers[t], true)))
						SqlUtility(psprintf("DROP TRIGGER %s ON %s", triggers[t],
											SqlRelationName(lfirst_oid(lt))));
				}
			}
		}
		if (OidIsValid(log) && ConditionalLockRelationOid(log, AccessExclusiveLock))
			ChangesDropDeltaLog(relid);
	}
	CatalogLeave(&session);
}

/*
 * ChangesTrimDeltas
 *		Delete from each delta log the rows no build will read: those of
 *		transactions every stored snapshot of the models maintained from
 *		it sees (and every snapshot to come: older than the oldest
 *		transaction running), and the logs nobody needs (their table
 *		dropped).  A staged deploy's snapshots count too.
 */
void
ChangesTrimDeltas(void)
{
	List	   *models;
	List	   *needed;
	List	   *logs = existing_logs();
	ListCell   *lc;
	CatalogSession session;

	/* no log, nothing to trim: the models of a pipeline without any are not read */
	if (logs == NIL)
		return;
	needed = needed_logs(&models);
	/* a log whose table is gone, or that nobody needs */
	foreach(lc, logs)
	{
		if (!list_member_oid(needed, lfirst_oid(lc)))
		{
			ChangesDropUnneededDeltas();
			break;
		}
	}
	CatalogEnter(&session);
	foreach(lc, needed)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			log = ChangesDeltaLog(relid);
		Oid			argtypes[1] = {TEXTARRAYOID};
		Datum		values[1];
		int			ret;

		if (!OidIsValid(log))
			continue;
		values[0] = ListToTextArray(list_nth(models, foreach_current_index(lc)));
		ret = SPI_execute_with_args(psprintf("DELETE FROM %s.%s l WHERE l." DELTA_XID_COLUMN " < (SELECT pg_catalog.min(x) FROM ("
											 "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) AS x "
											 "UNION ALL SELECT pg_catalog.pg_snapshot_xmin(b.snapshot) FROM medallion.build_state b "
											 "WHERE b.model = ANY ($1) AND b.deltas IS NOT NULL "
											 "UNION ALL SELECT s.snapshot_xmin FROM medallion.stages s WHERE s.state = 'staged') m)",
											 quote_identifier(MEDALLION_DELTA_SCHEMA), quote_identifier(get_rel_name(log))),
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "could not trim the delta log of %s: %s", SqlRelationName(relid),
				 SPI_result_code_string(ret));
	}
	CatalogLeave(&session);
}
