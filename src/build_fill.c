/*-------------------------------------------------------------------------
 *
 * build_fill.c
 *	  Filling a candidate heap: the rows of a model's query, or rows held
 *	  in a tuplestore, inserted frozen in batches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "bind.h"
#include "build.h"
#include "sqltext.h"

/*
 * A DestReceiver that writes the rows of the model query into a candidate
 * heap, frozen (as COPY FREEZE does): the heap was created in the current
 * subtransaction and nobody else can see it before the run commits.  Rows
 * go in with table_multi_insert in batches, so whole pages are written at
 * once and marked all-visible: downstream models of the run then scan the
 * candidate as cheaply as a vacuumed table.  The query's columns are the
 * heap's live columns in order; dropped columns are stored as NULL.  NOT
 * NULL columns are checked here, since no executor node does it.
 */
#define FILL_BATCH 1000

typedef struct FillReceiver
{
	DestReceiver pub;
	Relation	rel;
	TupleTableSlot *slots[FILL_BATCH];	/* shaped like rel */
	int			nbuffered;
	AttrNumber *attnos;			/* query column i -> attnos[i] of rel */
	int			ncolumns;
	BulkInsertState bistate;
	CommandId	cid;
	uint64		rows;
	MemoryContext context;		/* holds the slots: outlives the query */
	const char *shown_as;		/* the relation errors name */
} FillReceiver;

static void
fill_flush(FillReceiver *fill)
{
	if (fill->nbuffered == 0)
		return;
	table_multi_insert(fill->rel, fill->slots, fill->nbuffered, fill->cid,
					   TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN, fill->bistate);
	for (int i = 0; i < fill->nbuffered; i++)
		ExecClearTuple(fill->slots[i]);
	fill->nbuffered = 0;
}

static bool
fill_receive(TupleTableSlot *input, DestReceiver *self)
{
	FillReceiver *fill = (FillReceiver *) self;
	TupleDesc	desc = RelationGetDescr(fill->rel);
	TupleTableSlot *slot;

	if (fill->slots[fill->nbuffered] == NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(fill->context);

		fill->slots[fill->nbuffered] = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
		MemoryContextSwitchTo(oldcontext);
	}
	slot = fill->slots[fill->nbuffered];
	slot_getallattrs(input);
	ExecClearTuple(slot);
	for (int i = 0; i < desc->natts; i++)
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
	for (int i = 0; i < fill->ncolumns; i++)
	{
		int			att = fill->attnos[i] - 1;

		slot->tts_values[att] = input->tts_values[i];
		slot->tts_isnull[att] = input->tts_isnull[i];
		if (input->tts_isnull[i] && TupleDescAttr(desc, att)->attnotnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation %s violates not-null constraint",
							NameStr(TupleDescAttr(desc, att)->attname), fill->shown_as)));
	}
	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);	/* the input's values go away after this */
	fill->rows++;
	if (++fill->nbuffered == FILL_BATCH)
		fill_flush(fill);
	return true;
}

static void
fill_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
fill_shutdown(DestReceiver *self)
{
}

static void
fill_destroy(DestReceiver *self)
{
}

/*
 * fill_begin, fill_end
 *		Set up fill to write into heap (live columns in order), and finish
 *		it; fill_end returns the rows written.
 */
static void
fill_begin(FillReceiver *fill, Oid heap, Oid shown_as)
{
	TupleDesc	desc;

	memset(fill, 0, sizeof(FillReceiver));
	fill->pub.receiveSlot = fill_receive;
	fill->pub.rStartup = fill_startup;
	fill->pub.rShutdown = fill_shutdown;
	fill->pub.rDestroy = fill_destroy;
	fill->pub.mydest = DestNone;
	fill->context = CurrentMemoryContext;
	fill->shown_as = SqlRelationName(shown_as);
	fill->rel = table_open(heap, NoLock);
	desc = RelationGetDescr(fill->rel);
	fill->attnos = palloc(sizeof(AttrNumber) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		if (!TupleDescAttr(desc, i)->attisdropped)
			fill->attnos[fill->ncolumns++] = i + 1;
	}
	fill->bistate = GetBulkInsertState();
	fill->cid = GetCurrentCommandId(true);
}

static uint64
fill_end(FillReceiver *fill)
{
	fill_flush(fill);
	FreeBulkInsertState(fill->bistate);
	table_finish_bulk_insert(fill->rel, TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN);
	for (int i = 0; i < FILL_BATCH && fill->slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(fill->slots[i]);
	table_close(fill->rel, NoLock);
	return fill->rows;
}

/*
 * BuildFillHeap
 *		Fill heap, created in the current subtransaction, with the rows of
 *		sql (a query medallion wrote over relations, bindings among them,
 *		whose columns are given), reading redirect_to for redirect_from;
 *		returns the row count.  Errors name shown_as, the relation the heap
 *		stands for.
 */
uint64
BuildFillHeap(Oid heap, List *columns, const char *sql, Oid shown_as, List *redirect_from,
		  List *redirect_to)
{
	FillReceiver fill;
	char	   *target;
	char	   *source;

	/* the query's columns in the order of the heap's live columns */
	SqlColumnLists(heap, columns, &target, &source);
	fill_begin(&fill, heap, shown_as);
	(void) BindExecute(psprintf("SELECT %s FROM (%s) AS q", source, sql), 0, NULL, NULL, NULL,
					   redirect_from, redirect_to, (DestReceiver *) &fill);
	return fill_end(&fill);
}

/*
 * BuildFillHeapBound
 *		Fill heap, created in the current subtransaction with the columns
 *		of the model analyzed (in order), with the rows of its bound query,
 *		reading redirect_to for redirect_from (BindExecuteBound: views
 *		the model reads can be redirected too); returns the row count.
 */
uint64
BuildFillHeapBound(Oid heap, AnalyzedModel *analyzed, const char *shown_as, List *redirect_from,
				   List *redirect_to)
{
	FillReceiver fill;

	fill_begin(&fill, heap, heap);
	fill.shown_as = shown_as;
	(void) BindExecuteBound(analyzed->query, shown_as, redirect_from, redirect_to,
							(DestReceiver *) &fill);
	return fill_end(&fill);
}

/* Insert the rows held in a tuplestore into heap, frozen (it is new). */
void
BuildFillFromStore(Oid heap, Tuplestorestate *rows)
{
	Relation	rel = table_open(heap, NoLock);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	BulkInsertState bistate = GetBulkInsertState();
	CommandId	cid = GetCurrentCommandId(true);

	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
		table_tuple_insert(rel, slot, cid, TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN, bistate);
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(rel, TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	CommandCounterIncrement();
}
