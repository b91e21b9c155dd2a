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
 *	3. The candidate (BuildCopyCandidate): a copy of the published table,
 *	   less the rows of the keys of K, plus the model's rows for those
 *	   keys, read through its binding with the keys as a filter on the
 *	   key columns (= ANY of an array, which the planner pushes into the
 *	   query, down to the tables' indexes).  NULL keys are matched as NULL
 *	   (IS NULL), key by key: the keys are taken per pattern of NULL
 *	   columns, each pattern by its non-NULL columns with the built-in
 *	   equality.
 *	The candidate is then tested and published as any other.
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

/* Above this share of the table's rows changed, the model is rebuilt whole. */
#define MAINTAIN_MAX_DELTA_SHARE	0.2

/* What the fill of a maintained candidate needs (fill_maintained). */
typedef struct MaintainFill
{
	ModelDef   *model;
	Oid			keys;			/* the table of affected keys */
	List	   *key_names;		/* char * */
	List	   *patterns;		/* char *: '0'/'1' per key column, 1 = NULL */
	int64		deleted;
	int64		inserted;
	int64		rows;
} MaintainFill;

/*
 * ChangesMaintainPlan
 *		Whether model can be maintained: NULL with *plan filled, or why not.
 */
const char *
ChangesMaintainPlan(ModelDef *model, Query *query, MaintainPlan *plan)
{
	if (model->kind != MAT_TABLE)
		return "it is not a table model";
	if (model->maintain == MAINTAIN_FULL)
		return "maintain => 'full'";
	return MaintainClassify(query, plan);
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
					 errhint("Define it with maintain => 'auto' to rebuild it whole, or write its query as a GROUP BY over one table.")));
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

/* The state of the delta capture of every table of plan, or NULL when one is not captured. */
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
	return state.data;
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

/*
 * keys_query
 *		The query of the affected keys: the model's bound query reading d
 *		for the table at rtindex, its output the key columns (named as the
 *		model's), with no grouping, aggregates, HAVING nor order.
 */
static Query *
keys_query(Query *bound, MaintainPlan *plan, Index rtindex, Oid d)
{
	Query	   *q = copyObject(bound);
	RangeTblEntry *rte = rt_fetch(rtindex, q->rtable);
	List	   *tlist = NIL;
	ListCell   *lc;

	foreach(lc, plan->key_resnos)
	{
		TargetEntry *tle = list_nth(q->targetList, lfirst_int(lc) - 1);

		tlist = lappend(tlist, makeTargetEntry(copyObject(tle->expr), list_length(tlist) + 1,
											   pstrdup(tle->resname), false));
	}
	q->targetList = tlist;
	q->groupClause = NIL;
	q->groupDistinct = false;
	q->havingQual = NULL;
	q->hasAggs = false;
	q->sortClause = NIL;
	rte->relid = d;
	rte->relkind = RELKIND_RELATION;
	rte->inh = false;
	return q;
}

/* "k.a = q.a AND k.b IS NULL AND q.b IS NULL ..." for a pattern of NULL key columns. */
static char *
pattern_match(List *names, const char *pattern, const char *k, const char *q)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		const char *name = quote_identifier(lfirst(lc));
		bool		isnull = pattern[foreach_current_index(lc)] == '1';

		if (buf.len > 0)
			appendStringInfoString(&buf, " AND ");
		if (isnull)
			appendStringInfo(&buf, "%s.%s IS NULL AND %s.%s IS NULL", k, name, q, name);
		else
			appendStringInfo(&buf, "%s.%s OPERATOR(pg_catalog.=) %s.%s", k, name, q, name);
	}
	return buf.data;
}

/* "k.a IS NOT NULL AND k.b IS NULL ...": the keys of a pattern. */
static char *
pattern_keys(List *names, const char *pattern, const char *k)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s.%s IS %sNULL", buf.len > 0 ? " AND " : "", k,
						 quote_identifier(lfirst(lc)),
						 pattern[foreach_current_index(lc)] == '1' ? "" : "NOT ");
	return buf.data;
}

/*
 * fill_maintained
 *		Bring the copy of the published table up to date (a fill of
 *		BuildCopyCandidate): the rows of the affected keys out, the model's
 *		rows for them in, one pattern of NULL key columns at a time.
 */
static void
fill_maintained(Candidate *cand, void *arg)
{
	MaintainFill *f = arg;
	char	   *candname = SqlRelationName(cand->candidate);
	char	   *keysname = SqlRelationName(f->keys);
	char	   *target;
	char	   *source;
	ListCell   *lc;

	SqlColumnLists(cand->candidate, cand->columns, &target, &source);
	foreach(lc, f->patterns)
	{
		const char *pattern = lfirst(lc);
		StringInfoData pushed;
		ListCell   *ln;

		/* the rows of these keys go */
		f->deleted += BindExecute(psprintf("DELETE FROM %s c WHERE EXISTS (SELECT FROM %s k WHERE %s AND %s)",
										   candname, keysname, pattern_keys(f->key_names, pattern, "k"),
										   pattern_match(f->key_names, pattern, "k", "c")),
								  0, NULL, NULL, NULL, NIL, NIL, None_Receiver);

		/*
		 * the model's rows for them come in: each grouping column filtered
		 * by a value list (pushed into the grouped query, to the table's
		 * indexes), then matched key by key
		 */
		initStringInfo(&pushed);
		foreach(ln, f->key_names)
		{
			const char *name = quote_identifier(lfirst(ln));

			if (pushed.len > 0)
				appendStringInfoString(&pushed, " AND ");
			if (pattern[foreach_current_index(ln)] == '1')
				appendStringInfo(&pushed, "q.%s IS NULL", name);
			else
				appendStringInfo(&pushed, "q.%s OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT DISTINCT k.%s FROM %s k WHERE %s))",
								 name, name, keysname, pattern_keys(f->key_names, pattern, "k"));
		}
		f->inserted += BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s q WHERE %s "
											"AND EXISTS (SELECT FROM %s k WHERE %s AND %s)",
											candname, target, source,
											BindRelationSql(f->model->name), pushed.data,
											keysname, pattern_keys(f->key_names, pattern, "k"),
											pattern_match(f->key_names, pattern, "k", "q")),
								   0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	}
	f->rows = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s", candname));
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

/*
 * ChangesMaintainCandidate
 *		The candidate of a table model maintained from its input's deltas
 *		(see the file header), with its method and the capture state it
 *		read with; or a Candidate with only method ("full: why") and no
 *		candidate heap when the model must be rebuilt whole; or NULL when
 *		the model is not maintained at all (not in the class, maintain =>
 *		'full').  change_aware: a change-aware run (not forced, nor a full
 *		refresh), the only kind that maintains.  Runs as the model owner.
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
	char	   *base;
	List	   *copies = NIL;	/* D of each table, in plan order */
	List	   *changed = NIL;	/* the tables whose delta has rows */
	MaintainTable *source = NULL;	/* the one changed table */
	Oid			source_copy = InvalidOid;
	int64		ndelta = 0;
	Oid			k = InvalidOid;
	MaintainFill fill = {0};
	AnalyzedModel keys = {0};
	BindRows	patterns = {0};
	Candidate  *cand = NULL;
	const char *why = NULL;
	int64		nkeys = 0;
	ListCell   *lc;

	if (ChangesMaintainPlan(model, bound->query, &plan) != NULL)
		return NULL;
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
		return rebuild_whole(model, psprintf("%s truncated, rewritten or captured anew since its last build",
											 list_length(plan.tables) == 1 ?
											 psprintf("%s was", SqlRelationName(((MaintainTable *) linitial(plan.tables))->relid)) :
											 "one of its tables was"), false);

	/*
	 * D: the delta of each table since the last build, as the table's rows;
	 * the first copy is the build's first read, whose snapshot is stored
	 */
	base = psprintf("maintain_%u", RelPublished(model));
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
	/* a first cost guard: a large share of the driving table changed */
	else if (source != NULL && source->relid == plan.driving)
	{
		float4		reltuples = rel_tuples(source->relid);

		if (reltuples > 0 && ndelta > MAINTAIN_MAX_DELTA_SHARE * reltuples)
			why = psprintf("%s delta rows of %s, over %d%% of its %.0f rows", format_count(ndelta),
						   SqlRelationName(source->relid), (int) (MAINTAIN_MAX_DELTA_SHARE * 100), reltuples);
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
			keys.query = keys_query(bound->query, &plan, source->rtindex, source_copy);
			(void) BuildFillHeapBound(k, &keys, psprintf("the keys model \"%s\" recomputes", model->name),
									  NIL, NIL);
		}
		nkeys = key_patterns(k, plan.keys, &patterns);
		/* ... and of the keys a change elsewhere maps to */
		if (source != NULL && source->relid != plan.driving)
		{
			/* the keys are groups over a join, or driving keys a change elsewhere maps to */
			float4		published = rel_tuples(RelPublished(model));

			if (published > 0 && nkeys > MAINTAIN_MAX_DELTA_SHARE * published)
				why = psprintf("%s delta rows of %s touch %s %s, over %d%% of its %.0f rows",
							   format_count(ndelta), SqlRelationName(source->relid), format_count(nkeys),
							   plan.grouped ? (nkeys == 1 ? "group" : "groups") :
							   psprintf("key%s of %s", nkeys == 1 ? "" : "s", SqlRelationName(plan.driving)),
							   (int) (MAINTAIN_MAX_DELTA_SHARE * 100), published);
		}
	}
	if (why == NULL)
	{
		foreach(lc, patterns.rows)
			fill.patterns = lappend(fill.patterns, ((char **) lfirst(lc))[0]);
		fill.model = model;
		fill.keys = k;
		fill.key_names = plan.keys;
		cand = BuildCopyCandidate(model, bound, fill_maintained, &fill, &why);
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
	cand->rows = fill.rows;
	cand->deltas = now;
	cand->method = psprintf("incremental: %s of %s rows, %s %s%s%s recomputed from %s delta row%s%s%s",
							format_count(fill.inserted), format_count(fill.rows), format_count(nkeys),
							plan.grouped ? "group" : "key", nkeys == 1 ? "" : "s",
							plan.grouped ? "" : psprintf(" of %s", SqlRelationName(plan.driving)),
							format_count(ndelta), ndelta == 1 ? "" : "s",
							source != NULL ? " of " : "",
							source != NULL ? SqlRelationName(source->relid) : "");
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
		if (MaintainClassify(BindLoad(model)->query, &plan) != NULL)
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

/*
 * existing_logs
 *		The delta logs there are: the OIDs of the tables they log, in the
 *		caller's memory context.  Not in SPI's: CatalogLeave frees that,
 *		and a list read after it held whatever was allocated there next
 *		(catalog OIDs, which ChangesDropUnneededDeltas then locked
 *		AccessExclusive to the end of the transaction: every new session,
 *		the ledger writer of a staged deploy among them, waited for it).
 */
static List *
existing_logs(void)
{
	Oid			nsp = get_namespace_oid(MEDALLION_DELTA_SCHEMA, true);
	List	   *tables = NIL;
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
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
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		tables = lappend_oid(tables, relid);
		MemoryContextSwitchTo(old);
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
