/*-------------------------------------------------------------------------
 *
 * changes_triggers.c
 *	  The triggers medallion puts on tracked tables, and row capture.
 *
 * Making a trigger (ChangesAddTrigger: calling medallion's function, with
 * the extension as its dependency, enabled as it must be), telling whether
 * a table is tracked (ChangesHasTracking: medallion's triggers there,
 * calling its functions), and the row capture of incremental models'
 * watermark columns: the triggers medallion_rows_insert and
 * medallion_rows_update (statement level, with a transition table) and
 * medallion_rows_row (row level, enabled REPLICA, for a subscription's
 * apply worker) call medallion.track_rows(), which logs the lowest value
 * of each captured column a transaction wrote in medallion.written_lows.
 * build_incremental.c reads it back; see docs/change-aware-runs.md, "Row
 * capture for incremental models".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/xid8.h"

#include "analyze.h"
#include "bind.h"
#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"

/*
 * The lowest value of each captured column this transaction logged into
 * medallion.written_lows (LoggedLow *), in TopTransactionContext: a
 * statement writing only higher values logs nothing more.
 */
typedef struct LoggedLow
{
	Oid			relid;
	AttrNumber	attnum;
	bool		isnull;			/* a NULL was logged */
	Datum		low;			/* else the lowest value logged */
} LoggedLow;
static List *logged_lows = NIL;

/* The transaction, or a subtransaction, ended: log again when written again. */
void
ChangesForgetCaptured(void)
{
	logged_lows = NIL;
}

/* ----------------------------------------------------------------
 * Row capture: the lowest watermark value each transaction wrote
 * ---------------------------------------------------------------- */

/*
 * The value as text that reads back the same whatever the settings of
 * the session reading it: dates and timestamps in ISO 8601 with the
 * offset, numbers as they print (RelCapturableType lists the types).
 */
static char *
capture_text(Datum value, Oid type)
{
	if (type == DATEOID || type == TIMESTAMPOID || type == TIMESTAMPTZOID)
	{
		char		buf[MAXDATELEN + 1];

		JsonEncodeDateTime(buf, value, type, NULL);
		return pstrdup(buf);
	}
	else
	{
		Oid			output;
		bool		varlena;

		getTypeOutputInfo(type, &output, &varlena);
		return OidOutputFunctionCall(output, value);
	}
}

/* What one captured column of a statement's rows holds. */
typedef struct CapturedColumn
{
	AttrNumber	attnum;
	Oid			type;
	FmgrInfo   *cmp;			/* the type's btree comparison */
	bool		byval;
	int16		len;
	bool		any;			/* a value seen */
	bool		isnull;			/* a NULL seen */
	Datum		low;			/* the lowest value seen */
} CapturedColumn;

static void
capture_value(CapturedColumn *col, Datum value, bool isnull)
{
	if (isnull)
		col->isnull = true;
	else if (!col->any ||
			 DatumGetInt32(FunctionCall2Coll(col->cmp, InvalidOid, value, col->low)) < 0)
	{
		/* a copy: the slot it came from is cleared at the next row */
		if (col->any && !col->byval)
			pfree(DatumGetPointer(col->low));
		col->low = datumCopy(value, col->byval, col->len);
		col->any = true;
	}
}

/*
 * log_low
 *		Append (table, transaction, column, lowest value or NULL) to
 *		medallion.written_lows, unless this transaction logged as low
 *		already; straight into the heap, as the change log is.
 */
static void
log_low(Relation rel, CapturedColumn *col, bool isnull, Datum low)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			nsp = get_namespace_oid("medallion", true);
	Oid			logid = OidIsValid(nsp) ? get_relname_relid("written_lows", nsp) : InvalidOid;
	LoggedLow  *found = NULL;
	Relation	log;
	NameData	attname;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	ListCell   *lc;
	MemoryContext old;

	if (!OidIsValid(logid))
		return;					/* the extension is being dropped */
	foreach(lc, logged_lows)
	{
		LoggedLow  *l = lfirst(lc);

		if (l->relid == relid && l->attnum == col->attnum && l->isnull == isnull)
			found = l;
	}
	if (found != NULL &&
		(isnull || DatumGetInt32(FunctionCall2Coll(col->cmp, InvalidOid, found->low, low)) <= 0))
		return;

	namestrcpy(&attname, NameStr(TupleDescAttr(RelationGetDescr(rel), col->attnum - 1)->attname));
	values[0] = ObjectIdGetDatum(relid);
	values[1] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[2] = NameGetDatum(&attname);
	if (isnull)
		nulls[3] = true;
	else
		values[3] = CStringGetTextDatum(capture_text(low, col->type));
	log = table_open(logid, RowExclusiveLock);
	simple_heap_insert(log, heap_form_tuple(RelationGetDescr(log), values, nulls));
	table_close(log, RowExclusiveLock);

	old = MemoryContextSwitchTo(TopTransactionContext);
	if (found == NULL)
	{
		found = palloc0(sizeof(LoggedLow));
		found->relid = relid;
		found->attnum = col->attnum;
		found->isnull = isnull;
		logged_lows = lappend(logged_lows, found);
	}
	if (!isnull)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), col->attnum - 1);

		found->low = datumCopy(low, att->attbyval, att->attlen);
	}
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(medallion_track_rows);

/*
 * medallion_track_rows
 *		The row capture triggers of a table an incremental model's
 *		watermark column comes from (its arguments name the columns): for
 *		each column, the lowest value (and whether a NULL) among the rows
 *		the statement inserted or updated, read from its transition table
 *		(statement triggers) or the row (the row trigger a subscription's
 *		apply worker fires), logged once per transaction unless lower.
 *		The next build of the model reads again every row from the lowest
 *		value a transaction its last build did not see wrote
 *		(build_incremental.c).
 */
Datum
medallion_track_rows(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	Trigger    *trigger;
	CapturedColumn *cols;
	int			ncols = 0;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medallion.track_rows() runs only as an AFTER trigger"),
				 errhint("medallion adds it to the tables incremental models read.")));
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) && !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		return PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	trigger = trigdata->tg_trigger;
	cols = palloc0(sizeof(CapturedColumn) * Max(trigger->tgnargs, 1));
	for (int i = 0; i < trigger->tgnargs; i++)
	{
		for (int a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!att->attisdropped && strcmp(NameStr(att->attname), trigger->tgargs[i]) == 0 &&
				RelCapturableType(att->atttypid))
			{
				TypeCacheEntry *tc = lookup_type_cache(att->atttypid, TYPECACHE_CMP_PROC_FINFO);

				cols[ncols].attnum = att->attnum;
				cols[ncols].type = att->atttypid;
				cols[ncols].cmp = &tc->cmp_proc_finfo;
				cols[ncols].byval = att->attbyval;
				cols[ncols].len = att->attlen;
				ncols++;
			}
		}
	}
	if (ncols == 0)
		return PointerGetDatum(NULL);

	if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		HeapTuple	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
			trigdata->tg_newtuple : trigdata->tg_trigtuple;

		for (int c = 0; c < ncols; c++)
		{
			bool		isnull;
			Datum		value = heap_getattr(tuple, cols[c].attnum, desc, &isnull);

			capture_value(&cols[c], value, isnull);
		}
	}
	else
	{
		Tuplestorestate *rows = trigdata->tg_newtable;
		TupleTableSlot *slot;
		int			pointer;

		if (rows == NULL)
			return PointerGetDatum(NULL);
		/* a read pointer of its own, as a scan of the transition table takes */
		slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
		pointer = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
		tuplestore_select_read_pointer(rows, pointer);
		tuplestore_rescan(rows);
		while (tuplestore_gettupleslot(rows, true, false, slot))
		{
			for (int c = 0; c < ncols; c++)
			{
				bool		isnull;
				Datum		value = slot_getattr(slot, cols[c].attnum, &isnull);

				capture_value(&cols[c], value, isnull);
			}
		}
		tuplestore_select_read_pointer(rows, 0);
		ExecDropSingleTupleTableSlot(slot);
	}

	for (int c = 0; c < ncols; c++)
	{
		if (cols[c].isnull)
			log_low(rel, &cols[c], true, (Datum) 0);
		if (cols[c].any)
			log_low(rel, &cols[c], false, cols[c].low);
	}
	return PointerGetDatum(NULL);
}

/* Has the trigger an automatic dependency on the extension? */
static bool
depends_on_extension(Oid trigger, Oid extension)
{
	char	   *found = SqlValue(psprintf("SELECT (SELECT 1 FROM pg_catalog.pg_depend d "
										  "WHERE d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass "
										  "AND d.objid = %u AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass "
										  "AND d.refobjid = %u AND d.deptype = 'a')", trigger, extension),
								 0, NULL, NULL);

	return found != NULL;
}

/*
 * ChangesAddTrigger
 *		Give relid (named name) trigger tgname calling function (with its
 *		arguments), made with the CREATE TRIGGER clause (its %s the table), enabled as
 *		enabled ("A" ALWAYS, "R" REPLICA; the keyword in keyword), unless
 *		it has it so.  As the extension owner: the caller checked the
 *		table's owner.
 */
void
ChangesAddTrigger(Oid relid, const char *name, const char *tgname, const char *clause,
			const char *function, const char *enabled, const char *keyword, Oid extension)
{
	char	   *procedure = pnstrdup(function, strchr(function, '(') - function);
	char	   *now = SqlValue(psprintf("SELECT (SELECT t.tgenabled::text FROM pg_catalog.pg_trigger t "
										"WHERE t.tgrelid = %u AND t.tgname = '%s' "
										"AND t.tgfoid = '%s()'::pg_catalog.regprocedure)",
										relid, tgname, procedure),
							   0, NULL, NULL);
	Oid			trigger;

	/* one of the same name calling something else is not medallion's: it goes */
	if (now == NULL && OidIsValid(get_trigger_oid(relid, tgname, true)))
		SqlUtility(psprintf("DROP TRIGGER %s ON %s", tgname, name));
	if (now == NULL)
	{
		SqlUtility(psprintf("CREATE TRIGGER %s %s EXECUTE FUNCTION %s",
							tgname, psprintf(clause, name), function));
		CommandCounterIncrement();
	}

	/*
	 * The trigger goes with the extension: DROP EXTENSION medallion then
	 * drops it without CASCADE.  It is not a member (pg_dump dumps it with
	 * its table); one restored so gets the dependency when tracked again.
	 */
	trigger = get_trigger_oid(relid, tgname, false);
	if (!depends_on_extension(trigger, extension))
	{
		ObjectAddress trigaddr;
		ObjectAddress extaddr;

		ObjectAddressSet(trigaddr, TriggerRelationId, trigger);
		ObjectAddressSet(extaddr, ExtensionRelationId, extension);
		recordDependencyOn(&trigaddr, &extaddr, DEPENDENCY_AUTO);
		CommandCounterIncrement();
	}
	if (now == NULL || strcmp(now, enabled) != 0)
		SqlUtility(psprintf("ALTER TABLE %s ENABLE %s TRIGGER %s", name, keyword, tgname));
}

/*
 * captured_columns
 *		The columns relid's row capture logs (the arguments of its insert
 *		trigger), or NIL.
 */
static List *
captured_columns(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *columns = NIL;

	for (int i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &rel->trigdesc->triggers[i];

		if (strcmp(trigger->tgname, ROWS_INSERT_TRIGGER) != 0)
			continue;
		for (int a = 0; a < trigger->tgnargs; a++)
			columns = lappend(columns, pstrdup(trigger->tgargs[a]));
	}
	table_close(rel, AccessShareLock);
	return columns;
}

/*
 * ChangesCaptureColumns
 *		Give relid row capture of columns (and of those it captures
 *		already): statement triggers with a transition table after insert
 *		and after update, enabled ALWAYS, and for a table a row trigger
 *		enabled REPLICA (a subscription's apply worker).  Their arguments
 *		name the columns, so capturing one more makes them again (models
 *		reading the table through them then read all rows once).  As the
 *		extension owner: the caller checked the table's owner.
 */
void
ChangesCaptureColumns(Oid relid, List *columns)
{
	char	   *name = SqlRelationName(relid);
	Oid			extension = get_extension_oid("medallion", false);
	List	   *now = captured_columns(relid);
	List	   *want = list_copy(now);
	bool		complete;
	StringInfoData function;
	ListCell   *lc;

	foreach(lc, columns)
	{
		ListCell   *lw;
		bool		found = false;

		foreach(lw, want)
			found = found || strcmp(lfirst(lw), lfirst(lc)) == 0;
		if (!found)
			want = lappend(want, lfirst(lc));
	}
	complete = list_length(want) == list_length(now) &&
		OidIsValid(get_trigger_oid(relid, ROWS_INSERT_TRIGGER, true)) &&
		OidIsValid(get_trigger_oid(relid, ROWS_UPDATE_TRIGGER, true)) &&
		(get_rel_relkind(relid) != RELKIND_RELATION ||
		 OidIsValid(get_trigger_oid(relid, ROWS_ROW_TRIGGER, true)));
	if (!complete)
	{
		const char *triggers[] = {ROWS_INSERT_TRIGGER, ROWS_UPDATE_TRIGGER, ROWS_ROW_TRIGGER};

		for (int t = 0; t < lengthof(triggers); t++)
		{
			if (OidIsValid(get_trigger_oid(relid, triggers[t], true)))
				SqlUtility(psprintf("DROP TRIGGER %s ON %s", triggers[t], name));
		}
		CommandCounterIncrement();
	}
	initStringInfo(&function);
	appendStringInfoString(&function, "medallion.track_rows(");
	foreach(lc, want)
		appendStringInfo(&function, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(lfirst(lc)));
	appendStringInfoChar(&function, ')');
	ChangesAddTrigger(relid, name, ROWS_INSERT_TRIGGER,
				"AFTER INSERT ON %s REFERENCING NEW TABLE AS medallion_new FOR EACH STATEMENT",
				function.data, "A", "ALWAYS", extension);
	ChangesAddTrigger(relid, name, ROWS_UPDATE_TRIGGER,
				"AFTER UPDATE ON %s REFERENCING NEW TABLE AS medallion_new FOR EACH STATEMENT",
				function.data, "A", "ALWAYS", extension);
	if (get_rel_relkind(relid) == RELKIND_RELATION)
		ChangesAddTrigger(relid, name, ROWS_ROW_TRIGGER,
					"AFTER INSERT OR UPDATE ON %s FOR EACH ROW",
					function.data, "R", "REPLICA", extension);
}

/*
 * ChangesCaptureWatermark
 *		An incremental model over local tables finds its new rows by row
 *		capture: each column its watermark is, or is the GREATEST of
 *		(through views and subqueries), is captured on its table and on
 *		every table rows of it can be written through (above and below it)
 *		that the model owner owns or whose owner tracks it.  When that
 *		cannot be, say so: each build then reads all of the model's rows
 *		again.
 */
void
ChangesCaptureWatermark(ModelDef *model)
{
	AnalyzedModel *bound = BindLoad(model);
	List	   *sources;
	List	   *attnums;
	Oid			owner = ModelOwnerId(model);
	ListCell   *ls;
	ListCell   *la;
	CatalogSession session;

	if (!AnalyzeColumnSources(bound->query, model->watermark, &sources, &attnums))
	{
		if (AnalyzeReadsForeign(bound->query))
			return;				/* new rows by the watermark (and lookback) alone */
		ereport(WARNING,
				(errmsg("incremental model \"%s\" reads all its rows again at every run", model->name),
				 errdetail("Its watermark \"%s\" is computed, not a column of a table it reads as it is, nor the GREATEST of such columns.",
						   model->watermark),
				 errhint("Select the column the watermark comes from as it is (no expression or cast): the rows written since the last build are then found exactly.")));
		return;
	}
	forboth(ls, sources, la, attnums)
	{
		Oid			source = lfirst_oid(ls);
		AttrNumber	attnum = lfirst_int(la);

		if (get_rel_relkind(source) == RELKIND_FOREIGN_TABLE)
			return;				/* new rows by the watermark (and lookback) alone */
		if (!RelCapturableType(get_atttype(source, attnum)))
		{
			ereport(WARNING,
					(errmsg("incremental model \"%s\" reads all its rows again at every run", model->name),
					 errdetail("Its watermark \"%s\" is of type %s; row capture takes integers, numeric, date and timestamps.",
							   model->watermark, format_type_be(get_atttype(source, attnum)))));
			return;
		}
	}
	CatalogEnter(&session);
	forboth(ls, sources, la, attnums)
	{
		Oid			source = lfirst_oid(ls);
		char	   *column = get_attname(source, lfirst_int(la), false);
		ListCell   *lc;

		foreach(lc, list_concat(RelTree(source), RelAncestors(source)))
		{
			Oid			relid = lfirst_oid(lc);

			if (ScaleIsCitusTable(relid))
				continue;
			if (SqlRelationOwner(relid) == owner || ChangesHasTracking(relid))
				ChangesCaptureColumns(relid, list_make1(column));
			else
				ereport(WARNING,
						(errmsg("incremental model \"%s\" reads all its rows again at every run", model->name),
						 errdetail("Rows of its watermark's table can be written through %s, which its owner does not track.",
								   SqlRelationName(relid)),
						 errhint("The owner of %s tracks it with medallion_track(); then define the model again.",
								 SqlRelationName(relid))));
		}
	}
	CatalogLeave(&session);
}

/*
 * Is relid tracked: its statement trigger enabled ALWAYS and, for a table,
 * its row trigger enabled REPLICA?
 */
bool
ChangesHasTracking(Oid relid)
{
	char	   *found = SqlValue(psprintf("SELECT (SELECT pg_catalog.string_agg(t.tgname::pg_catalog.text || '=' || t.tgenabled::pg_catalog.text, ',' "
										  "ORDER BY t.tgname) FROM pg_catalog.pg_trigger t "
										  "WHERE t.tgrelid = %u AND t.tgname IN ('%s', '%s') "
										  "AND t.tgfoid = 'medallion.track_changes()'::pg_catalog.regprocedure)",
										  relid, CHANGES_TRIGGER, CHANGES_ROW_TRIGGER),
								 0, NULL, NULL);

	if (found == NULL)
		return false;
	if (get_rel_relkind(relid) != RELKIND_RELATION)
		return strcmp(found, CHANGES_TRIGGER "=A") == 0;
	return strcmp(found, CHANGES_TRIGGER "=A," CHANGES_ROW_TRIGGER "=R") == 0;
}

/* The columns the tables above relid capture. */
List *
ChangesCapturedAbove(Oid relid)
{
	List	   *columns = NIL;
	ListCell   *lc;

	foreach(lc, RelAncestors(relid))
		columns = list_concat(columns, captured_columns(lfirst_oid(lc)));
	return columns;
}
