/*-------------------------------------------------------------------------
 *
 * changes_verify.c
 *	  The check of a maintained build (medallion.maintain_verify): after
 *	  the keys a change touched are recomputed, the result is compared
 *	  with the model's query, over the whole table (on) or over a sample
 *	  of keys (sample).  A difference is a bug of maintenance; the caller
 *	  logs it and rebuilds the model whole, so what is published is right
 *	  either way.
 *
 * The comparison is of multisets (EXCEPT ALL both ways) of the model's
 * columns, read through its binding (never its text), as the model owner.
 * Columns of type real or double precision are compared as real: a sum
 * or an average of floats depends on the order the rows are added, and a
 * recomputed group may add them in another order than a rebuild would.
 * A column whose value the order of the rows decides (string_agg without
 * ORDER BY, row_number) is not compared: the query itself may give
 * another at each run.  A type without an equality is compared as text.
 *
 * A sample is up to VERIFY_SAMPLE_KEYS keys among those recomputed (did
 * the recompute give the query's rows?) and as many keys of the table
 * chosen at random (were the keys left alone really untouched?).  A key
 * is matched column by column with the built-in equality, NULL matching
 * NULL, as the maintained build matches them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "analyze.h"
#include "bind.h"
#include "changes.h"
#include "medallion.h"
#include "scope.h"
#include "sqltext.h"

/* At most this many keys of each kind in a sample. */
#define VERIFY_SAMPLE_KEYS	100

int			maintain_verify = MAINTAIN_VERIFY_OFF;

static const struct config_enum_entry verify_options[] = {
	{"off", MAINTAIN_VERIFY_OFF, false},
	{"sample", MAINTAIN_VERIFY_SAMPLE, false},
	{"on", MAINTAIN_VERIFY_ON, false},
	{NULL, 0, false}
};

/*
 * ChangesVerifyInit
 *		Define medallion.maintain_verify.
 */
void
ChangesVerifyInit(void)
{
	DefineCustomEnumVariable("medallion.maintain_verify",
							 "Checks each maintained build against the model's query.",
							 "off: no check; sample: the rows of some recomputed keys and of some keys "
							 "left alone are compared with the query's; on: the whole table is. "
							 "On a difference the model is rebuilt whole and a warning says so.",
							 &maintain_verify, MAINTAIN_VERIFY_OFF, verify_options, PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/*
 * Does expr (an output column of query) hold what the order of the rows
 * decides, which a recomputed key and the query may each get otherwise:
 * an aggregate that lists its rows without ORDER BY (string_agg,
 * array_agg ..., or one not PostgreSQL's own), a row_number, ntile, lag,
 * lead or *_value window function, or an aggregate over a ROWS frame?
 */
static bool
order_dependent(Node *node, Query *query)
{
	static const char *const listing[] = {"array_agg", "string_agg", "json_agg", "jsonb_agg",
	"json_object_agg", "jsonb_object_agg", "xmlagg"};
	static const char *const positional[] = {"row_number", "ntile", "lag", "lead", "first_value",
	"last_value", "nth_value"};

	if (node == NULL)
		return false;
	if (IsA(node, Aggref) && ((Aggref *) node)->aggorder == NIL)
	{
		Oid			fn = ((Aggref *) node)->aggfnoid;
		char	   *name = get_func_name(fn);

		if (get_func_namespace(fn) != PG_CATALOG_NAMESPACE)
			return true;
		for (int i = 0; i < lengthof(listing); i++)
		{
			if (strcmp(name, listing[i]) == 0)
				return true;
		}
	}
	if (IsA(node, WindowFunc))
	{
		WindowFunc *wf = (WindowFunc *) node;
		char	   *name = get_func_name(wf->winfnoid);
		WindowClause *wc = NULL;
		ListCell   *lc;

		foreach(lc, query->windowClause)
		{
			if (((WindowClause *) lfirst(lc))->winref == wf->winref)
				wc = lfirst(lc);
		}
		if (wf->winagg && wc != NULL && (wc->frameOptions & FRAMEOPTION_ROWS))
			return true;
		for (int i = 0; i < lengthof(positional); i++)
		{
			if (strcmp(name, positional[i]) == 0)
				return true;
		}
	}
	return expression_tree_walker(node, order_dependent, query);
}

/* Column i (from 0) of query, order_dependent?  A UNION ALL's is each branch's. */
static bool
column_order_dependent(Query *query, int i)
{
	ListCell   *lc;

	check_stack_depth();
	if (query->setOperations == NULL)
		return order_dependent((Node *) ((TargetEntry *) list_nth(query->targetList, i))->expr, query);
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && column_order_dependent(rte->subquery, i))
			return true;
	}
	return false;
}

/*
 * The model's columns as compared: floats as real (within real's range:
 * past it, as they are), a type without an equality as text, and none
 * whose value the order of the rows decides (order_dependent):
 * "x.a, CAST(x.b AS pg_catalog.float4)".
 */
static char *
compared_columns(AnalyzedModel *bound, const char *prefix)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, bound->columns)
	{
		ModelColumn *col = lfirst(lc);
		const char *name = psprintf("%s%s", prefix, quote_identifier(col->name));
		if (column_order_dependent(bound->query, foreach_current_index(lc)))
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		if (col->type == FLOAT8OID || col->type == FLOAT4OID)
			appendStringInfo(&buf, "CASE WHEN pg_catalog.abs(%s) OPERATOR(pg_catalog.>=) 1e-37::pg_catalog.float8 "
							 "AND pg_catalog.abs(%s) OPERATOR(pg_catalog.<=) 1e38::pg_catalog.float8 "
							 "THEN CAST(CAST(%s AS pg_catalog.float4) AS pg_catalog.float8) ELSE %s END",
							 name, name, name, name);
		else if (!OidIsValid(lookup_type_cache(col->type, TYPECACHE_EQ_OPR)->eq_opr))
			appendStringInfo(&buf, "CAST(%s AS pg_catalog.text)", name);
		else
			appendStringInfoString(&buf, name);
	}
	/* every column decided by the order: the rows are still counted */
	return buf.len > 0 ? buf.data : "1";
}

/* "s.a OPERATOR(pg_catalog.=) x.a OR s.a IS NULL AND x.a IS NULL" per key column, ANDed. */
static char *
key_match(List *keys, const char *s, const char *x)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys)
	{
		const char *name = quote_identifier(lfirst(lc));

		appendStringInfo(&buf, "%s(%s.%s OPERATOR(pg_catalog.=) %s.%s OR (%s.%s IS NULL AND %s.%s IS NULL))",
						 buf.len > 0 ? " AND " : "", s, name, x, name, s, name, x, name);
	}
	return buf.data;
}

/*
 * A filter of q's key columns by the values in the sample s, which the
 * planner can push into the query (each column = ANY of an array, or NULL
 * when the sample has a NULL there).
 */
static char *
key_filter(List *keys, const char *sample)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys)
	{
		const char *name = quote_identifier(lfirst(lc));

		appendStringInfo(&buf, "%s(q.%s OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT DISTINCT s.%s FROM %s s WHERE s.%s IS NOT NULL)) "
						 "OR (q.%s IS NULL AND EXISTS (SELECT FROM %s s WHERE s.%s IS NULL)))",
						 buf.len > 0 ? " AND " : "", name, name, sample, name, name, sample, name);
	}
	return buf.data;
}

/*
 * ChangesVerifyMaintained
 *		The number of rows by which table (the maintained result of model)
 *		differs from the model's query: over the whole table, or (sample)
 *		over a sample of keys: some of those in the table recomputed (its
 *		columns named keys, may be InvalidOid) and some of table's own.
 *		work names a table of the build's schema the sample may be made
 *		in.  Runs as the model owner, in the step.
 */
int64
ChangesVerifyMaintained(ModelDef *model, AnalyzedModel *bound, Oid table, List *keys, Oid recomputed,
						const char *work, bool sample)
{
	char	   *binding = BindRelationSql(model->name);
	char	   *tablename = SqlRelationName(table);
	char	   *keylist = SqlNameList(keys);
	List	   *keycols = NIL;
	Oid			sampled;
	char	   *samplename;
	int64		reltuples;
	ListCell   *lc;
	char	   *t_rows;
	char	   *q_rows;
	int64		differing;

	if (!sample)
	{
		t_rows = psprintf("SELECT %s FROM %s t", compared_columns(bound, "t."), tablename);
		q_rows = psprintf("SELECT %s FROM %s q", compared_columns(bound, "q."), binding);
		return BindCount(psprintf("SELECT pg_catalog.count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) d",
								   t_rows, q_rows, q_rows, t_rows));
	}

	/* the sample: recomputed keys and keys of the table, chosen at random */
	foreach(lc, keys)
		keycols = lappend(keycols, SqlFindColumn(bound->columns, lfirst(lc)));
	sampled = SqlCreateWorkTable(work, SqlColumnDefinitions(keycols), ModelOwnerId(model));
	samplename = SqlRelationName(sampled);
	if (OidIsValid(recomputed))
		(void) BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (SELECT DISTINCT %s FROM %s) k "
									"ORDER BY pg_catalog.random() LIMIT %d",
									samplename, keylist, keylist, keylist, SqlRelationName(recomputed),
									VERIFY_SAMPLE_KEYS),
						   0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	reltuples = BindCount(psprintf("SELECT CAST(c.reltuples AS pg_catalog.int8) FROM pg_catalog.pg_class c "
									"WHERE c.oid OPERATOR(pg_catalog.=) %u", table));
	(void) BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (SELECT DISTINCT %s FROM %s TABLESAMPLE BERNOULLI (%g)) k "
								"ORDER BY pg_catalog.random() LIMIT %d",
								samplename, keylist, keylist, keylist, tablename,
								reltuples > 10 * VERIFY_SAMPLE_KEYS ? 1000.0 * VERIFY_SAMPLE_KEYS / (double) reltuples : 100.0,
								VERIFY_SAMPLE_KEYS),
					   0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	t_rows = psprintf("SELECT %s FROM %s t WHERE EXISTS (SELECT FROM %s s WHERE %s)",
					  compared_columns(bound, "t."), tablename, samplename, key_match(keys, "s", "t"));
	q_rows = psprintf("SELECT %s FROM %s q WHERE %s AND EXISTS (SELECT FROM %s s WHERE %s)",
					  compared_columns(bound, "q."), binding, key_filter(keys, samplename), samplename,
					  key_match(keys, "s", "q"));
	differing = BindCount(psprintf("SELECT pg_catalog.count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) d",
									t_rows, q_rows, q_rows, t_rows));
	BindDropRelation(sampled);
	return differing;
}
