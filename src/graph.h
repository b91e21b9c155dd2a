/*-------------------------------------------------------------------------
 *
 * graph.h
 *	  The model DAG: loading, selectors, cycles, topological waves, and
 *	  the drawing of selected models (graph.c).
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

/* A node of the drawn graph. */
typedef struct DrawNode
{
	char	   *id;				/* schema.name */
	char	   *schema;
	char	   *name;
	const char *kind;			/* model, source, view, relation */
	ModelDef   *model;			/* for models */
} DrawNode;

typedef struct DrawEdge
{
	char	   *from;
	char	   *to;
	int			from_index;		/* 1-based positions in the sorted node list */
	int			to_index;
} DrawEdge;

typedef struct Drawing
{
	List	   *nodes;			/* of DrawNode * */
	List	   *edges;			/* of DrawEdge * */
} Drawing;

extern Graph *GraphLoad(List *models, bool test_edges);
extern int	GraphFind(Graph *graph, const char *name);
extern bool *GraphSelect(Graph *graph, const char *selector, const char *exclude);
extern List *GraphPlan(Graph *graph, bool *selected);
extern List *GraphUpstreamPath(Graph *graph, int from, int to);
extern Drawing *GraphDrawing(Graph *graph, bool *selected);

#endif							/* MEDALLION_GRAPH_H */
