/*-------------------------------------------------------------------------
 *
 * changes_maintain.c
 *	  Maintained table models (issue 31): a change-aware run brings a
 *	  table model whose query is in a maintained class
 *	  (analyze_maintain.c) up to date from the row deltas of the tables it
 *	  reads, recomputing only the keys those deltas touch; which tables
 *	  can be captured for it (the logs' lifecycle: changes_logs.c).
 *
 * A key is a group (GROUP BY over one table) or a key of the driving
 * table (joins keyed by a table): every output row belongs to one key.
 * The maintained build, as the model owner, in the step's subtransaction:
 *
 *	1. The delta of each table read since the stored snapshot S1 of the
 *	   model's last build is copied out of its log, tuple by tuple
 *	   (ChangesDeltaCopy: no code of the table's owner runs, only the
 *	   columns the model reads, when its owner may read them), into a
 *	   table shaped like it, column for column at the same positions; the
 *	   first copy is the build's first read, under the snapshot pinned for
 *	   the whole build, so its snapshot Sd is the one stored for the next
 *	   build.  They are trusted only when the state of capture
 *	   (ChangesDeltaState of each table: the log, the table's storage, the
 *	   triggers, its captured columns) is the one the last build stored: a
 *	   TRUNCATE, a rewrite, a trigger dropped, a column renamed or a log
 *	   made again since means some writes are not in it, and the model is
 *	   rebuilt whole.
 *	2. The affected keys K: the model's bound query (its views flattened)
 *	   with its read of a changed table pointed at that table's delta
 *	   copy, its output cut to the key columns and its grouping,
 *	   aggregates and HAVING removed, for each changed table.  Old and new
 *	   images both count: a row that left a key and one that joined
 *	   another give both.  The WHERE clause and the joins apply: through
 *	   the other tables, as they are under Sd, a change maps to the keys
 *	   it touches.  That is complete while the other tables still hold
 *	   every row they held at S1: at most one changed table may have lost
 *	   rows (old images), not counting a driving table, whose keys are
 *	   taken from its own delta when others changed too.
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
#include "access/xact.h"
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
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"

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

/* The delta of one table read by a maintained model, copied out of its log. */
typedef struct ChangedTable
{
	MaintainTable *table;
	Oid			copy;			/* D: the delta rows, shaped like the table */
	int64		rows;			/* log rows: old and new images */
	int64		olds;			/* of which old images (deleted, updated) */
} ChangedTable;

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
	plan->owner = ModelOwnerId(model);
	return why;
}

/*
 * ChangesMaintainReadsModel
 *		When relid is the table of a model: why a model of owner reading it
 *		is not maintained from its deltas, or NULL, *is_model set.
 *
 *		A table model's table is captured as any table: its maintained
 *		builds delete and insert rows in it, which its delta triggers log
 *		in the run's transaction; a whole build swaps new storage in, which
 *		the state of capture shows (its readers are rebuilt whole).  For
 *		the models of its owner only, who own the table: capture costs its
 *		builds.  Incremental and snapshot models' tables are not captured:
 *		their first builds and full refreshes are made as a table's are,
 *		but their merges were not checked for it.  Nor is a distributed
 *		model's table (Citus refuses to distribute a table with triggers:
 *		ChangesUncaptureModelTable drops them first).
 */
const char *
ChangesMaintainReadsModel(Oid relid, Oid owner, bool *is_model)
{
	char	   *name = get_rel_name(relid);
	ModelDef   *upstream;

	/*
	 * A model's table is named as the model (in its layer's schema): one
	 * catalog lookup by that name, not a scan of every model (this runs
	 * for each table of each maintained model at each build).
	 */
	*is_model = false;
	if (name == NULL)
		return NULL;
	upstream = CatalogGetModel(name, true);
	if (upstream == NULL || upstream->kind == MAT_VIEW || upstream->kind == MAT_EPHEMERAL ||
		RelPublished(upstream) != relid)
		return NULL;
	*is_model = true;
	if (upstream->kind != MAT_TABLE || upstream->distribution != NULL || ScaleIsCitusTable(relid))
		return psprintf("reads the table of model %s, whose builds are not captured", upstream->name);
	if (ModelOwnerId(upstream) != owner)
		return psprintf("reads the table of model %s, whose builds are captured only for its owner's models",
						upstream->name);
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
		bool		is_model;
		const char *why = ChangesMaintainReadsModel(table->relid, plan->owner, &is_model);
		const char *column;

		if (why != NULL)
			return why;
		/* a model's table: its owner's builds write it, no one else */
		if (!is_model && !ChangesHasTracking(table->relid))
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

/* The names of the changed tables, "a" or "a, b" (ChangedTable *). */
static char *
changed_names(List *changed)
{
	StringInfoData names;
	ListCell   *lc;

	initStringInfo(&names);
	foreach(lc, changed)
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
						 SqlRelationName(((ChangedTable *) lfirst(lc))->table->relid));
	return names.data;
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
 * backstop_table
 *		The table of plan whose delta the backstop counts: the driving (or
 *		grouped) table, or over a join without one, the largest.
 */
static Oid
backstop_table(MaintainPlan *plan)
{
	Oid			largest = InvalidOid;
	float4		most = -1;
	ListCell   *lc;

	if (OidIsValid(plan->driving))
		return plan->driving;
	foreach(lc, plan->tables)
	{
		Oid			relid = ((MaintainTable *) lfirst(lc))->relid;
		float4		rows = rel_tuples(relid);

		if (rows > most)
		{
			largest = relid;
			most = rows;
		}
	}
	return largest;
}

/* The rows of the tables plan reads, by pg_class.reltuples. */
static double
input_rows(MaintainPlan *plan)
{
	double		rows = 0;
	ListCell   *lc;

	foreach(lc, plan->tables)
		rows += Max(rel_tuples(((MaintainTable *) lfirst(lc))->relid), 0);
	return rows;
}

/*
 * early_estimate
 *		Before anything is copied, n delta rows (olds of them old images)
 *		counted in the log of table relid: the reason to rebuild whole
 *		when even the least a maintained build could cost is more than the
 *		full build (ChangesMaintainWeighEarly), or NULL.
 */
static const char *
early_estimate(ModelDef *model, MaintainPlan *plan, int64 n, int64 olds, Oid relid, double table_rows)
{
	MaintainCost cost = {-1, -1, false};

	if (ChangesMaintainWeighEarly(model, plan, n, olds, input_rows(plan), table_rows,
								  relid == plan->driving ? rel_tuples(relid) : -1, &cost))
		return NULL;
	return psprintf("est. %s or more incremental vs full %s, from %s delta rows or more of %s",
					ChangesFormatMs(cost.estimate_ms), ChangesFormatMs(cost.full_ms), format_count(n),
					SqlRelationName(relid));
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
keys_why(MaintainPlan *plan, int64 ndelta, const char *tables, int64 nkeys, double share, double rows)
{
	return psprintf("%s delta rows of %s touch %s %s, over %d%% of its %.0f rows",
					format_count(ndelta), tables, format_count(nkeys),
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

/* What maintain_apply_checked does, and finds. */
typedef struct ApplyCheck
{
	ModelDef   *model;
	AnalyzedModel *bound;
	MaintainPlan *plan;
	Oid			published;
	Oid			keys;
	List	   *patterns;
	double		table_rows;
	const char *base;
	bool		algebraic;		/* keys holds the delta's aggregates, added to
								 * the groups (ChangesMaintainCombine) */
	const char *counted;		/* algebraic with old images: the count of
								 * rows whose zero is a group gone */
	Oid			written;		/* a work table for the rows inserted, or
								 * InvalidOid */
	int64		deleted;
	int64		updated;
	int64		inserted;
	int64		differing;		/* rows the check found different */
	bool		appended;		/* written holds the rows to insert, of keys
								 * the table lacks (ChangesMaintainAppend) */
	bool		gone;			/* no key has a row left to insert */
} ApplyCheck;

/*
 * maintain_apply_checked
 *		ChangesMaintainApply, then medallion.maintain_verify's check
 *		(changes_verify.c); a difference is raised as an error, so that the
 *		subtransaction this runs in (SubxactRun) takes the apply back.
 */
static void
maintain_apply_checked(void *arg)
{
	ApplyCheck *a = arg;

	if (a->appended)
	{
		int64		deleted = 0;
		int64		inserted = 0;

		/* first: the keys' rows below add themselves to written */
		ChangesMaintainAppend(a->model, a->published, a->bound->columns, a->written, a->plan->keys,
							  a->table_rows, &a->inserted);
		if (a->patterns != NIL)
			ChangesMaintainApply(a->model, a->published, a->bound->columns, a->keys, a->plan->keys,
								 a->patterns, a->table_rows, false, a->written, &deleted, &inserted);
		a->deleted += deleted;
		a->inserted += inserted;
	}
	else if (a->algebraic)
		ChangesMaintainCombine(a->model, a->published, a->bound->columns, a->keys, a->plan->keys,
							   a->plan->combine, a->counted, a->patterns, a->table_rows, &a->deleted,
							   &a->updated, &a->inserted);
	else
		ChangesMaintainApply(a->model, a->published, a->bound->columns, a->keys, a->plan->keys,
							 a->patterns, a->table_rows, a->gone, a->written, &a->deleted,
							 &a->inserted);
	if (maintain_verify == MAINTAIN_VERIFY_OFF)
		return;
	a->differing = ChangesVerifyMaintained(a->model, a->bound, a->published, a->plan->keys,
										   a->keys, psprintf("%s_verify", a->base),
										   maintain_verify == MAINTAIN_VERIFY_SAMPLE);
	if (a->differing > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the maintained build of model \"%s\" differs from its query in %lld rows",
						a->model->name, (long long) a->differing)));
}

/*
 * maintain_apply
 *		The keys' rows replaced in the published table; with
 *		medallion.maintain_verify, checked, in a subtransaction of its own
 *		that a difference rolls back: then a warning says so and the reason
 *		to rebuild the model whole is returned.  NULL when applied.
 */
static const char *
maintain_apply(ApplyCheck *a)
{
	ErrorData  *edata;
	bool		sample = maintain_verify == MAINTAIN_VERIFY_SAMPLE;

	if (maintain_verify == MAINTAIN_VERIFY_OFF)
	{
		maintain_apply_checked(a);
		return NULL;
	}
	a->differing = 0;
	edata = SubxactRun(maintain_apply_checked, a, true);
	if (edata == NULL)
		return NULL;
	if (a->differing == 0)
		ReThrowError(edata);	/* an error of the apply itself */
	FreeErrorData(edata);
	ereport(WARNING,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the maintained build of model \"%s\" differs from its query in %lld rows",
					a->model->name, (long long) a->differing),
			 errdetail("medallion.maintain_verify = %s compared %s with the model's query; "
					   "the model is rebuilt whole and the rebuild published.",
					   sample ? "sample" : "on", sample ? "a sample of its keys" : "the whole table"),
			 errhint("This is a bug of medallion's maintenance: please report it with the model's query and the changes since its last build.")));
	a->deleted = a->updated = a->inserted = 0;
	return psprintf("the maintained result differed from its query in %s row%s (medallion.maintain_verify = %s)",
					format_count(a->differing), a->differing == 1 ? "" : "s", sample ? "sample" : "on");
}

/* What fill_keys runs in a subtransaction. */
typedef struct KeysFill
{
	ModelDef   *model;
	Oid			k;
	AnalyzedModel *keys;
} KeysFill;

static void
fill_keys_work(void *arg)
{
	KeysFill   *f = arg;

	(void) BuildFillHeapBound(f->k, f->keys, psprintf("the keys model \"%s\" recomputes", f->model->name),
							  NIL, NIL);
}

/*
 * fill_keys
 *		Add to k the keys the query keys finds (ChangesKeysQuery); NULL, or
 *		why the model is rebuilt whole when it fails on the data (a cast, a
 *		division), which the model's query may not: the keys query reads
 *		rows the model's WHERE would have left out first.  Other errors are
 *		raised.
 */
static const char *
fill_keys(ModelDef *model, Oid k, AnalyzedModel *keys)
{
	KeysFill	f = {model, k, keys};
	ErrorData  *edata = SubxactRun(fill_keys_work, &f, true);
	const char *why;

	if (edata == NULL)
		return NULL;
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
		ReThrowError(edata);
	/* the SQLSTATE only: the message may quote values of another owner's rows */
	why = psprintf("finding the keys its changes touch failed on a row its query leaves out (SQLSTATE %s)",
				   unpack_sql_state(edata->sqlerrcode));
	FreeErrorData(edata);
	return why;
}

/*
 * maintain_from_deltas
 *		The maintained build of model (ChangesMaintainCandidate) from the
 *		deltas since snapshot, its tables' capture state being now; under
 *		the pinned snapshot.
 */
static Candidate *
maintain_from_deltas(ModelDef *model, AnalyzedModel *bound, MaintainPlan *plan, bool tested,
					 bool reread, const char *snapshot, char *now)
{
	Oid			owner = ModelOwnerId(model);
	Oid			published;
	double		table_rows;
	char	   *base;
	List	   *copies = NIL;	/* D of each table, in plan order */
	List	   *changed = NIL;	/* ChangedTable *: the tables whose delta has rows */
	ChangedTable *driving = NULL;	/* among them, the driving table */
	int			with_olds = 0;	/* changed tables with old images, less the driving one */
	int64		ndelta = 0;
	Oid			k = InvalidOid;
	AnalyzedModel keys = {0};
	BindRows	patterns = {0};
	MaintainCost cost = {-1, -1, false};
	ApplyCheck	apply = {0};
	Candidate  *cand = NULL;
	const char *why = NULL;
	bool		forced = model->maintain == MAINTAIN_INCREMENTAL;
	bool		checked_bad = false;
	int64		nkeys = 0;
	bool		algebraic;
	bool		appended;
	char	   *estimate = "";
	char	   *spent_note = NULL;
	instr_time	started;
	ListCell   *lc;

	INSTR_TIME_SET_CURRENT(started);
	/* the table whose rows are replaced: its columns still the query's */
	published = BuildMaintainTarget(model, bound, &why);
	if (!OidIsValid(published))
		return rebuild_whole(model, why, false);
	table_rows = rel_tuples(published);
	if (table_rows < 0)
		table_rows = BindCount(psprintf("SELECT pg_catalog.count(*) FROM %s", SqlRelationName(published)));

	/*
	 * D: the delta of each table since the last build, as the table's rows
	 * (only the columns the model reads), copied in C (ChangesDeltaCopy);
	 * the first copy is the build's first read, whose snapshot is stored
	 */
	base = psprintf("maintain_%u", published);

	/*
	 * The backstop before anything is copied: a delta of the driving (or
	 * grouped) table of at least half of it is rebuilt whole at once, its
	 * rows counted in the log, not copied.  Copying such a delta and
	 * finding its keys cost about what the rebuild does
	 * (bench/maintain_matrix.sh: a choice made after the copy cost 1.2 to
	 * 2.4 times the rebuild at 50% of the rows changed).  A GROUP BY over
	 * a join has no driving table: its largest table (the fact, by
	 * pg_class.reltuples) is counted so, and half of it changed touches
	 * most of its groups (the same benchmark: 1.7 to 2.8 times the
	 * rebuild when only the keys' count stopped it).  A small dimension
	 * is not: half of a few rows can touch few groups, and its keys'
	 * count decides below.  A row updated is two log rows.  The count
	 * stops at half the table.  A GROUP BY that takes any change in place
	 * is counted up to the whole table when its full build is long enough
	 * to weigh: its estimate decides (half the lines new cost 0.55 to 0.9
	 * of the rebuild to add to a few hundred groups).
	 */
	if (!forced)
	{
		Oid			counted = backstop_table(plan);
		float4		reltuples = rel_tuples(counted);
		double		share = plan->subtract && ChangesMaintainWeighEarly(model, plan, 0, 0, 0, 0, -1, NULL) ?
			1.0 : MAINTAIN_BACKSTOP_SHARE;
		int64		limit = (int64) ceil(share * Max(reltuples, 0));
		int64		olds = 0;
		int64		n = reltuples > 0 ? ChangesDeltaCount(counted, snapshot, limit, &olds) : 0;

		if (reltuples > 0 && n >= limit)
			why = psprintf("%s delta rows or more of %s, %d%% of its %.0f rows",
						   format_count(limit), SqlRelationName(counted), (int) (share * 100), reltuples);
		else if (n > 0)
			why = early_estimate(model, plan, n, olds, counted, table_rows);
	}
	foreach(lc, plan->tables)
	{
		MaintainTable *table = lfirst(lc);
		char	   *name = psprintf("%s_delta_%d", base, foreach_current_index(lc));
		Oid			d;
		int64		n;
		int64		olds;

		if (why != NULL)
			break;				/* the backstop above */
		d = SqlCreateWorkTable(name, ChangesDeltaCopyColumns(table->relid, table->columns), owner);
		copies = lappend_oid(copies, d);
		n = ChangesDeltaCopy(table->relid, d, table->columns, snapshot, owner, &olds, &why);
		if (n < 0)
			break;
		if (n > 0)
		{
			ChangedTable *ct = palloc0(sizeof(ChangedTable));

			ct->table = table;
			ct->copy = d;
			ct->rows = n;
			ct->olds = olds;
			changed = lappend(changed, ct);
			ndelta += n;
			if (table->relid == plan->driving)
				driving = ct;
			else if (olds > 0 || table->outer_join != 0)
				with_olds++;
		}
	}

	/*
	 * A changed table maps to keys through the others as they are now.  A
	 * row a change removed from the output had every other part as it was
	 * then; the others as they are now still hold it when they changed by
	 * inserts only.  So at most one changed table may have old images
	 * (deleted or updated rows); the driving table does not count, its
	 * keys are in its delta itself (taken as they are when others changed
	 * too).  Two tables with old images would need each other's old rows.
	 * A table on the right of a LEFT JOIN counts with inserts only: a row
	 * it gains replaces a NULL-extended row, so the others' keys read
	 * through it as it is now miss that row (diff_maintain.sh found it).
	 */
	if (why != NULL)
		;						/* the deltas could not be read */
	else if ((plan->grouped && with_olds + (driving != NULL && driving->olds > 0) > 1) ||
			 (!plan->grouped && with_olds > 1))
	{
		StringInfoData names;
		bool		added = false;	/* one only gained rows, on the right of a LEFT JOIN */

		initStringInfo(&names);
		foreach(lc, changed)
		{
			ChangedTable *ct = lfirst(lc);

			if ((ct->olds > 0 || ct->table->outer_join != 0) && (plan->grouped || ct != driving))
				appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", SqlRelationName(ct->table->relid));
			added |= ct->olds == 0 && ct->table->outer_join != 0 && ct != driving;
		}
		why = psprintf("rows of more than one of its tables were deleted or updated%s (%s)",
					   added ? ", or added on the right of a LEFT JOIN" : "", names.data);
	}
	/* the backstop on the delta: half the driving table changed */
	else if (driving != NULL && !forced)
	{
		float4		reltuples = rel_tuples(driving->table->relid);

		if (reltuples > 0 && driving->rows > MAINTAIN_BACKSTOP_SHARE * reltuples)
			why = share_why(driving->rows, driving->table->relid, MAINTAIN_BACKSTOP_SHARE, reltuples);
	}

	/*
	 * The algebraic path: only new rows, in one table, of a GROUP BY whose
	 * columns can take them (analyze_maintain.c): K holds the new rows'
	 * aggregates per group, the model's query over the delta, and they are
	 * added to the groups' rows, whose other rows are not read.
	 */
	algebraic = why == NULL && plan->combine != NIL && list_length(changed) == 1 &&
		(((ChangedTable *) linitial(changed))->olds == 0 || plan->subtract);

	/*
	 * The appended path: only new rows of a join's driving table, whose
	 * key is one row's (plan->driving_unique: not an inheritance parent's,
	 * whose index leaves its children out, nor a deferrable one).  None
	 * of their keys has rows in the table, which
	 * holds the model's rows as of the last build's snapshot: a key there
	 * would be a driving row that snapshot saw, and a new row of the same
	 * key (a unique key) needs it deleted first, by a transaction that
	 * this build sees and the last one did not, whose old image would be
	 * in the delta.  Unless the last build read rows of its own run's
	 * transaction, which are in this delta again (reread).  So the rows
	 * of their keys are the model's query over the new rows, the other
	 * tables as they are, and they are inserted: no key is sought nor
	 * deleted, the driving table is not read again.  Other tables that
	 * changed too map to keys as below, less those of the new rows: the
	 * keys of driving rows the last build saw, recomputed (new orders
	 * with their lines: the lines' keys are the new orders').  Under
	 * medallion.maintain_verify, every key is recomputed instead: the
	 * check reads them.
	 */
	appended = why == NULL && !algebraic && !reread && !plan->grouped && driving != NULL &&
		plan->driving_unique && driving->olds == 0 && driving->table->branch == 0 &&
		maintain_verify == MAINTAIN_VERIFY_OFF &&
		(list_length(changed) == 1 || ChangesDrivingColumns(plan, driving->table) != NIL);
	if (why == NULL && (!appended || list_length(changed) > 1))
	{
		if (algebraic)
			keys.columns = bound->columns;
		foreach(lc, algebraic ? NIL : plan->keys)
			keys.columns = lappend(keys.columns, SqlFindColumn(bound->columns, lfirst(lc)));
		k = SqlCreateWorkTable(psprintf("%s_keys", base), SqlColumnDefinitions(keys.columns), owner);
	}
	if (algebraic)
	{
		ChangedTable *ct = linitial(changed);

		ChangesAlgebraicSums(model, bound, plan, ct->table, ct->copy, ct->olds, k,
							 psprintf("%s_sums", base), owner);
		/* a NaN met: rebuilt whole, under maintain => 'incremental' too (data, not the query) */
		if (ct->olds > 0 && (why = ChangesAlgebraicUnfit(bound, plan, k)) != NULL)
			checked_bad = true;
	}

	/*
	 * K: the keys the delta touches, old images and new; on the appended
	 * path, those the other tables' changes map to (rows of driving rows
	 * the last build saw), less the new driving rows' keys, whose rows are
	 * added
	 */
	else if (why == NULL && (!appended || list_length(changed) > 1))
	{
		foreach(lc, changed)
		{
			ChangedTable *ct = lfirst(lc);

			if (appended && ct == driving)
				continue;
			keys.query = ChangesKeysQuery(plan->query, plan, ct->table, ct->copy);
			if (ct == driving && !plan->grouped && ct->table->branch == 0)
			{
				/*
				 * every key in the driving table's delta, not only those that
				 * join: the driving table alone in FROM (the joins left in the
				 * range table, unused, made inner for the planner).  Needed
				 * when other tables changed too; when it changed alone, the
				 * keys that do not join (or that WHERE drops) are recomputed
				 * to no row, and the joins, a probe of each other table per
				 * delta row, are not made (a tenth of a maintained join's
				 * build at 1% new lines, bench/maintain_matrix.sh).
				 */
				RangeTblRef *ref = makeNode(RangeTblRef);
				ListCell   *lr;

				foreach(lr, keys.query->rtable)
				{
					RangeTblEntry *rte = lfirst(lr);

					if (rte->rtekind == RTE_JOIN)
						rte->jointype = JOIN_INNER;
				}
				ref->rtindex = ct->table->rtindex;
				keys.query->jointree = makeFromExpr(list_make1(ref), NULL);
			}
			why = fill_keys(model, k, &keys);
			if (why != NULL)
			{
				checked_bad = true;		/* the data's, not the query's: under 'incremental' too */
				break;
			}
		}
	}
	if (why == NULL)
	{
		/* the added rows' keys are not sought: they have no rows to replace */
		if (appended && OidIsValid(k))
			ChangesDropAddedKeys(k, plan, driving->table, driving->copy);
		nkeys = OidIsValid(k) ? key_patterns(k, plan->keys, &patterns) : 0;

		/*
		 * the backstop on the keys a change elsewhere maps to: half the
		 * model's rows (recomputed; the algebraic path reads none of them,
		 * nor the appended path those of the rows it adds)
		 */
		if (!forced && !algebraic && changed != NIL && (driving == NULL || list_length(changed) > 1) &&
			table_rows > 0 &&
			nkeys > MAINTAIN_BACKSTOP_SHARE * table_rows)
			why = keys_why(plan, ndelta, changed_names(changed), nkeys, MAINTAIN_BACKSTOP_SHARE, table_rows);
		if (appended)
			nkeys += driving->rows; /* a new row, a key */
	}

	/*
	 * The choice: the estimate against the last full build; with nothing to
	 * weigh, the guard (a share of the driving table changed, or of the
	 * model's rows to recompute).  maintain => 'incremental' maintains
	 * whatever the estimate: only what cannot be maintained exactly fails
	 * it.  The algebraic path is weighed by its own measure (the new rows
	 * read, the groups written) and has no guard: the groups' other rows
	 * are not read.
	 */
	if (why == NULL && changed != NIL)
	{
		float4		driving_rows = rel_tuples(plan->driving);
		double		rows_per_key = plan->grouped || driving_rows <= 0 ? 1.0 : table_rows / driving_rows;
		bool		cheaper;

		cheaper = algebraic ?
			ChangesMaintainWeighAdded(model, ndelta, ((ChangedTable *) linitial(changed))->olds, nkeys,
									  input_rows(plan), table_rows, &cost) :
			ChangesMaintainWeigh(model, nkeys, appended ? driving->rows : 0, rows_per_key, table_rows, &cost);
		if (!cheaper && (spent_note = ChangesMaintainSpent(&cost, started)) != NULL)
			cheaper = true;
		if (forced)
			;
		else if (!cheaper)
			why = psprintf("est. %s incremental vs full %s", ChangesFormatMs(cost.estimate_ms),
						   ChangesFormatMs(cost.full_ms));
		else if (algebraic)
			;
		else if (!cost.weighed && driving != NULL && list_length(changed) == 1)
		{
			float4		reltuples = rel_tuples(driving->table->relid);

			if (reltuples > 0 && ndelta > MAINTAIN_GUARD_SHARE * reltuples)
				why = share_why(ndelta, driving->table->relid, MAINTAIN_GUARD_SHARE, reltuples);
		}
		else if (!cost.weighed && table_rows > 0 && nkeys > MAINTAIN_GUARD_SHARE * table_rows)
			why = keys_why(plan, ndelta, changed_names(changed), nkeys, MAINTAIN_GUARD_SHARE, table_rows);
		if (cost.estimate_ms >= 0)
			estimate = psprintf(" (est. %s%s vs full %s%s)", ChangesFormatMs(cost.estimate_ms),
								spent_note ? spent_note : "", ChangesFormatMs(cost.full_ms),
								cost.weighed ? "" : ": too short to weigh");
	}

	/* the keys' rows replaced in the published table (and checked) */
	if (why == NULL)
	{
		apply.model = model;
		apply.bound = bound;
		apply.plan = plan;
		apply.published = published;
		apply.keys = k;
		apply.algebraic = algebraic;
		if (algebraic && ((ChangedTable *) linitial(changed))->olds > 0)
			apply.counted = ((ModelColumn *) list_nth(bound->columns, plan->count_column))->name;
		apply.table_rows = table_rows;
		apply.base = base;

		foreach(lc, patterns.rows)
			apply.patterns = lappend(apply.patterns, ((char **) lfirst(lc))[0]);

		/*
		 * the rows it writes, kept for the tests when the table passed them
		 * all before (ChangesMaintainStoredState): only those changed; on
		 * the appended path, the rows it inserts, made first
		 */
		if ((tested && !algebraic) || appended)
		{
			apply.written = SqlCreateWorkTable(psprintf("%s_written", base), SqlColumnDefinitions(bound->columns),
											   owner);
		}
		/*
		 * Only old images of the driving table, which alone changed: every
		 * key's driving row is gone (a row of its key there now, in this
		 * build's snapshot, was inserted since the last build's, and its
		 * new image would be in the delta), so its rows are deleted and
		 * none is computed.
		 */
		apply.gone = !algebraic && !plan->grouped && driving != NULL && plan->driving_unique &&
			list_length(changed) == 1 && driving->olds == driving->rows && driving->table->branch == 0;
		if (appended)
		{
			AnalyzedModel added = {.columns = bound->columns};

			added.query = ChangesDeltaQuery(plan->query, driving->table, driving->copy);
			(void) BuildFillHeapBound(apply.written, &added,
									  psprintf("the rows model \"%s\" adds", model->name), NIL, NIL);
			apply.appended = true;
		}
		why = maintain_apply(&apply);
		checked_bad = why != NULL;
		if (why == NULL && appended && !tested)
		{
			drop_work_table(apply.written);
			apply.written = InvalidOid;
		}
	}
	drop_work_table(k);
	if (why != NULL)
		drop_work_table(apply.written);
	foreach(lc, copies)
		drop_work_table(lfirst_oid(lc));
	if (why != NULL)
	{
		/* a failed check is rebuilt whole even under maintain => 'incremental' */
		cand = rebuild_whole(model, why, checked_bad);
		cand->deltas = now;		/* as it was before the first read */
		return cand;
	}
	cand = palloc0(sizeof(Candidate));
	cand->model = model;
	cand->published = published;
	cand->columns = bound->columns;
	cand->in_place = true;
	cand->written = apply.written;
	cand->delta = true;			/* nothing to publish: the rows are in */
	cand->rows = apply.deleted + apply.updated + apply.inserted;
	cand->deltas = now;
	cand->method = psprintf("incremental: %s of %s rows, %s %s%s%s %s from %s delta row%s%s%s%s",
							format_count(apply.updated + apply.inserted),
							format_rows(Max(table_rows - apply.deleted + apply.inserted, 0)),
							format_count(nkeys),
							plan->grouped ? "group" : "key", nkeys == 1 ? "" : "s",
							plan->grouped ? "" : psprintf(" of %s", SqlRelationName(plan->driving)),
							appended ? (patterns.rows == NIL ? "added" : "added or recomputed") :
							apply.gone ? "deleted" : !algebraic ? "recomputed" :
							apply.counted != NULL ? "updated in place" : "added to",
							format_count(ndelta), ndelta == 1 ? "" : "s",
							changed != NIL ? " of " : "", changed != NIL ? changed_names(changed) : "",
							estimate);
	return cand;
}

/*
 * maintain_pinned
 *		maintain_from_deltas under a pinned snapshot.  The maintained build
 *		reads one state of the database: the deltas, the keys they map to
 *		through the other tables, and those keys' rows, all under the
 *		snapshot of its first read, the one stored for the next build.  A
 *		later snapshot could miss a key: a line deleted while another
 *		transaction deletes its order joins nothing, and the next build's
 *		delta of the order joins the line no more.  tested: the model's
 *		tests all passed at its last build (ChangesMaintainStoredState).
 */
static Candidate *
maintain_pinned(ModelDef *model, AnalyzedModel *bound, MaintainPlan *plan, bool tested,
				bool reread, const char *snapshot, char *now)
{
	Candidate  *volatile cand = NULL;

	ListCell   *lc;

	(void) BindPinSnapshot();
	PG_TRY();
	{
		/*
		 * A trim that found the model out of the class (a function it calls
		 * made STABLE meanwhile) may have forgotten the state read before
		 * the pin, and deleted rows the build would need and its snapshot no
		 * longer sees; once the state is found kept now, that trim has not
		 * committed before the pin, and the pinned snapshot still sees the
		 * rows it deletes.  Not those it truncates: TRUNCATE is not MVCC
		 * safe.  The logs are locked first, so that none is truncated from
		 * then on (a trimmer truncates only what it can lock at once).
		 */
		foreach(lc, plan->tables)
		{
			Oid			log = ChangesDeltaLog(((MaintainTable *) lfirst(lc))->relid);

			if (OidIsValid(log))
				LockRelationOid(log, AccessShareLock);
		}
		if (!ChangesMaintainStateKept(model, snapshot))
		{
			cand = rebuild_whole(model, "a trim forgot the state of capture it started from", true);
			cand->deltas = now;
		}
		else
			cand = maintain_from_deltas(model, bound, plan, tested, reread, snapshot, now);
	}
	PG_FINALLY();
	{
		BindUnpinSnapshot();
	}
	PG_END_TRY();
	return cand;
}

/* ChangesMaintainCandidate, its plan made. */
static Candidate *
maintain_planned(ModelDef *model, AnalyzedModel *bound, MaintainPlan *plan,
				 List *redirect_from, bool change_aware, bool *stateless)
{
	char	   *snapshot = NULL;
	char	   *deltas = NULL;
	char	   *now;
	bool		reread;
	bool		tested;
	bool		unseen;
	Candidate  *cand = NULL;
	const char *why = NULL;
	ListCell   *lc;

	/* not captured (a model's table, an untracked table): a table model as any other */
	why = ChangesMaintainUncaptured(plan, true);
	if (why != NULL)
		return model->maintain == MAINTAIN_INCREMENTAL ? rebuild_whole(model, why, false) : NULL;

	/*
	 * A table below one it reads has no delta triggers: a partition made
	 * or attached since (PostgreSQL gives a new partition no statement
	 * triggers).  Captured now, before this build's first read: the
	 * triggers wait for the writers of those tables, whose rows that read
	 * then sees; the state differs from the stored one, so the build is
	 * whole, and the next one starts from it.
	 */
	now = ChangesMaintainTablesState(plan, NIL, NIL);
	if (now == NULL)
	{
		ChangesCaptureTables(plan->tables);
		now = ChangesMaintainTablesState(plan, NIL, NIL);
	}

	/*
	 * Under a transaction's snapshot (REPEATABLE READ, SERIALIZABLE) older
	 * than the state of capture (a delta trigger made by this build or by
	 * another run since, a TRUNCATE, a partition detached, a column
	 * renamed): a write between the two may be neither read nor logged.
	 * This build is whole and stores no state; the next, in a later
	 * transaction, is whole too.
	 */
	if (IsolationUsesXactSnapshot())
	{
		foreach(lc, plan->tables)
		{
			if (!ChangesDeltaStateSeen(((MaintainTable *) lfirst(lc))->relid, GetTransactionSnapshot()))
			{
				*stateless = true;
				return rebuild_whole(model, "the state of capture of its tables is newer than this transaction's snapshot", true);
			}
		}
	}
	if (!change_aware)
	{
		/* rebuilt whole as asked: no message, the capture state recorded */
		cand = rebuild_whole(model, "a forced run or a full refresh", true);
		cand->method = NULL;
		return cand;
	}
	if (!ChangesMaintainStoredState(model, &snapshot, &deltas, &reread, &tested, &unseen) || snapshot == NULL)
		return rebuild_whole(model, "no build of this version to start from", true);
	/* another run built it since this transaction's snapshot: its rows are not those it sees */
	if (unseen)
	{
		*stateless = true;
		return rebuild_whole(model, "another run built it after this transaction's snapshot", true);
	}
	/* a model's table rebuilt whole: its rows are new storage, not logged */
	foreach(lc, plan->tables)
	{
		MaintainTable *table = lfirst(lc);

		if (list_member_oid(redirect_from, table->relid))
			return rebuild_whole(model, psprintf("its input %s was rebuilt by this run",
												 SqlRelationName(table->relid)), false);
	}
	/* the last build applied some of the rows read again: no adding them again */
	if (reread)
	{
		plan->combine = NIL;
		plan->subtract = false;
	}
	if (now == NULL)
		return rebuild_whole(model, "the deltas of its tables are not captured", false);
	if (deltas == NULL || strcmp(deltas, now) != 0)
	{
		why = ChangesMaintainViewsRedefined(plan, deltas);
		if (why != NULL)
			return rebuild_whole(model, why, true);
		if (deltas == NULL)
			return rebuild_whole(model, "its last build stored no state of capture to start from", true);
		return rebuild_whole(model, psprintf("%s truncated, rewritten, altered or captured anew since its last build",
											 list_length(plan->tables) == 1 ?
											 psprintf("%s was", SqlRelationName(((MaintainTable *) linitial(plan->tables))->relid)) :
											 "one of its tables was"), false);
	}

	/*
	 * Its tables locked to the end of the run (the build reads them
	 * anyway): no NOT NULL the plan relied on can be dropped under it.
	 * One dropped and a NULL written since the plan was made are seen
	 * now: the plan's columns never NULL are read again.
	 */
	foreach(lc, plan->tables)
		LockRelationOid(((MaintainTable *) lfirst(lc))->relid, AccessShareLock);
	if (plan->subtract)
	{
		MaintainPlan again;

		plan->subtract = ChangesMaintainPlan(model, bound->query, &again) == NULL && again.subtract;
	}
	return maintain_pinned(model, bound, plan, tested, reread, snapshot, now);
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
 *		step's subtransaction.  The Candidate keeps the plan: the capture
 *		state of a whole rebuild is read by it (ChangesMaintainState).
 */
Candidate *
ChangesMaintainCandidate(ModelDef *model, AnalyzedModel *bound, List *redirect_from,
						 List *redirect_to, bool change_aware)
{
	MaintainPlan *plan = palloc(sizeof(MaintainPlan));
	const char *why;
	Candidate  *cand;
	bool		stateless = false;

	/* out of the class: 'incremental' was in it when defined, a view it reads changed since */
	why = ChangesMaintainPlan(model, bound->query, plan);
	if (why != NULL)
		return model->maintain == MAINTAIN_INCREMENTAL && change_aware ? rebuild_whole(model, why, false) : NULL;
	cand = maintain_planned(model, bound, plan, redirect_from, change_aware, &stateless);
	if (cand != NULL && !stateless)
		cand->maintain_plan = plan;
	return cand;
}

