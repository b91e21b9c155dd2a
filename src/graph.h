/*-------------------------------------------------------------------------
 *
 * graph.h
 *	  The model DAG: loading, selectors, cycles, topological waves.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_GRAPH_H
#define MEDALLION_GRAPH_H

#include "catalog.h"

/* A model in the graph; upstream/downstream hold node indexes. */
typedef struct GraphNode
{
	ModelDef   *model;
	List	   *upstream;		/* int list: models this one reads */
	List	   *downstream;		/* int list: models that read this one */
	List	   *after;			/* int list: run after these (tests reference them) */
	List	   *before;			/* int list: the reverse of after */
} GraphNode;

typedef struct Graph
{
	int			nnodes;
	GraphNode  *nodes;			/* by layer ordinal, then name */
	List	   *layers;			/* of LayerDef * */
	List	   *dependencies;	/* of DependencyRow *, every kind */
} Graph;

/* One step of a plan: a selected model and its wave (1-based). */
typedef struct PlanStep
{
	int			node;
	int			wave;
} PlanStep;

extern Graph *GraphLoad(List *models, bool test_edges);
extern int	GraphFind(Graph *graph, const char *name);
extern bool *GraphSelect(Graph *graph, const char *selector);
extern List *GraphPlan(Graph *graph, bool *selected);
extern List *GraphUpstreamPath(Graph *graph, int from, int to);

#endif							/* MEDALLION_GRAPH_H */
