/*-------------------------------------------------------------------------
 *
 * changes_apply.c
 *	  A maintained build (changes_maintain.c) applied in place, and the
 *	  choice between it and a full rebuild by their estimated costs.
 *
 * Applying in place.  The rows of the affected keys are deleted from the
 * published table and the model's rows for those keys inserted, with
 * ordinary DML as the model owner, inside the step's subtransaction: as
 * an incremental model's delta (build_incremental.c), nobody sees them
 * before the run commits (MVCC: a reader keeps the old rows, then sees
 * the new ones, never a mix), downstream models of the run read the new
 * state, and a failure, a blocking test's included, rolls the
 * subtransaction back and leaves the table as it was.  The tests then
 * read the published table itself: they must see every row, not only
 * those recomputed.  Nothing is copied, so the cost is the keys' rows,
 * not the table's.
 *
 * The keys are matched per pattern of NULL key columns (K holds, for
 * each pattern, the keys whose NULL columns are those): a NULL column by
 * IS NULL, the others with the built-in equality.  The model's rows for
 * them are read through its binding with each non-NULL key column
 * filtered by = ANY of the keys' values, which the planner pushes into
 * the grouped query and down to the tables' indexes, then matched key by
 * key.
 *
 * The choice (ChangesMaintainWeigh), made once the keys are known: the
 * rows a maintained build would write (each key's rows out, its new rows
 * in) times a cost per row written, against the model's last full build,
 * both read from the ledger (medallion.run_models: its steps' durations,
 * rows and messages).  See docs/incremental-maintenance.md, "How the
 * choice is made".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "sqltext.h"
#include "trust.h"

/*
 * A maintained build finds its keys' rows in the published table through
 * an index on the key columns; a table of this many rows or more without
 * one gets one (BuildEnsureIndex), made once: later builds keep it.  Below
 * it a scan costs less than making and keeping the index.
 */
#define MAINTAIN_INDEX_ROWS		10000

/*
 * Statistics: ANALYZE runs after an apply that wrote more rows than this
 * share of the table.  Below it the planner's estimates of the table
 * barely move (it is autovacuum's analyze_scale_factor, which then
 * analyzes it after the commit anyway), and an ANALYZE, a sample of the
 * whole table, would cost more than the apply.
 */
#define MAINTAIN_ANALYZE_SHARE	0.1

/*
 * The cost of a row written by a maintained build, before the model has
 * past incremental builds to measure it by: this many times the cost of a
 * row of its last full build.  A key's rows are found through indexes,
 * one key at a time, and written twice (out, then in), where a full build
 * reads and writes in one sequential pass.
 */
#define MAINTAIN_PRIOR_ROW_COST	2.0

/*
 * The cost of a group the algebraic path writes (ChangesMaintainWeighAdded),
 * in rows of the model's full build: found through the index on its key
 * and updated in place, or probed for and inserted, where a full build
 * reads or writes a row in one pass.  bench/maintain_matrix.sh measured 17
 * to 35 us a group where the full build spent 1.2 us a row.
 */
#define MAINTAIN_GROUP_WRITE_COST	16.0

/*
 * The cost of a delta row on the algebraic path, in rows of the model's
 * full build: copied out of the log, then read by the model's query (and
 * its joins' index probes); with old images, grouped by the sign too and
 * summed again per group.  bench/maintain_matrix.sh (300,000 lines)
 * measured about 1 us a new row (50% new lines) and 2 us a row of an
 * update (20% of the lines updated) where the full build spent 0.36 to
 * 0.58 us a row read or written.
 */
#define MAINTAIN_NEW_ROW_COST		2.0
#define MAINTAIN_OLD_ROW_COST		4.0

/* How many of the model's past incremental builds its cost per row is measured on. */
#define MAINTAIN_PAST_BUILDS	5

/*
 * Past builds that wrote fewer rows than this between them (those longer
 * than the shortest) do not measure a cost per row: their durations are
 * fixed costs and noise, which divided by a few rows give any rate.
 */
#define MAINTAIN_MEASURED_ROWS	1000.0

/*
 * medallion.maintain_weighed_ms: a full build shorter than this is not
 * weighed against.  The durations of such builds are mostly fixed costs
 * and noise, and either choice costs milliseconds: the change-ratio
 * guards decide alone.
 */
#define MAINTAIN_DEFAULT_WEIGHED_MS	50
static int	maintain_weighed_ms = MAINTAIN_DEFAULT_WEIGHED_MS;

/*
 * ChangesApplyInit
 *		Define the configuration parameters of the choice.
 */
void
ChangesApplyInit(void)
{
	DefineCustomIntVariable("medallion.maintain_weighed_ms",
							"Sets the shortest full build of a maintained model that a run weighs a maintained build against.",
							"Below it, the share of the table changed decides alone: the durations of such builds are mostly fixed costs.",
							&maintain_weighed_ms, MAINTAIN_DEFAULT_WEIGHED_MS, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
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
 * key_index
 *		The key column (of key_names) that is the first column of a valid
 *		index of published, with no predicate, or NULL: the rows of the keys
 *		are found through it (ChangesMaintainApply).
 */
static const char *
key_index(Oid published, List *key_names)
{
	Relation	rel = table_open(published, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	const char *found = NULL;
	ListCell   *lc;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;

		if (!HeapTupleIsValid(tup))
			continue;
		index = (Form_pg_index) GETSTRUCT(tup);
		if (index->indisvalid && index->indnatts > 0 && index->indkey.values[0] != 0 &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		{
			char	   *first = get_attname(published, index->indkey.values[0], false);
			ListCell   *lk;

			foreach(lk, key_names)
			{
				if (strcmp(lfirst(lk), first) == 0)
					found = lfirst(lk);
			}
		}
		ReleaseSysCache(tup);
		if (found != NULL)
			break;
	}
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * ChangesEnsureKeyIndex
 *		key_index, after making an index on the key columns of model's
 *		published table when it has none and has table_rows rows or more
 *		(MAINTAIN_INDEX_ROWS), and each key column's type a built-in
 *		default btree operator class.  The unique tests of a maintained
 *		build look their values up through it too (tests_run.c).
 */
const char *
ChangesEnsureKeyIndex(ModelDef *model, Oid published, List *key_names, double table_rows)
{
	const char *found = key_index(published, key_names);
	ListCell   *lc;

	if (found != NULL || table_rows < MAINTAIN_INDEX_ROWS)
		return found;
	foreach(lc, key_names)
	{
		Oid			type = get_atttype(published, get_attnum(published, lfirst(lc)));
		Oid			opclass = GetDefaultOpClass(type, BTREE_AM_OID);

		/* a built-in one: building the index runs its comparisons as the owner */
		if (!OidIsValid(opclass) || opclass >= FirstNormalObjectId)
			return NULL;
	}
	BuildEnsureIndex(model, published, key_names);
	return key_index(published, key_names);
}

/*
 * key_filter
 *		"AND q.a = ANY (ARRAY(SELECT DISTINCT k.a FROM keys k WHERE ...))
 *		AND q.b IS NULL ...": each non-NULL key column of a pattern filtered
 *		by the list of its values, which the planner pushes down to an
 *		index (of the model's tables, into its grouped query; of the
 *		published table); with only, that column alone.  Only where an
 *		index takes it: a list read without one is compared with each row,
 *		element by element.
 */
static char *
key_filter(List *key_names, const char *pattern, const char *keysname, const char *q,
		   const char *only)
{
	StringInfoData pushed;
	ListCell   *ln;

	initStringInfo(&pushed);
	foreach(ln, key_names)
	{
		const char *name = quote_identifier(lfirst(ln));

		if (only != NULL && strcmp(only, lfirst(ln)) != 0)
			continue;
		if (pattern[foreach_current_index(ln)] == '1')
			appendStringInfo(&pushed, " AND %s.%s IS NULL", q, name);
		else
			appendStringInfo(&pushed, " AND %s.%s OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT DISTINCT k.%s FROM %s k WHERE %s))",
							 q, name, name, keysname, pattern_keys(key_names, pattern, "k"));
	}
	return pushed.data;
}

/*
 * Fresh statistics of published only when written rows of its about
 * table_rows are enough to move them (MAINTAIN_ANALYZE_SHARE): downstream
 * models of the run are planned with them.
 */
static void
analyze_if_moved(Oid published, int64 written, double table_rows)
{
	if (build_analyze && written > MAINTAIN_ANALYZE_SHARE * Max(table_rows, 0))
		SqlUtility(psprintf("ANALYZE %s", SqlRelationName(published)));
}

/*
 * ChangesMaintainApply
 *		Replace, in model's published table (published), the rows of the
 *		keys in table keys (columns key_names; patterns: the patterns of
 *		NULL key columns among them, '0'/'1' per column) by the model's
 *		rows for them, as the model owner (see the file header); table_rows
 *		is about how many rows the table had; gone: no key has rows now
 *		(its driving row deleted), only deleted.  The rows deleted and
 *		inserted go into *deleted and *inserted; with written valid, the
 *		rows inserted go into that table too.  Nothing any role but
 *		those the owner trusts can change runs: the table's triggers,
 *		defaults, constraints ... are checked first (TrustCheckRelation,
 *		which locks out other writers until the run ends).
 */
void
ChangesMaintainApply(ModelDef *model, Oid published, List *columns, Oid keys, List *key_names,
					 List *patterns, double table_rows, bool gone, Oid written, int64 *deleted,
					 int64 *inserted)
{
	char	   *target_name = SqlRelationName(published);
	char	   *keysname = SqlRelationName(keys);
	char	   *target;
	char	   *source;
	char	   *insert;
	const char *indexed;
	ListCell   *lc;

	TrustCheckRelation(published, GetUserId(), psprintf("maintain model \"%s\" in place", model->name));
	indexed = ChangesEnsureKeyIndex(model, published, key_names, table_rows);
	SqlColumnLists(published, columns, &target, &source);
	*deleted = 0;
	*inserted = 0;
	foreach(lc, patterns)
	{
		const char *pattern = lfirst(lc);

		/*
		 * the rows of these keys go: through an index of the table on a key
		 * column when it has one (the planner, which prices the table's
		 * pages as read from disk, would rather scan it all), matched key
		 * by key
		 */
		*deleted += BindExecute(psprintf("DELETE FROM %s c WHERE EXISTS (SELECT FROM %s k WHERE %s AND %s)%s",
										 target_name, keysname, pattern_keys(key_names, pattern, "k"),
										 pattern_match(key_names, pattern, "k", "c"),
										 indexed != NULL ? key_filter(key_names, pattern, keysname, "c", indexed) : ""),
								0, NULL, NULL, NULL, NIL, NIL, None_Receiver);

		/*
		 * the model's rows for them come in: each key column filtered by a
		 * value list (pushed into the grouped query, to the tables'
		 * indexes), then matched key by key
		 */
		if (gone)
			continue;
		insert = psprintf("INSERT INTO %s (%s) SELECT %s FROM %s q WHERE true%s "
						  "AND EXISTS (SELECT FROM %s k WHERE %s AND %s)",
						  target_name, target, source,
						  BindRelationSql(model->name),
						  key_filter(key_names, pattern, keysname, "q", NULL),
						  keysname, pattern_keys(key_names, pattern, "k"),
						  pattern_match(key_names, pattern, "k", "q"));
		/* and into written too, for the tests */
		if (OidIsValid(written))
			insert = psprintf("WITH w AS (%s RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM w",
							  insert, target, SqlRelationName(written), target, target);
		*inserted += BindExecute(insert, 0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	}

	analyze_if_moved(published, *deleted + *inserted, table_rows);
}

/*
 * ChangesMaintainAppend
 *		Insert into model's published table (published) the rows of table
 *		rows (the model's columns), all of keys it has no row of
 *		(changes_maintain.c, the appended path), as the model owner, after
 *		the checks of ChangesMaintainApply; *inserted counts them.
 */
void
ChangesMaintainAppend(ModelDef *model, Oid published, List *columns, Oid rows, List *key_names,
					  double table_rows, int64 *inserted)
{
	char	   *target;
	char	   *source;

	TrustCheckRelation(published, GetUserId(), psprintf("maintain model \"%s\" in place", model->name));
	/* the index a later build's deletes use, made when the table grows past its size */
	(void) ChangesEnsureKeyIndex(model, published, key_names, table_rows);
	SqlColumnLists(published, columns, &target, &source);
	*inserted = BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s q", SqlRelationName(published),
									 target, source, SqlRelationName(rows)),
							0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	analyze_if_moved(published, *inserted, table_rows);
}

/* The value of column name of c combined with a's (a MaintainCombine). */
static char *
combined(const char *name, MaintainCombine how)
{
	const char *col = quote_identifier(name);

	switch (how)
	{
		case MAINTAIN_COMBINE_ADD:
			return psprintf("c.%s OPERATOR(pg_catalog.+) a.%s", col, col);
		case MAINTAIN_COMBINE_SUM:
			return psprintf("CASE WHEN a.%s IS NULL THEN c.%s WHEN c.%s IS NULL THEN a.%s "
							"ELSE c.%s OPERATOR(pg_catalog.+) a.%s END", col, col, col, col, col, col);
		case MAINTAIN_COMBINE_MIN:
			return psprintf("LEAST(c.%s, a.%s)", col, col);
		case MAINTAIN_COMBINE_MAX:
			return psprintf("GREATEST(c.%s, a.%s)", col, col);
		case MAINTAIN_COMBINE_KEY:
			break;
	}
	elog(ERROR, "unexpected way to combine column \"%s\"", name);
	return NULL;
}

/*
 * ChangesMaintainCombine
 *		The algebraic path of a GROUP BY (analyze_maintain.c, combine): the
 *		aggregates of the delta of each group, in table sums (the model's
 *		columns, changes_algebraic.c; patterns: its patterns of NULL key
 *		columns), added to the group's row in model's published table, and
 *		the groups it did not have inserted; as the model owner, after the
 *		checks of ChangesMaintainApply.  When only rows came in (no old
 *		image in the delta), a group's count and sum grow by the new
 *		rows', its min and max are the least and greatest of the two;
 *		LEAST and GREATEST skip a NULL as min and max do.  With old images
 *		(counted: the column counting every row of a group), the sums hold
 *		changes, negative ones too, of counts and sums never NULL: a group
 *		whose count comes to zero is deleted, one the table lacks is
 *		inserted only when its count is above zero.  The rows deleted,
 *		updated and inserted go into *deleted, *updated and *inserted.
 */
void
ChangesMaintainCombine(ModelDef *model, Oid published, List *columns, Oid sums, List *key_names,
					   List *combine, const char *counted, List *patterns, double table_rows,
					   int64 *deleted, int64 *updated, int64 *inserted)
{
	char	   *target_name = SqlRelationName(published);
	char	   *sumsname = SqlRelationName(sums);
	char	   *target;
	char	   *source;
	StringInfoData set;
	const char *indexed;
	ListCell   *lc;

	if (list_length(combine) != list_length(columns))
		elog(ERROR, "model \"%s\" has %d columns, its plan says how to combine %d",
			 model->name, list_length(columns), list_length(combine));
	TrustCheckRelation(published, GetUserId(), psprintf("maintain model \"%s\" in place", model->name));
	indexed = ChangesEnsureKeyIndex(model, published, key_names, table_rows);
	SqlColumnLists(published, columns, &target, &source);
	initStringInfo(&set);
	foreach(lc, columns)
	{
		const char *name = ((ModelColumn *) lfirst(lc))->name;
		MaintainCombine how = list_nth_int(combine, foreach_current_index(lc));

		if (how != MAINTAIN_COMBINE_KEY)
			appendStringInfo(&set, "%s%s = %s", set.len > 0 ? ", " : "", quote_identifier(name),
							 combined(name, how));
	}
	*deleted = 0;
	*updated = 0;
	*inserted = 0;
	foreach(lc, patterns)
	{
		const char *pattern = lfirst(lc);
		const char *filter = indexed != NULL ? key_filter(key_names, pattern, sumsname, "c", indexed) : "";
		const char *gained = counted == NULL ? "" :
			psprintf(" AND q.%s OPERATOR(pg_catalog.>) 0", quote_identifier(counted));

		/* the groups the table has: one row each, found as ChangesMaintainApply finds them */
		if (set.len > 0)
			*updated += BindExecute(psprintf("UPDATE %s c SET %s FROM %s a WHERE %s AND %s%s",
											 target_name, set.data, sumsname,
											 pattern_keys(key_names, pattern, "a"),
											 pattern_match(key_names, pattern, "a", "c"), filter),
									0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
		else
			*updated += BindCount(psprintf("SELECT pg_catalog.count(*) FROM %s c, %s a WHERE %s AND %s%s",
										   target_name, sumsname,
										   pattern_keys(key_names, pattern, "a"),
										   pattern_match(key_names, pattern, "a", "c"), filter));
		/* the others come in as the new rows made them */
		*inserted += BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s q WHERE %s%s "
										  "AND NOT EXISTS (SELECT FROM %s c WHERE %s%s)",
										  target_name, target, source, sumsname,
										  pattern_keys(key_names, pattern, "q"), gained,
										  target_name, pattern_match(key_names, pattern, "q", "c"), filter),
								 0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
		/* the groups whose every row went */
		if (counted != NULL)
			*deleted += BindExecute(psprintf("DELETE FROM %s c USING %s a WHERE %s AND %s%s "
											 "AND c.%s OPERATOR(pg_catalog.=) 0",
											 target_name, sumsname,
											 pattern_keys(key_names, pattern, "a"),
											 pattern_match(key_names, pattern, "a", "c"), filter,
											 quote_identifier(counted)),
									0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	}
	analyze_if_moved(published, *deleted + *updated + *inserted, table_rows);
}

/*
 * ChangesMaintainWeighEarly
 *		Before a maintained build copies anything: whether the least it
 *		could cost, for n delta rows (olds of them old images) counted in
 *		the log of one of its tables, is within model's full build (true
 *		too when there is nothing to weigh).  A GROUP BY whose groups take
 *		any change in place (plan->subtract) copies each delta row and
 *		reads it in its query of the sums, which ChangesMaintainWeighAdded
 *		prices with no group written; a join keyed by its driving table,
 *		this delta's (driving_rows its rows, else -1), recomputes at least
 *		half as many keys (an update's two images are one key's).  Deciding
 *		after the copy cost 1.3 to 2.4 times the rebuild at 20% of the
 *		lines updated (bench/maintain_matrix.sh).  With cost NULL: only
 *		whether model's full build is long enough to weigh at all.
 */
bool
ChangesMaintainWeighEarly(ModelDef *model, MaintainPlan *plan, int64 n, int64 olds, double input_rows,
						  double table_rows, double driving_rows, MaintainCost *cost)
{
	MaintainCost probe = {-1, -1, false};
	bool		cheaper = true;

	if (cost == NULL)
	{
		(void) ChangesMaintainWeighAdded(model, 0, 0, 0, 0, 0, &probe);
		return probe.weighed;
	}
	if (plan->subtract)
		cheaper = ChangesMaintainWeighAdded(model, n, olds, 0, input_rows, table_rows, cost);
	if (cheaper && !plan->grouped && driving_rows >= 0)
		cheaper = ChangesMaintainWeigh(model, (n + 1) / 2, 0, driving_rows <= 0 ? 1.0 : table_rows / driving_rows,
									   table_rows, cost);
	return cheaper;
}

/* A duration for a message: "850.0 ms", "10.8 s", "3.2 min". */
char *
ChangesFormatMs(double ms)
{
	if (ms < 1000.0)
		return psprintf("%.1f ms", ms);
	if (ms < 600000.0)
		return psprintf("%.1f s", ms / 1000.0);
	return psprintf("%.1f min", ms / 60000.0);
}

/*
 * past_builds
 *		The model's last full build (its duration into *full_ms, -1 when the
 *		ledger has none) and, into ms[] and rows[], the durations and rows
 *		written of up to MAINTAIN_PAST_BUILDS of its last incremental builds
 *		that recomputed keys (not those of the algebraic path, whose cost
 *		per row is another), newest first; returns how many.  Published successful steps only; a
 *		maintained build's message starts with "incremental:" (ChangesMaintainCandidate),
 *		every other build of a table model is whole.  Read as the extension
 *		owner: the ledger is not the model owner's.
 */
static int
past_builds(ModelDef *model, double *full_ms, double *ms, double *rows)
{
	CatalogSession session;
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(model->name), Int32GetDatum(MAINTAIN_PAST_BUILDS)};
	int			n = 0;

	*full_ms = -1;
	CatalogEnter(&session);
	if (CatalogQuery("SELECT r.ms::pg_catalog.float8, r.rows::pg_catalog.float8, "
					 "       r.message IS NOT NULL AND r.message LIKE 'incremental:%' "
					 "  FROM ((SELECT * FROM medallion.run_models f "
					 "          WHERE f.model = $1 AND f.status = 'success' AND f.published "
					 "            AND f.ms IS NOT NULL "
					 "            AND (f.message IS NULL OR f.message NOT LIKE 'incremental:%') "
					 "          ORDER BY f.run_id DESC LIMIT 1) "
					 "        UNION ALL "
					 "        (SELECT * FROM medallion.run_models i "
					 "          WHERE i.model = $1 AND i.status = 'success' AND i.published "
					 "            AND i.ms IS NOT NULL AND i.rows IS NOT NULL AND i.message LIKE 'incremental:%' "
					 "            AND i.message NOT LIKE '% added to from %' "
					 "            AND i.message NOT LIKE '% updated in place from %' "
					 "          ORDER BY i.run_id DESC LIMIT $2)) r",
					 2, argtypes, values, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the past builds of model \"%s\"", model->name);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		double		one_ms = DatumGetFloat8(SPI_getbinval(tuple, desc, 1, &isnull));
		double		one_rows;
		bool		incremental = DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull));

		one_rows = DatumGetFloat8(SPI_getbinval(tuple, desc, 2, &isnull));
		if (!incremental)
			*full_ms = one_ms;
		else if (n < MAINTAIN_PAST_BUILDS)
		{
			ms[n] = one_ms;
			rows[n] = isnull ? 0 : one_rows;
			n++;
		}
	}
	CatalogLeave(&session);
	return n;
}

/*
 * ChangesMaintainWeigh
 *		Estimate what maintaining model would cost now, against its last
 *		full build: nkeys keys to recompute, rows_per_key rows of the
 *		model each, in a table of table_rows rows; added of those keys
 *		only have their rows added (the appended path: none deleted).
 *		Fills *cost; returns
 *		true when the estimate is no more than the full build's duration,
 *		or when there is nothing to weigh (cost->weighed false: no full
 *		build in the ledger, or one too short to weigh, and the ratio
 *		guards decide).
 *
 * The rows written W = (2 * (nkeys - added) + added) * rows_per_key (each
 * key's rows out, its new rows in; an added key's only in).  The estimate is fixed + rate * W.  From the model's
 * past incremental builds (ms_i, W_i): fixed is the shortest of them (a
 * build's cost that does not grow with its rows: the delta read, the
 * keys, the statements), rate what the others took beyond it per row
 * written.  Without two of them to tell the two apart, or when those
 * longer than the shortest wrote too few rows to measure
 * (MAINTAIN_MEASURED_ROWS), fixed is still the shortest (0 without any,
 * at most the full build's duration) and rate MAINTAIN_PRIOR_ROW_COST
 * times the full build's cost per row.
 */
bool
ChangesMaintainWeigh(ModelDef *model, int64 nkeys, int64 added, double rows_per_key, double table_rows,
					 MaintainCost *cost)
{
	double		ms[MAINTAIN_PAST_BUILDS];
	double		rows[MAINTAIN_PAST_BUILDS];
	int			n = past_builds(model, &cost->full_ms, ms, rows);
	double		written = (2.0 * (double) (nkeys - added) + (double) added) * Max(rows_per_key, 1.0);
	double		fixed = 0;
	double		rate = -1;

	cost->estimate_ms = -1;
	cost->weighed = false;
	if (cost->full_ms < 0)
		return true;
	for (int i = 0; i < n; i++)
		fixed = i == 0 ? ms[0] : Min(fixed, ms[i]);
	if (n >= 2)
	{
		double		beyond = 0;
		double		counted = 0;

		for (int i = 0; i < n; i++)
		{
			beyond += ms[i] - fixed;
			counted += ms[i] > fixed ? rows[i] : 0;
		}
		if (counted >= MAINTAIN_MEASURED_ROWS && beyond > 0)
			rate = beyond / counted;
	}
	if (rate < 0)
	{
		fixed = Min(fixed, cost->full_ms);
		rate = MAINTAIN_PRIOR_ROW_COST * cost->full_ms / Max(table_rows, 1.0);
	}
	cost->estimate_ms = fixed + rate * written;
	cost->weighed = cost->full_ms >= maintain_weighed_ms;
	return !cost->weighed || cost->estimate_ms <= cost->full_ms;
}

/*
 * ChangesMaintainSpent
 *		When cost's estimate is above the full build's but what is left of
 *		it, less what the build has spent since started (the deltas copied,
 *		the keys found: part of the estimate, no longer a cost of either
 *		way), is not: a note for the step's message (", X of it spent"),
 *		and the build goes on.  NULL when the full build is cheaper still.
 */
char *
ChangesMaintainSpent(MaintainCost *cost, instr_time started)
{
	instr_time	spent;

	if (!cost->weighed)
		return NULL;
	INSTR_TIME_SET_CURRENT(spent);
	INSTR_TIME_SUBTRACT(spent, started);
	if (cost->estimate_ms - INSTR_TIME_GET_MILLISEC(spent) > cost->full_ms)
		return NULL;
	return psprintf(", %s of it spent", ChangesFormatMs(INSTR_TIME_GET_MILLISEC(spent)));
}

/*
 * ChangesMaintainWeighAdded
 *		As ChangesMaintainWeigh, for the algebraic path: ndelta delta rows
 *		read (nolds of them old images), ngroups groups of a table of
 *		table_rows rows written, where the full build reads input_rows rows
 *		(the tables' reltuples).  The full build's cost per row it reads or
 *		writes, times MAINTAIN_NEW_ROW_COST or MAINTAIN_OLD_ROW_COST, prices
 *		a delta row, and times MAINTAIN_GROUP_WRITE_COST a group written.  The model's
 *		past builds are not used: the paths it took before cost otherwise
 *		per row.
 */
bool
ChangesMaintainWeighAdded(ModelDef *model, int64 ndelta, int64 nolds, int64 ngroups, double input_rows,
						  double table_rows, MaintainCost *cost)
{
	double		ms[MAINTAIN_PAST_BUILDS];
	double		rows[MAINTAIN_PAST_BUILDS];
	double		per_row;

	(void) past_builds(model, &cost->full_ms, ms, rows);
	cost->estimate_ms = -1;
	cost->weighed = false;
	if (cost->full_ms < 0)
		return true;
	per_row = cost->full_ms / Max(input_rows + Max(table_rows, 0), 1.0);
	cost->estimate_ms = per_row * (MAINTAIN_NEW_ROW_COST * (double) (ndelta - nolds) +
								   MAINTAIN_OLD_ROW_COST * (double) nolds +
								   MAINTAIN_GROUP_WRITE_COST * (double) ngroups);
	cost->weighed = cost->full_ms >= maintain_weighed_ms;
	return !cost->weighed || cost->estimate_ms <= cost->full_ms;
}
