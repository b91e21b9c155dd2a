/*-------------------------------------------------------------------------
 *
 * graph.c
 *	  The model DAG: loading, selectors, cycles, topological waves, and
 *	  the plans runs follow (medallion_plan, in run_plan.c, shows them).
 *
 * The graph is built from medallion.models and medallion.model_dependencies
 * (kind = 'model').  Models whose derived rows are missing or stale (after
 * a pg_dump/restore, where derived tables are not dumped) are analyzed
 * again before the graph is built.
 *
 * Selectors: a comma-separated union of terms
 *	 all			every enabled model
 *	 <layer>		the layer's models and everything upstream of them
 *	 layer:<layer>	only the layer's models
 *	 tag:<tag>		models tagged <tag>
 *	 <model>		one model; +<model> adds its ancestors, <model>+ its
 *					descendants (both signs may be used)
 * Disabled models are never selected.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "graph.h"

#define SELECTOR_HINT \
	"A selector is a comma-separated list of: all, a layer name, layer:<layer>, " \
	"tag:<tag>, a model name, +model (with its ancestors), model+ (with its descendants)."


static bool find_path(Graph *graph, int node, int target, bool *seen, List **path);

/*
 * add_test_edges
 *		A relationships test that references another model makes the tested
 *		model run after it, so the test reads the referenced model's new
 *		state.  These edges only order a plan: they do not select, skip or
 *		forbid anything.  One that would close a cycle is left out: that
 *		test then reads what is published.
 */
static void
add_test_edges(Graph *graph)
{
	List	   *pairs = CatalogTestEdges();
	ListCell   *lc;

	foreach(lc, pairs)
	{
		List	   *pair = lfirst(lc);
		int			from = GraphFind(graph, linitial(pair));
		int			to = GraphFind(graph, lsecond(pair));
		bool	   *seen;
		List	   *path = NIL;

		if (from < 0 || to < 0 || list_member_int(graph->nodes[from].upstream, to))
			continue;
		seen = palloc0(sizeof(bool) * (graph->nnodes + 1));
		if (find_path(graph, to, from, seen, &path))
			continue;			/* "to" already reads "from" */
		graph->nodes[from].after = list_append_unique_int(graph->nodes[from].after, to);
		graph->nodes[to].before = list_append_unique_int(graph->nodes[to].before, from);
	}
}

/*
 * GraphLoad
 *		Returns the graph of models, all of them (a List of ModelDef *,
 *		ModelListFresh's: those whose derived rows were stale re-analyzed
 *		first).  With test_edges (for plans and runs), a model with a
 *		relationships test also comes after the model it references.
 *		Allocated in the current memory context.
 */
Graph *
GraphLoad(List *models, bool test_edges)
{
	Graph	   *graph = palloc0(sizeof(Graph));
	ListCell   *lc;
	int			i = 0;

	graph->layers = CatalogListLayers();
	graph->nnodes = list_length(models);
	graph->nodes = palloc0(sizeof(GraphNode) * (graph->nnodes + 1));
	foreach(lc, models)
		graph->nodes[i++].model = lfirst(lc);

	graph->dependencies = CatalogListDependencies(NULL);
	foreach(lc, graph->dependencies)
	{
		DependencyRow *dep = lfirst(lc);
		int			from,
					to;

		if (strcmp(dep->kind, "model") != 0)
			continue;
		from = GraphFind(graph, dep->model);
		to = GraphFind(graph, dep->name);
		if (from < 0 || to < 0)
			continue;			/* cannot happen: rows cascade with models */
		graph->nodes[from].upstream = list_append_unique_int(graph->nodes[from].upstream, to);
		graph->nodes[to].downstream = list_append_unique_int(graph->nodes[to].downstream, from);
	}
	if (test_edges)
		add_test_edges(graph);
	return graph;
}

/*
 * GraphFind
 *		Returns the node index of the named model, or -1.
 */
int
GraphFind(Graph *graph, const char *name)
{
	for (int i = 0; i < graph->nnodes; i++)
	{
		if (strcmp(graph->nodes[i].model->name, name) == 0)
			return i;
	}
	return -1;
}

/* Mark every model reachable from node (not node itself), one direction. */
static void
mark_reachable(Graph *graph, int node, bool upstream, bool *marks)
{
	List	   *edges;
	ListCell   *lc;

	check_stack_depth();
	edges = upstream ? graph->nodes[node].upstream : graph->nodes[node].downstream;
	foreach(lc, edges)
	{
		int			next = lfirst_int(lc);

		if (!marks[next])
		{
			marks[next] = true;
			mark_reachable(graph, next, upstream, marks);
		}
	}
}

static bool
valid_selector_word(const char *word)
{
	if (*word == '\0')
		return false;
	for (const char *p = word; *p; p++)
	{
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.'))
			return false;
	}
	return true;
}

static void
selector_error(const char *selector, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("invalid selector \"%s\"", selector),
			 errdetail_internal("%s", detail),
			 errhint(SELECTOR_HINT)));
}

static LayerDef *
find_layer(Graph *graph, const char *name)
{
	ListCell   *lc;

	foreach(lc, graph->layers)
	{
		if (strcmp(((LayerDef *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	}
	return NULL;
}

/* Apply one selector term to marks. */
static void
select_term(Graph *graph, const char *selector, char *term, bool *marks)
{
	bool	   *reach = palloc0(sizeof(bool) * (graph->nnodes + 1));
	bool		ancestors = false;
	bool		descendants = false;
	size_t		len;
	int			node;

	if (strcmp(term, "all") == 0)
	{
		for (int i = 0; i < graph->nnodes; i++)
			marks[i] = true;
		return;
	}
	if (strncmp(term, "tag:", 4) == 0 || strncmp(term, "layer:", 6) == 0)
	{
		bool		is_tag = term[0] == 't';
		char	   *value = term + (is_tag ? 4 : 6);
		bool		found = false;

		if (!valid_selector_word(value))
			selector_error(selector, psprintf("\"%s\" is not a valid %s name.",
											  value, is_tag ? "tag" : "layer"));
		if (!is_tag && find_layer(graph, value) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("layer \"%s\" in selector \"%s\" does not exist", value, selector),
					 errhint("Layers are listed in medallion.layers.")));
		for (int i = 0; i < graph->nnodes; i++)
		{
			ModelDef   *model = graph->nodes[i].model;
			ListCell   *lc;

			if (!is_tag && strcmp(model->layer, value) == 0)
				marks[i] = found = true;
			foreach(lc, is_tag ? model->tags : NIL)
			{
				if (strcmp((char *) lfirst(lc), value) == 0)
					marks[i] = found = true;
			}
		}
		if (is_tag && !found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("no model has tag \"%s\" (selector \"%s\")", value, selector),
					 errhint("Tags are listed in medallion.models.tags.")));
		return;
	}

	if (*term == '+')
	{
		ancestors = true;
		term++;
	}
	len = strlen(term);
	if (len > 0 && term[len - 1] == '+')
	{
		descendants = true;
		term[--len] = '\0';
	}
	if (!valid_selector_word(term))
		selector_error(selector, psprintf("\"%s\" is not a model or layer name.", term));

	node = GraphFind(graph, term);
	if (node >= 0)
	{
		marks[node] = true;
		if (ancestors)
			mark_reachable(graph, node, true, reach);
		if (descendants)
			mark_reachable(graph, node, false, reach);
	}
	else if (find_layer(graph, term) != NULL)
	{
		/* a layer made current: its models and all they need */
		for (int i = 0; i < graph->nnodes; i++)
		{
			if (strcmp(graph->nodes[i].model->layer, term) == 0)
			{
				reach[i] = true;
				mark_reachable(graph, i, true, reach);
				if (descendants)
					mark_reachable(graph, i, false, reach);
			}
		}
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("selector \"%s\" names no model or layer \"%s\"", selector, term),
				 errhint("Models are listed in medallion.models, layers in medallion.layers.")));

	for (int i = 0; i < graph->nnodes; i++)
		marks[i] |= reach[i];
}

/*
 * GraphSelect
 *		Returns a palloc'd array of nnodes flags: the enabled models the
 *		selector picks.  Errors on syntax errors and unknown names.
 */
bool *
GraphSelect(Graph *graph, const char *selector)
{
	bool	   *marks = palloc0(sizeof(bool) * (graph->nnodes + 1));
	char	   *copy = pstrdup(selector);
	char	   *term = copy;
	List	   *terms = NIL;
	ListCell   *lc;

	/* split and trim first, so that syntax errors come before name errors */
	for (;;)
	{
		char	   *comma = strchr(term, ',');
		char	   *end;

		if (comma)
			*comma = '\0';
		while (isspace((unsigned char) *term))
			term++;
		end = term + strlen(term);
		while (end > term && isspace((unsigned char) end[-1]))
			*--end = '\0';
		if (*term == '\0')
			selector_error(selector, psprintf("Term %d is empty.", list_length(terms) + 1));
		terms = lappend(terms, term);
		if (comma == NULL)
			break;
		term = comma + 1;
	}
	foreach(lc, terms)
		select_term(graph, selector, lfirst(lc), marks);

	for (int i = 0; i < graph->nnodes; i++)
	{
		if (!graph->nodes[i].model->enabled)
			marks[i] = false;
	}
	return marks;
}

static int
compare_steps(const ListCell *a, const ListCell *b)
{
	PlanStep   *sa = lfirst(a);
	PlanStep   *sb = lfirst(b);

	if (sa->wave != sb->wave)
		return sa->wave - sb->wave;
	return sa->node - sb->node;
}

/*
 * GraphPlan
 *		Returns the selected models as PlanStep *s in dependency order.  A
 *		model's wave is one more than the highest wave of the selected models
 *		it reads, so the models of one wave are independent of each other.
 */
List *
GraphPlan(Graph *graph, bool *selected)
{
	int		   *pending = palloc0(sizeof(int) * (graph->nnodes + 1));
	int		   *wave = palloc0(sizeof(int) * (graph->nnodes + 1));
	int		   *queue = palloc(sizeof(int) * (graph->nnodes + 1));
	int			head = 0,
				tail = 0,
				nselected = 0;
	List	   *steps = NIL;

	for (int i = 0; i < graph->nnodes; i++)
	{
		ListCell   *lc;

		if (!selected[i])
			continue;
		nselected++;
		foreach(lc, graph->nodes[i].upstream)
		{
			if (selected[lfirst_int(lc)])
				pending[i]++;
		}
		foreach(lc, graph->nodes[i].after)
		{
			if (selected[lfirst_int(lc)])
				pending[i]++;
		}
		if (pending[i] == 0)
		{
			wave[i] = 1;
			queue[tail++] = i;
		}
	}
	while (head < tail)
	{
		int			node = queue[head++];
		PlanStep   *step = palloc(sizeof(PlanStep));
		ListCell   *lc;

		step->node = node;
		step->wave = wave[node];
		steps = lappend(steps, step);
		foreach(lc, list_concat_copy(graph->nodes[node].downstream, graph->nodes[node].before))
		{
			int			down = lfirst_int(lc);

			if (!selected[down])
				continue;
			wave[down] = Max(wave[down], wave[node] + 1);
			if (--pending[down] == 0)
				queue[tail++] = down;
		}
	}
	if (tail != nselected)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_RECURSION),
				 errmsg("the model graph has a dependency cycle"),
				 errhint("Run SELECT medallion_reanalyze(); to rebuild the dependencies.")));
	list_sort(steps, compare_steps);
	return steps;
}

/* Depth-first search upstream from node for target, building the path. */
static bool
find_path(Graph *graph, int node, int target, bool *seen, List **path)
{
	ListCell   *lc;

	check_stack_depth();
	if (node == target)
	{
		*path = lcons_int(node, *path);
		return true;
	}
	if (seen[node])
		return false;
	seen[node] = true;
	foreach(lc, graph->nodes[node].upstream)
	{
		if (find_path(graph, lfirst_int(lc), target, seen, path))
		{
			*path = lcons_int(node, *path);
			return true;
		}
	}
	return false;
}

/*
 * GraphUpstreamPath
 *		Returns the node indexes of a path from "from" to "to" following
 *		upstream edges (each reads the next), or NIL if there is none.
 */
List *
GraphUpstreamPath(Graph *graph, int from, int to)
{
	bool	   *seen = palloc0(sizeof(bool) * (graph->nnodes + 1));
	List	   *path = NIL;

	if (find_path(graph, from, to, seen, &path))
		return path;
	return NIL;
}

/* ----------------------------------------------------------------
 * The drawing: selected models, what they read, and the edges
 * (medallion_graph, the page)
 * ---------------------------------------------------------------- */

static DrawNode *
draw_node(Drawing *drawing, const char *schema, const char *name, const char *kind,
		  ModelDef *model)
{
	char	   *id = psprintf("%s.%s", schema, name);
	ListCell   *lc;
	DrawNode   *node;

	foreach(lc, drawing->nodes)
	{
		node = lfirst(lc);
		if (strcmp(node->id, id) == 0)
			return node;
	}
	node = palloc0(sizeof(DrawNode));
	node->id = id;
	node->schema = pstrdup(schema);
	node->name = pstrdup(name);
	node->kind = kind;
	node->model = model;
	drawing->nodes = lappend(drawing->nodes, node);
	return node;
}

static void
draw_edge(Drawing *drawing, const char *from, const char *to)
{
	ListCell   *lc;
	DrawEdge   *edge;

	foreach(lc, drawing->edges)
	{
		edge = lfirst(lc);
		if (strcmp(edge->from, from) == 0 && strcmp(edge->to, to) == 0)
			return;
	}
	edge = palloc(sizeof(DrawEdge));
	edge->from = pstrdup(from);
	edge->to = pstrdup(to);
	drawing->edges = lappend(drawing->edges, edge);
}

/* Models first (layer, name), then the other relations by id. */
static int
compare_draw_nodes(const ListCell *a, const ListCell *b)
{
	DrawNode   *na = lfirst(a);
	DrawNode   *nb = lfirst(b);

	if ((na->model != NULL) != (nb->model != NULL))
		return na->model != NULL ? -1 : 1;
	if (na->model != NULL && na->model->layer_ordinal != nb->model->layer_ordinal)
		return na->model->layer_ordinal - nb->model->layer_ordinal;
	return strcmp(na->id, nb->id);
}

/* Edges by the position of their target node, then of their source. */
static int
compare_draw_edges(const ListCell *a, const ListCell *b)
{
	DrawEdge   *ea = lfirst(a);
	DrawEdge   *eb = lfirst(b);

	if (ea->to_index != eb->to_index)
		return ea->to_index - eb->to_index;
	return ea->from_index - eb->from_index;
}

static int
node_index(Drawing *drawing, const char *id)
{
	ListCell   *lc;

	foreach(lc, drawing->nodes)
	{
		if (strcmp(((DrawNode *) lfirst(lc))->id, id) == 0)
			return foreach_current_index(lc) + 1;
	}
	elog(ERROR, "graph edge names unknown node %s", id);
	return 0;					/* keep compiler quiet */
}

/*
 * GraphDrawing
 *		The selected models, what they read, and the edges between them,
 *		sorted (models by layer and name, then the other relations);
 *		palloc'd in the current context.
 */
Drawing *
GraphDrawing(Graph *graph, bool *selected)
{
	Drawing    *drawing = palloc0(sizeof(Drawing));
	ListCell   *lc;

	for (int i = 0; i < graph->nnodes; i++)
	{
		ModelDef   *model = graph->nodes[i].model;

		if (selected[i])
			draw_node(drawing, model->schema, model->name, "model", model);
	}
	foreach(lc, graph->dependencies)
	{
		DependencyRow *dep = lfirst(lc);
		int			reader = GraphFind(graph, dep->model);
		ModelDef   *model;
		DrawNode   *from;
		char	   *to;

		if (reader < 0 || !selected[reader])
			continue;
		model = graph->nodes[reader].model;
		if (strcmp(dep->kind, "model") == 0)
		{
			int			up = GraphFind(graph, dep->name);

			from = draw_node(drawing, dep->schema, dep->name, "model",
							 up >= 0 ? graph->nodes[up].model : NULL);
		}
		else
			from = draw_node(drawing, dep->schema, dep->name, dep->kind, NULL);

		/* read through a view: the edge goes to the innermost view */
		if (dep->via[0] == '\0')
			to = psprintf("%s.%s", model->schema, model->name);
		else
		{
			char	   *last = strrchr(dep->via, '>');

			to = pstrdup(last ? last + 2 : dep->via);
		}
		draw_edge(drawing, from->id, to);
	}
	list_sort(drawing->nodes, compare_draw_nodes);
	foreach(lc, drawing->edges)
	{
		DrawEdge   *edge = lfirst(lc);

		edge->from_index = node_index(drawing, edge->from);
		edge->to_index = node_index(drawing, edge->to);
	}
	list_sort(drawing->edges, compare_draw_edges);
	return drawing;
}
