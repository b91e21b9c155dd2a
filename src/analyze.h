/*-------------------------------------------------------------------------
 *
 * analyze.h
 *	  Parse analysis of model SQL: validation, dependencies, column lineage.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_ANALYZE_H
#define MEDALLION_ANALYZE_H

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* An output column of a model query. */
typedef struct ModelColumn
{
	char	   *name;
	Oid			type;
	int32		typmod;
	Oid			collation;
} ModelColumn;

/* What the analyzer derives from one model's SQL. */
typedef struct AnalyzedModel
{
	Query	   *query;			/* the analyzed query (not rewritten) */
	Oid			binding;		/* the view it is bound as, when read from one */
	List	   *columns;		/* of ModelColumn * */
	List	   *dependencies;	/* of DependencyRow * (model unset) */
	List	   *lineage;		/* of LineageRow * */
	List	   *upstream_models;	/* of char *: models read, sorted, unique */
} AnalyzedModel;

/* A table a maintained model reads (analyze_maintain.c). */
typedef struct MaintainTable
{
	Oid			relid;
	Index		rtindex;		/* its range table entry */
	List	   *columns;		/* char *: the columns the query reads */
	Index		outer_join;		/* the LEFT JOIN it is the right (nullable) side
								 * of (its range table index), or 0 */
	Index		branch;			/* the UNION ALL branch whose query reads it
								 * (its range table index), or 0 */
} MaintainTable;

/* What the key of a maintained model's output row is (analyze_maintain.c). */
typedef enum MaintainKeyKind
{
	MAINTAIN_KEY_GROUP,			/* GROUP BY: a group */
	MAINTAIN_KEY_ROW,			/* SELECT DISTINCT: the whole output row */
	MAINTAIN_KEY_PARTITION,		/* window functions: their PARTITION BY */
	MAINTAIN_KEY_DRIVING,		/* joins: a unique key of the driving table */
	MAINTAIN_KEY_UNION			/* UNION ALL: the key every branch has, at the
								 * same output columns */
} MaintainKeyKind;

/*
 * A table model that can be maintained from its inputs' row deltas
 * (analyze_maintain.c): a GROUP BY, a SELECT DISTINCT or window functions
 * of one PARTITION BY over one table or joins (grouped: keyed by output
 * values, of the left side over LEFT JOINs), or inner joins, then LEFT
 * JOINs, whose output carries a unique key of one of its preserved tables,
 * the driving table.
 */
typedef struct MaintainPlan
{
	MaintainKeyKind key_kind;
	bool		grouped;		/* keyed by output values: a group, a distinct
								 * row or a partition */
	List	   *tables;			/* MaintainTable *, in range table order */
	Oid			driving;		/* the table whose key the output carries; grouped: the
								 * one table (InvalidOid over a join) */
	List	   *keys;			/* char *: the output columns of the keys */
	List	   *key_resnos;		/* int: their positions in the target list */
	bool		driving_unique; /* the driving key is one driving row's: its
								 * index is checked at once (not deferrable)
								 * and covers every row read (no inheritance
								 * children, whose rows it does not index) */
	Oid			owner;			/* the model's owner (ChangesMaintainPlan) */
	bool		left_keys;		/* grouped over LEFT JOINs: keys only those
								 * read off the left side */
	Query	   *query;			/* the query classified: the bound one, views flattened */
	List	   *views;			/* OIDs of the views flattened (analyze_flatten.c) */
	List	   *combine;		/* GROUP BY whose groups can be added to (the
								 * algebraic path): a MaintainCombine per
								 * output column, as ints; NIL otherwise */
	bool		subtract;		/* combine takes old images too: no min nor
								 * max, sums never NULL */
	int			count_column;	/* combine: the output column (0-based) of
								 * a count of every row, -1 if none */
} MaintainPlan;

/*
 * How an output column of a GROUP BY on the algebraic path takes new rows:
 * its group's value and the new rows' aggregate, combined.
 */
typedef enum MaintainCombine
{
	MAINTAIN_COMBINE_KEY,		/* a grouping column: matched, not combined */
	MAINTAIN_COMBINE_ADD,		/* count: added */
	MAINTAIN_COMBINE_SUM,		/* sum of integers or numeric: added, NULL when
								 * both are */
	MAINTAIN_COMBINE_MIN,		/* min: the least */
	MAINTAIN_COMBINE_MAX		/* max: the greatest */
} MaintainCombine;

/* Error context for SQL text other than the statement being run. */
typedef struct SqlErrorContext
{
	const char *what;
	const char *sql;
	ErrorContextCallback callback;
} SqlErrorContext;

extern void AnalyzePushErrorContext(SqlErrorContext *sec, const char *what, const char *sql);
extern void AnalyzePopErrorContext(SqlErrorContext *sec);
extern Query *AnalyzeParseModel(const char *name, const char *sql, const char *search_path);
extern AnalyzedModel *AnalyzeDerive(const char *name, Query *query, Oid binding, List *models,
									List *sources);
extern AnalyzedModel *AnalyzeModel(const char *name, const char *sql,
								   const char *search_path, List *models,
								   List *sources);
extern Query *AnalyzeQuery(const char *sql, const char *what);
extern bool AnalyzeRedirect(Query *query, List *from, List *to);
extern bool AnalyzeReadsForeign(Query *query);
/* analyze_flatten.c */
extern Query *AnalyzeFlattenViews(Query *query, Oid owner, List **views, const char **why);
extern char *AnalyzeViewDigest(Oid view);
/* analyze_maintain.c */
extern const char *MaintainClassify(Query *query, MaintainPlan *plan);

extern bool AnalyzeColumnSources(Query *query, const char *column, List **relids,
								 List **attnums);

#endif							/* MEDALLION_ANALYZE_H */
