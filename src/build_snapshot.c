/*-------------------------------------------------------------------------
 *
 * build_snapshot.c
 *	  Snapshot models (SCD type 2): one run's changes to the history table.
 *
 * The published table keeps the history of every key: the model's
 * columns plus scd_id (md5 of the key and valid_from), valid_from,
 * valid_to (NULL while current) and is_current.  A run compares the
 * model query (one row per key) with the current rows: new keys and
 * changed rows (timestamp strategy: a later updated_at; check strategy:
 * any checked column IS DISTINCT FROM, so changes to and from NULL count)
 * get a new current version; the version they replace is closed; with
 * hard_deletes = invalidate, current keys that disappeared are closed.
 * The changes are computed into a delta table and applied with DML inside
 * the model's subtransaction, invisible to readers until the run commits.
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
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"

/*
 * close_citus
 *		Close the versions the delta says, in a Citus table: Citus does not
 *		join a reference table with a local one in an UPDATE, so the
 *		versions to close and their valid_to go to it as two arrays (the
 *		run's changes, not the table).
 */
static void
close_citus(const char *target, const char *delta)
{
	Oid			types[2] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("SELECT pg_catalog.array_agg(close_id), pg_catalog.array_agg(new_valid_to) "
							   "FROM %s WHERE medallion_op OPERATOR(pg_catalog.=) 'close'", delta),
					  false, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the versions to close from %s: %s", delta, SPI_result_code_string(ret));
	for (int i = 0; i < 2; i++)
	{
		bool		isnull;

		values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
		if (isnull)
			nulls[i] = 'n';
	}
	if (nulls[0] != 'n')
	{
		ret = SPI_execute_with_args(psprintf("UPDATE %s AS p SET valid_to = v.valid_to, is_current = false "
											 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS v (scd_id, valid_to) "
											 "WHERE p.scd_id OPERATOR(pg_catalog.=) v.scd_id", target),
									2, types, values, nulls, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "could not close versions in %s: %s", target, SPI_result_code_string(ret));
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * follow_columns
 *		The history table takes the query's new columns (earlier versions
 *		hold NULL there) and its new types (earlier versions cast, kept);
 *		a column the query no longer gives stays, NULL in new versions.  As
 *		dbt's snapshots do: history is never dropped.  A user's view on a
 *		retyped column is in the way (the error names it).
 */
static void
follow_columns(ModelDef *model, Oid published, List *columns)
{
	Relation	rel = table_open(published, AccessShareLock);
	SchemaChange *change = BuildSchemaChange(rel, columns);
	char	   *target = SqlModelName(model);
	List	   *names = NIL;
	ListCell   *lc;

	if (change->added == NIL && change->retyped == NIL)
	{
		table_close(rel, AccessShareLock);
		return;
	}
	foreach(lc, change->retyped)
		names = lappend(names, ((ModelColumn *) lfirst(lc))->name);
	if (names != NIL && BuildCheckDependents(model, rel, names) != NIL)
		ereport(NOTICE,
				(errmsg("models reading columns of %s whose type changes must be bound again", target),
				 errhint("Their owners run medallion_reanalyze for them.")));
	table_close(rel, NoLock);
	RelLockPatiently(list_make1_oid(published));
	foreach(lc, change->retyped)
	{
		ModelColumn *col = lfirst(lc);
		char	   *type = format_type_with_typemod(col->type, col->typmod);

		SqlUtility(psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::%s", target,
							 quote_identifier(col->name), type, quote_identifier(col->name), type));
	}
	foreach(lc, change->added)
	{
		ModelColumn *col = lfirst(lc);

		SqlUtility(psprintf("ALTER TABLE %s ADD COLUMN %s %s", target, quote_identifier(col->name),
							 format_type_with_typemod(col->type, col->typmod)));
	}
	CommandCounterIncrement();
	ereport(NOTICE,
			(errmsg("snapshot model \"%s\": %s takes its new columns", model->name, target),
			 errdetail("New columns: %s. Columns of another type: %s.",
					   BuildNameList(change->added, true), BuildNameList(change->retyped, true))));
}

/*
 * BuildSnapshot
 *		Apply one snapshot step to the model's history table; returns the
 *		number of versions opened or closed.  Runs as the model owner.
 */
int64
BuildSnapshot(ModelDef *model, AnalyzedModel *analyzed, const char *sql, List *redirect_from,
			  List *redirect_to)
{
	Oid			published = RelPublished(model);
	char	   *target;
	char	   *keys = SqlNameList(model->unique_key);
	char	   *delta_name = psprintf("pg_temp_%u_snapshot", published);
	char	   *delta = quote_qualified_identifier(model->schema, delta_name);
	StringInfoData on;
	StringInfoData changed;
	StringInfoData cols;
	StringInfoData s_cols;
	StringInfoData c_cols;
	StringInfoData keytext;
	ListCell   *lc;
	char	   *valid_from;
	bool		timestamp = strcmp(model->snapshot_strategy, "timestamp") == 0;
	uint64		rows;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the history table %s of snapshot model \"%s\" is missing",
						SqlModelName(model), model->name),
				 errhint("Define the model again with medallion_create_model to recreate it.")));
	follow_columns(model, published, analyzed->columns);
	target = SqlModelName(model);

	initStringInfo(&on);
	initStringInfo(&keytext);
	foreach(lc, model->unique_key)
	{
		appendStringInfo(&on, "%sc.%s OPERATOR(pg_catalog.=) s.%s", on.len > 0 ? " AND " : "",
						 quote_identifier(lfirst(lc)), quote_identifier(lfirst(lc)));
		appendStringInfo(&keytext, "%s%s::text", keytext.len > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	}
	initStringInfo(&cols);
	initStringInfo(&s_cols);
	initStringInfo(&c_cols);
	foreach(lc, analyzed->columns)
	{
		const char *name = quote_identifier(((ModelColumn *) lfirst(lc))->name);

		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", name);
		appendStringInfo(&s_cols, "%ss.%s", s_cols.len > 0 ? ", " : "", name);
		appendStringInfo(&c_cols, "%sc.%s", c_cols.len > 0 ? ", " : "", name);
	}

	initStringInfo(&changed);
	if (timestamp)
	{
		const char *ua = quote_identifier(model->updated_at);

		appendStringInfo(&changed, "(s.%s OPERATOR(pg_catalog.>) c.%s OR (c.%s IS NULL AND s.%s IS NOT NULL))", ua, ua, ua, ua);
		valid_from = psprintf("coalesce(s.%s::pg_catalog.timestamptz, pg_catalog.now())", ua);
	}
	else
	{
		StringInfoData sl;
		StringInfoData cl;
		List	   *checked = model->check_columns;

		if (checked == NIL)
		{
			foreach(lc, analyzed->columns)
			{
				char	   *name = ((ModelColumn *) lfirst(lc))->name;
				ListCell   *lk;
				bool		is_key = false;

				foreach(lk, model->unique_key)
					is_key |= strcmp(lfirst(lk), name) == 0;
				if (!is_key)
					checked = lappend(checked, name);
			}
		}
		initStringInfo(&sl);
		initStringInfo(&cl);
		foreach(lc, checked)
		{
			appendStringInfo(&sl, "%ss.%s", sl.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
			appendStringInfo(&cl, "%sc.%s", cl.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
		}
		if (checked == NIL)
			appendStringInfoString(&changed, "false");
		else
			appendStringInfo(&changed, "ROW(%s, NULL) IS DISTINCT FROM ROW(%s, NULL)", sl.data, cl.data);
		valid_from = "pg_catalog.now()";
	}

	/* the changes, computed as the owner into a table only medallion can create */
	SqlCreateOwnedTable(model->schema, delta_name,
					   psprintf("medallion_op text, %s, valid_from timestamptz, new_valid_to timestamptz, close_id text",
								SqlColumnDefinitions(analyzed->columns)),
					   ModelOwnerId(model));
	rows = BindExecute(psprintf("INSERT INTO %s "
							"WITH s AS (SELECT DISTINCT ON (%s) * FROM (%s) AS q ORDER BY %s%s), "
							"c AS (SELECT * FROM %s WHERE is_current) "
							"SELECT 'insert'::text AS medallion_op, %s, %s AS valid_from, "
							"NULL::pg_catalog.timestamptz AS new_valid_to, NULL::text AS close_id "
							"FROM s LEFT JOIN c ON %s WHERE c.scd_id IS NULL "
							"UNION ALL SELECT 'insert', %s, %s, NULL, NULL FROM s JOIN c ON %s WHERE %s "
							"UNION ALL SELECT 'close', %s, c.valid_from, %s, c.scd_id FROM s JOIN c ON %s WHERE %s"
							"%s",
							delta, keys, sql, keys,
							timestamp ? psprintf(", %s DESC NULLS LAST", quote_identifier(model->updated_at)) : "",
							target,
							s_cols.data, valid_from, on.data,
							s_cols.data, valid_from, on.data, changed.data,
							c_cols.data, valid_from, on.data, changed.data,
							strcmp(model->hard_deletes, "invalidate") == 0 ?
							psprintf(" UNION ALL SELECT 'close', %s, c.valid_from, pg_catalog.now(), c.scd_id "
									 "FROM c LEFT JOIN s ON %s WHERE s.%s IS NULL",
									 c_cols.data, on.data, quote_identifier(linitial(model->unique_key))) : ""),
					   0, NULL, NULL, NULL, redirect_from, redirect_to, None_Receiver);
	if (rows > 0)
		ScaleClaim(published, psprintf("model \"%s\"", model->name));
	if (rows > 0 && ScaleIsCitusTable(published))
		close_citus(target, delta);
	else if (rows > 0)
		(void) SqlRun(psprintf("UPDATE %s AS p SET valid_to = d.new_valid_to, is_current = false "
								"FROM %s AS d WHERE d.medallion_op OPERATOR(pg_catalog.=) 'close' AND p.scd_id OPERATOR(pg_catalog.=) d.close_id",
								target, delta), SPI_OK_UPDATE);
	if (rows > 0)
	{
		(void) SqlRun(psprintf("INSERT INTO %s (scd_id, %s, valid_from, valid_to, is_current) "
								"SELECT pg_catalog.md5(pg_catalog.concat_ws('|', %s, valid_from::text)), "
								"%s, valid_from, NULL, true FROM %s WHERE medallion_op OPERATOR(pg_catalog.=) 'insert'",
								target, cols.data, keytext.data, cols.data, delta), SPI_OK_INSERT);
	}
	SqlUtility(psprintf("DROP TABLE %s", delta));
	CommandCounterIncrement();
	return (int64) rows;
}
