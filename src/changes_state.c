/*-------------------------------------------------------------------------
 *
 * changes_state.c
 *	  What a maintained table model's build records of the capture of its
 *	  tables (issue 31), and what the next build reads back: the state of
 *	  capture of each table (its log, storage, triggers, captured columns)
 *	  and of each view it follows, which must be the same for the deltas
 *	  since the stored snapshot to hold every write (changes_maintain.c),
 *	  and the marks a build appends to it: rows its own transaction wrote
 *	  (read again next time), and tests all passed (the next build may test
 *	  only the rows it writes, tests_run.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "sqltext.h"

/*
 * ChangesMaintainTablesState
 *		The state of the delta capture of every table of plan, with the digest
 * of every view it follows, or NULL when a table is not captured.  A table
 * in redirect_from (a model's table this run rebuilt whole) is given the
 * storage of its candidate in redirect_to: the state it has once the run
 * publishes it.
 */
char *
ChangesMaintainTablesState(MaintainPlan *plan, List *redirect_from, List *redirect_to)
{
	StringInfoData state;
	ListCell   *lc;

	initStringInfo(&state);
	foreach(lc, plan->tables)
	{
		Oid			relid = ((MaintainTable *) lfirst(lc))->relid;
		Oid			storage = InvalidOid;
		ListCell   *lf;
		ListCell   *lt;
		char	   *one;

		forboth(lf, redirect_from, lt, redirect_to)
		{
			if (lfirst_oid(lf) == relid)
				storage = lfirst_oid(lt);
		}
		one = ChangesDeltaState(relid, storage);

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
 * ChangesMaintainViewsRedefined
 *		Why the keys of plan cannot be taken from the state deltas of the
 *		last build: the views it follows that were redefined since (their
 *		digests are not in it), or NULL when none was (or there is no
 *		state to compare with).
 */
const char *
ChangesMaintainViewsRedefined(MaintainPlan *plan, const char *deltas)
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
 * What a build records of its capture state when its transaction logged
 * deltas of one of its tables before the build was recorded: the snapshot
 * it stores counts its own transaction as unseen (read_without_own in
 * changes.c: what the transaction writes after the build is new), so the
 * next build reads all of that transaction's rows in those logs, those
 * this build applied too.  Their keys recomputed again come out exact;
 * their aggregates added again would count them twice, and their rows
 * appended again would be there twice.  So the next build takes neither
 * the algebraic path nor the appended one.  Rows the transaction logged
 * for other tables are not this model's to read again.
 */
#define DELTAS_REREAD_MARK	" | reread"

/*
 * ChangesMaintainRecordState
 *		The capture state of cand's build (cand->deltas), as a build of this
 *		transaction records it (see DELTAS_REREAD_MARK).
 */
char *
ChangesMaintainRecordState(Candidate *cand)
{
	List	   *relids = NIL;
	ListCell   *lc;

	if (cand->deltas == NULL)
		return NULL;
	/* without the plan (a worker's build), any log this transaction wrote */
	if (cand->maintain_plan != NULL)
	{
		foreach(lc, cand->maintain_plan->tables)
			relids = lappend_oid(relids, ((MaintainTable *) lfirst(lc))->relid);
	}
	if (ChangesDeltasLoggedHere(relids, cand->maintain_plan == NULL))
		return psprintf("%s%s", cand->deltas, DELTAS_REREAD_MARK);
	return cand->deltas;
}

/*
 * What a build records of its capture state when every test of the model
 * that ran after it passed, with the digest of the model's tests.  The
 * next maintained build changes only the rows of the keys it recomputes:
 * when the tests are the same, their row tests (not_null,
 * accepted_values) pass on the whole table when they pass on those rows,
 * a unique test when the values of those rows are unique in the table,
 * and a relationships test when those rows reference what exists and the
 * model referenced is unchanged (TestsRunSome's written).
 */
#define DELTAS_TESTED_MARK	" | tested "

/* ChangesTestsDigest of model, read as the extension owner. */
static char *
tests_digest(ModelDef *model)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext old;
	char	   *digest;

	CatalogEnter(&session);
	old = MemoryContextSwitchTo(callercxt);		/* out of SPI's, gone at CatalogLeave */
	digest = ChangesTestsDigest(model->name);
	MemoryContextSwitchTo(old);
	CatalogLeave(&session);
	return digest;
}

/*
 * ChangesMaintainRecordTested
 *		The capture state deltas, as recorded by a build of model whose
 *		tests all passed (see DELTAS_TESTED_MARK).
 */
char *
ChangesMaintainRecordTested(ModelDef *model, char *deltas)
{
	return psprintf("%s%s%s", deltas, DELTAS_TESTED_MARK, tests_digest(model));
}

/*
 * ChangesReferenceUnchanged
 *		Is what the relationships tests of model referencing to_model read
 *		of it the same as when model's last build was tested?  That build
 *		recorded the state of model's inputs, which take in to_model (its
 *		last build's run, or a view's or an ephemeral model's version, and
 *		then what it reads) and a snapshot its tests ran after: every one of
 *		those inputs has the state recorded and is tracked, and none of their
 *		tables has a write that snapshot does not see (one committed since,
 *		or in flight).  A write the snapshot missed that committed before
 *		the tests ran counts as a change too.  Read as the extension owner.
 */
bool
ChangesReferenceUnchanged(ModelDef *model, const char *to_model)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3] = {CStringGetTextDatum(model->name), CStringGetTextDatum(to_model),
	Int32GetDatum(model->version)};
	List	   *rows;
	char	  **row;

	/*
	 * A table model's own reads are not model's inputs: its last build's
	 * run stands for them.  A view or an ephemeral model is read through.
	 * An aggregate: one row, NULL (false) without a stored build.
	 */
	rows = CatalogReadRows("SELECT pg_catalog.count(*) FILTER (WHERE x.label OPERATOR(pg_catalog.=) "
						   "         ('model ' OPERATOR(pg_catalog.||) m.name)) OPERATOR(pg_catalog.>) 0 "
						   "   AND NOT pg_catalog.bool_or(NOT x.tracked "
						   "       OR (s.inputs OPERATOR(pg_catalog.->>) x.label) IS DISTINCT FROM x.state "
						   "       OR x.relid IS NOT NULL AND EXISTS (SELECT FROM medallion.changes c "
						   "          WHERE c.relid OPERATOR(pg_catalog.=) x.relid "
						   "            AND NOT pg_catalog.pg_visible_in_snapshot(c.xid, s.snapshot))) "
						   "  FROM medallion.build_state s, medallion.models m, "
						   "       LATERAL (SELECT i.label, i.state, i.relid, i.tracked "
						   "                  FROM medallion.model_inputs(s.model) i "
						   "                 WHERE i.label OPERATOR(pg_catalog.=) ('model ' OPERATOR(pg_catalog.||) m.name) "
						   "                UNION ALL "
						   "                SELECT i.label, i.state, i.relid, i.tracked "
						   "                  FROM medallion.model_inputs(m.name) i "
						   "                 WHERE m.materialized OPERATOR(pg_catalog.=) ANY (ARRAY['view', 'ephemeral']) "
						   "                   AND i.label OPERATOR(pg_catalog.<>) 'tests') AS x "
						   " WHERE s.model OPERATOR(pg_catalog.=) $1 AND s.version OPERATOR(pg_catalog.=) $3 "
						   "   AND m.name OPERATOR(pg_catalog.=) $2",
						   3, argtypes, values, "reading the build state", CatalogRowTexts, NULL);
	row = linitial(rows);
	return row[0] != NULL && strcmp(row[0], "t") == 0;
}

/*
 * ChangesMaintainedNames
 *		Of the models named (a List of char *), those whose last build
 *		recorded a state of capture: maintained models, whose stored
 *		snapshots hold back the trim of the logs they read.  Read as the
 *		extension owner.
 */
List *
ChangesMaintainedNames(List *names)
{
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1] = {ListToTextArray(names)};

	return CatalogReadRows("SELECT model FROM medallion.build_state "
						   "WHERE model OPERATOR(pg_catalog.=) ANY ($1) AND deltas IS NOT NULL",
						   1, argtypes, values, "reading the build state", CatalogRowText, NULL);
}

/*
 * ChangesMaintainDone
 *		Drop what a maintained build kept for its tests (the rows it wrote).
 */
void
ChangesMaintainDone(Candidate *cand)
{
	if (cand != NULL && OidIsValid(cand->written) && get_rel_name(cand->written) != NULL)
		BindDropRelation(cand->written);
}

/*
 * ChangesMaintainState
 *		The state of the delta capture of the tables a maintained model
 *		reads, by the plan its candidate cand was made with (its build starts
 *		now, or has just ended), or NULL when it has none or they are not
 *		captured.  The tables of redirect_from, rebuilt by this run, have
 *		the storage of their candidates in redirect_to (ChangesMaintainTablesState).
 */
char *
ChangesMaintainState(Candidate *cand, List *redirect_from, List *redirect_to)
{
	if (cand == NULL || cand->maintain_plan == NULL)
		return NULL;
	return ChangesMaintainTablesState(cand->maintain_plan, redirect_from, redirect_to);
}

/*
 * read_stored_state
 *		The build state of model, this version, under snapshot snap: its
 *		snapshot and capture state (with the marks) into *snapshot and
 *		*deltas, allocated in cxt (NULL when none); false when the model
 *		has no build state.  In a catalog session.
 */
static bool
read_stored_state(ModelDef *model, Snapshot snap, MemoryContext cxt, char **snapshot, char **deltas)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(model->name), Int32GetDatum(model->version)};
	int			ret;

	*snapshot = NULL;
	*deltas = NULL;
	PushActiveSnapshot(snap);
	ret = SPI_execute_with_args("SELECT snapshot::text, deltas FROM medallion.build_state "
								"WHERE model = $1 AND version = $2",
								2, argtypes, values, NULL, true, 1);
	PopActiveSnapshot();
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the build state of model \"%s\": %s", model->name,
			 SPI_result_code_string(ret));
	if (SPI_processed != 1)
		return false;
	{
		char	   *s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *d = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		*snapshot = s ? MemoryContextStrdup(cxt, s) : NULL;
		*deltas = d ? MemoryContextStrdup(cxt, d) : NULL;
	}
	return true;
}

/*
 * ChangesMaintainStateKept
 *		Does model (this version) still have a capture state, stored with
 *		snapshot, under the latest snapshot?  Read as the extension owner.
 */
bool
ChangesMaintainStateKept(ModelDef *model, const char *snapshot)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *s;
	char	   *d;

	CatalogEnter(&session);
	(void) read_stored_state(model, GetLatestSnapshot(), callercxt, &s, &d);
	CatalogLeave(&session);
	return s != NULL && d != NULL && strcmp(s, snapshot) == 0;
}

/*
 * ChangesMaintainStoredState
 *		The last build's snapshot and capture state of model, this version,
 *		without its marks: *reread when it ends with DELTAS_REREAD_MARK,
 *		*tested when DELTAS_TESTED_MARK's digest is that of the model's
 *		tests now (and it has some); *unseen when this transaction's
 *		snapshot sees another state than the latest.  False when there
 *		is none.
 */
bool
ChangesMaintainStoredState(ModelDef *model, char **snapshot, char **deltas, bool *reread, bool *tested,
						   bool *unseen)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	bool		found;
	char	   *d = NULL;
	char	   *mark;

	*reread = false;
	*tested = false;
	*unseen = false;

	/*
	 * Read under the latest snapshot: a run that waited for another run of
	 * the model (its lock) holds a statement snapshot from before that run
	 * committed, and would start from the state before it, its delta then
	 * holding rows the other run applied already (appended or added to
	 * their groups a second time).  Under a transaction snapshot, the
	 * state that snapshot sees must be the same: otherwise the published
	 * rows it sees are not those the latest state describes.
	 */
	CatalogEnter(&session);
	found = read_stored_state(model, GetLatestSnapshot(), callercxt, snapshot, &d);
	if (IsolationUsesXactSnapshot())
	{
		char	   *seen_snapshot;
		char	   *seen_deltas;

		(void) read_stored_state(model, GetTransactionSnapshot(), callercxt, &seen_snapshot, &seen_deltas);
		*unseen = (seen_snapshot == NULL) != (*snapshot == NULL) ||
			(seen_snapshot != NULL && strcmp(seen_snapshot, *snapshot) != 0) ||
			(seen_deltas == NULL) != (d == NULL) ||
			(seen_deltas != NULL && strcmp(seen_deltas, d) != 0);
	}
	CatalogLeave(&session);

	/* the marks, the last one first */
	if (d != NULL && (mark = strstr(d, DELTAS_TESTED_MARK)) != NULL)
	{
		*tested = strcmp(mark + strlen(DELTAS_TESTED_MARK), "none") != 0 &&
			strcmp(mark + strlen(DELTAS_TESTED_MARK), tests_digest(model)) == 0;
		*mark = '\0';
	}
	if (d != NULL && strlen(d) > strlen(DELTAS_REREAD_MARK) &&
		strcmp(d + strlen(d) - strlen(DELTAS_REREAD_MARK), DELTAS_REREAD_MARK) == 0)
	{
		d[strlen(d) - strlen(DELTAS_REREAD_MARK)] = '\0';
		*reread = true;
	}
	*deltas = d;
	return found;
}
