/*-------------------------------------------------------------------------
 *
 * materialize.h
 *	  Materializations as a type: the enum a model's "materialized" is
 *	  parsed into once, and the table of what each kind does.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_MATERIALIZE_H
#define MEDALLION_MATERIALIZE_H

#include "analyze.h"
#include "catalog.h"

typedef enum Materialization
{
	MAT_VIEW,
	MAT_TABLE,
	MAT_INCREMENTAL,
	MAT_SNAPSHOT,
	MAT_EPHEMERAL
} Materialization;

#define MAT_KINDS (MAT_EPHEMERAL + 1)

struct Candidate;

/* What a run's step gives a materialization's build, and gets back. */
typedef struct BuildStep
{
	/* in */
	ModelDef   *model;
	AnalyzedModel *bound;		/* the model's binding (bind.c) */
	const char *sql;			/* a query over the binding */
	List	   *redirect_from;	/* published tables this run rebuilt ... */
	List	   *redirect_to;	/* ... and their candidates */
	bool		full_refresh;
	bool		reads_remote;	/* it reads foreign tables */
	Oid			stage;			/* a batched extraction's staging table */
	Oid			worker_candidate;	/* what a worker built, or InvalidOid */
	int64		worker_rows;
	int64		run_id;
	/* out */
	struct Candidate *candidate;	/* table candidates and deltas */
	bool		replaces;		/* the candidate replaces the published table */
	int64		rows;
	bool		has_rows;
	bool		up_to_date;		/* nothing new */
	Oid			tested;			/* what its tests read, or InvalidOid: none */
} BuildStep;

/* What each materialization does, and what it is. */
typedef struct MaterializeOps
{
	Materialization kind;
	const char *name;
	bool		has_table;		/* published as a table (indexes, candidates) */
	bool		has_relation;	/* has a relation in its layer at all */
	bool		reads_through;	/* readers read its query (views, ephemerals) */
	bool		worker_ok;		/* a background worker may build it */
	bool		extracts;		/* may stage a batched extraction first */
	void		(*check_settings) (ModelDef *model, float4 threshold);
	void		(*build) (BuildStep *step);
	void		(*apply) (BuildStep *step);	/* after its tests passed, or NULL */
} MaterializeOps;

extern Materialization MaterializeParse(const char *name);
extern const MaterializeOps *MaterializeOpsOf(Materialization kind);
extern void MaterializeCheckSettings(ModelDef *model, float4 threshold);

#endif							/* MEDALLION_MATERIALIZE_H */
