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
 * Selectors follow dbt's grammar: terms separated by spaces are a union,
 * atoms joined by commas an intersection (a union before 0.3.0), each atom
 *	 all			every enabled model
 *	 <layer>		the layer's models and everything upstream of them
 *	 <model>		one model
 *	 layer:<layer>	only the layer's models
 *	 tag:<tag>		models tagged <tag>
 *	 materialized:<kind>, owner:<role>
 *	 state:modified	models never built, or changed since their last build
 * with graph operators: +atom (ancestors), atom+ (descendants), n+atom and
 * atom+n (up to n steps), @atom (descendants and their ancestors).  An
 * exclude selector takes models away.  Disabled models are never selected.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "graph.h"


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

/* ----------------------------------------------------------------
 * Selectors (dbt's grammar)
 *
 * A selector is a space-separated union of terms; a term is a
 * comma-separated intersection of atoms; an atom is
 *	 [@][n+]<value>[+n]	or	[@][n+]<method>:<value>[+n]
 * whose methods are listed in selector_methods.  "+" before a value adds
 * its ancestors (n: up to n steps), after it its descendants; "@" adds its
 * descendants and all their ancestors.  An exclude selector, in the same
 * grammar, takes models away.
 * ---------------------------------------------------------------- */

#define SELECTOR_HINT \
	"Terms separated by spaces add up; a comma joins terms that must all match. " \
	"A term is all, a model or layer name, or tag:, layer:, materialized:, owner: or state: and a value, " \
	"with + before (ancestors) or after (descendants), n+ or +n for a depth, or @ before."

/* The methods an atom may name before a colon, and a bare value. */
typedef enum SelectorMethod
{
	SELECT_NAME,				/* a model or layer name, or all */
	SELECT_TAG,
	SELECT_LAYER,
	SELECT_PATH,
	SELECT_MATERIALIZED,
	SELECT_OWNER,
	SELECT_STATE
} SelectorMethod;

static const struct
{
	const char *name;
	SelectorMethod method;
}			selector_methods[] =
{
	{"tag", SELECT_TAG},
	{"layer", SELECT_LAYER},
	{"path", SELECT_PATH},
	{"materialized", SELECT_MATERIALIZED},
	{"config.materialized", SELECT_MATERIALIZED},
	{"owner", SELECT_OWNER},
	{"state", SELECT_STATE}
};

/* One parsed atom. */
typedef struct SelectorAtom
{
	SelectorMethod method;
	char	   *value;
	bool		at;				/* @: descendants and their ancestors */
	int			ancestors;		/* -1: none, 0: unlimited, n: up to n steps */
	int			descendants;	/* likewise */
} SelectorAtom;

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

/*
 * Mark the models up to depth steps from node (0: any number), not node
 * itself, in one direction: a breadth-first walk, so that each model gets
 * its shortest distance.
 */
static void
mark_within(Graph *graph, int node, bool upstream, int depth, bool *marks)
{
	int		   *queue = palloc(sizeof(int) * (graph->nnodes + 1));
	int		   *dist = palloc(sizeof(int) * (graph->nnodes + 1));
	bool	   *seen = palloc0(sizeof(bool) * (graph->nnodes + 1));
	int			head = 0,
				tail = 0;

	queue[tail++] = node;
	dist[node] = 0;
	seen[node] = true;
	while (head < tail)
	{
		int			cur = queue[head++];
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		if (depth > 0 && dist[cur] >= depth)
			continue;
		foreach(lc, upstream ? graph->nodes[cur].upstream : graph->nodes[cur].downstream)
		{
			int			next = lfirst_int(lc);

			if (seen[next])
				continue;
			seen[next] = true;
			dist[next] = dist[cur] + 1;
			marks[next] = true;
			queue[tail++] = next;
		}
	}
	pfree(queue);
	pfree(dist);
	pfree(seen);
}

/*
 * Parse a depth before or after a "+": digits[from, to).  Errors when it
 * is not a number of steps a graph could have.
 */
static int
parse_depth(const char *selector, const char *atom, const char *from, const char *to)
{
	int64		depth = 0;

	for (const char *p = from; p < to; p++)
	{
		depth = depth * 10 + (*p - '0');
		if (depth > MaxAllocSize / sizeof(int))
			selector_error(selector, psprintf("The depth in \"%s\" is too large.", atom));
	}
	if (depth == 0)
		selector_error(selector,
					   psprintf("The depth in \"%s\" is 0: a depth counts the steps taken, from 1.", atom));
	return (int) depth;
}

/*
 * Parse one atom (a palloc'd copy, trimmed) of selector.  Syntax errors
 * only: names are checked when the atom is applied.
 */
static SelectorAtom *
parse_atom(const char *selector, char *atom)
{
	SelectorAtom *parsed = palloc0(sizeof(SelectorAtom));
	char	   *text = pstrdup(atom);
	char	   *p = text;
	char	   *end;
	char	   *colon;

	parsed->ancestors = parsed->descendants = -1;
	if (*p == '@')
	{
		parsed->at = true;
		p++;
	}
	/* [n]+ before the value */
	{
		char	   *digits = p;

		while (isdigit((unsigned char) *p))
			p++;
		if (*p == '+')
		{
			parsed->ancestors = p > digits ? parse_depth(selector, atom, digits, p) : 0;
			p++;
		}
		else if (p > digits)
			selector_error(selector,
						   psprintf("\"%s\" starts with a number: a depth of ancestors is written n+model.", atom));
	}
	/* +[n] after it */
	end = p + strlen(p);
	{
		char	   *q = end;

		while (q > p && isdigit((unsigned char) q[-1]))
			q--;
		if (q > p && q[-1] == '+')
		{
			parsed->descendants = q < end ? parse_depth(selector, atom, q, end) : 0;
			end = q - 1;
			*end = '\0';
		}
	}
	if (parsed->at && parsed->ancestors >= 0)
		selector_error(selector,
					   psprintf("\"%s\" has both @ and a + before its value: @ already adds the ancestors of every descendant.", atom));
	if (strchr(p, '+') != NULL || strchr(p, '@') != NULL)
		selector_error(selector,
					   psprintf("\"%s\" has a + or @ inside it: they belong before or after the value only.", atom));

	colon = strchr(p, ':');
	parsed->method = SELECT_NAME;
	if (colon != NULL)
	{
		bool		known = false;

		*colon = '\0';
		for (int i = 0; i < lengthof(selector_methods); i++)
		{
			if (strcmp(p, selector_methods[i].name) == 0)
			{
				parsed->method = selector_methods[i].method;
				known = true;
			}
		}
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("unknown selector method \"%s\" in selector \"%s\"", p, selector),
					 errdetail("The methods are tag, layer, path, materialized, owner and state."),
					 errhint(SELECTOR_HINT)));
		p = colon + 1;
	}
	if (parsed->method == SELECT_PATH)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("selector method path: is not supported (selector \"%s\")", selector),
				 errdetail("Models do not record the file they were defined in."),
				 errhint("Select by layer: (imported projects get their layers from folders), by tag:, or by model name.")));
	if (!valid_selector_word(p))
		selector_error(selector,
					   psprintf(*p == '\0' ? "\"%s\" names nothing%s." :
								"\"%s\" is not a valid name%s: names are letters, digits, _, - and .",
								atom, parsed->method == SELECT_NAME ? "" : " after its method"));
	parsed->value = pstrdup(p);
	if (parsed->method == SELECT_NAME && strcmp(parsed->value, "all") == 0 &&
		(parsed->at || parsed->ancestors >= 0 || parsed->descendants >= 0))
		selector_error(selector,
					   psprintf("\"%s\" adds ancestors or descendants to all, which has them already.", atom));
	return parsed;
}

/*
 * The models an atom names before its graph operators: into base, and
 * the seeds its operators start from into seeds (a layer name makes the
 * layer current: its models and all they read are selected, and
 * operators start from the layer's models).
 */
static void
atom_base(Graph *graph, const char *selector, SelectorAtom *atom, bool *base, bool *seeds)
{
	const char *value = atom->value;
	bool		found = false;

	switch (atom->method)
	{
		case SELECT_NAME:
			{
				int			node;

				if (strcmp(value, "all") == 0)
				{
					for (int i = 0; i < graph->nnodes; i++)
						base[i] = seeds[i] = true;
					return;
				}
				node = GraphFind(graph, value);
				if (node >= 0)
				{
					base[node] = seeds[node] = true;
					return;
				}
				if (find_layer(graph, value) == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("selector \"%s\" names no model or layer \"%s\"", selector, value),
							 errdetail("A name alone selects a model, or a layer and all its models read."),
							 errhint("Models are listed in medallion.models, layers in medallion.layers; a tag is selected with tag:<tag>.")));
				for (int i = 0; i < graph->nnodes; i++)
				{
					if (strcmp(graph->nodes[i].model->layer, value) == 0)
					{
						base[i] = seeds[i] = true;
						mark_within(graph, i, true, 0, base);
					}
				}
				return;
			}
		case SELECT_LAYER:
			if (find_layer(graph, value) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("layer \"%s\" in selector \"%s\" does not exist", value, selector),
						 errdetail("layer: selects the models published in a layer."),
						 errhint("Layers are listed in medallion.layers.")));
			for (int i = 0; i < graph->nnodes; i++)
			{
				if (strcmp(graph->nodes[i].model->layer, value) == 0)
					base[i] = true;
			}
			break;
		case SELECT_TAG:
			for (int i = 0; i < graph->nnodes; i++)
			{
				ListCell   *lc;

				foreach(lc, graph->nodes[i].model->tags)
				{
					if (strcmp((char *) lfirst(lc), value) == 0)
						base[i] = found = true;
				}
			}
			if (!found)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("no model has tag \"%s\" (selector \"%s\")", value, selector),
						 errdetail("tag: selects the models whose tags include it (medallion_create_model's tags)."),
						 errhint("Tags are listed in medallion.models.tags.")));
			break;
		case SELECT_PATH:
			/* refused by parse_atom */
			break;
		case SELECT_MATERIALIZED:
			(void) CatalogMaterialization(value);	/* errors on unknown kinds */
			for (int i = 0; i < graph->nnodes; i++)
			{
				if (strcmp(graph->nodes[i].model->materialized, value) == 0)
					base[i] = true;
			}
			break;
		case SELECT_OWNER:
			if (!OidIsValid(get_role_oid(value, true)))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("role \"%s\" in selector \"%s\" does not exist", value, selector),
						 errdetail("owner: selects the models a role owns."),
						 errhint("Owners are listed in medallion.models.owner.")));
			for (int i = 0; i < graph->nnodes; i++)
			{
				if (strcmp(graph->nodes[i].model->owner, value) == 0)
					base[i] = true;
			}
			break;
		case SELECT_STATE:
			{
				ListCell   *lc;
				bool		new_only = strcmp(value, "new") == 0;

				if (!new_only && strcmp(value, "modified") != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("unknown state \"%s\" in selector \"%s\"", value, selector),
							 errdetail("state:modified selects the models whose definition changed since their last successful build (or that were never built); state:new those never built."),
							 errhint("Write state:modified or state:new.")));
				foreach(lc, CatalogModifiedModels(new_only))
				{
					int			node = GraphFind(graph, lfirst(lc));

					if (node >= 0)
						base[node] = true;
				}
				break;
			}
	}
	for (int i = 0; i < graph->nnodes; i++)
		seeds[i] = base[i];
}

/* Add the models atom selects to marks. */
static void
select_atom(Graph *graph, const char *selector, SelectorAtom *atom, bool *marks)
{
	bool	   *base = palloc0(sizeof(bool) * (graph->nnodes + 1));
	bool	   *seeds = palloc0(sizeof(bool) * (graph->nnodes + 1));

	atom_base(graph, selector, atom, base, seeds);
	for (int i = 0; i < graph->nnodes; i++)
	{
		if (!seeds[i])
			continue;
		if (atom->ancestors >= 0)
			mark_within(graph, i, true, atom->ancestors, base);
		if (atom->descendants >= 0 || atom->at)
			mark_within(graph, i, false, atom->at ? 0 : atom->descendants, base);
	}
	if (atom->at)
	{
		/* the ancestors of everything selected so far */
		bool	   *down = palloc(sizeof(bool) * (graph->nnodes + 1));

		memcpy(down, base, sizeof(bool) * (graph->nnodes + 1));
		for (int i = 0; i < graph->nnodes; i++)
		{
			if (down[i])
				mark_within(graph, i, true, 0, base);
		}
	}
	for (int i = 0; i < graph->nnodes; i++)
		marks[i] |= base[i];
}

/*
 * Split selector into terms (a List of Lists of atoms, char *): spaces
 * separate terms, commas (spaces around them allowed) the atoms of one.
 * Sets *comma when an atom follows a comma.
 */
static List *
split_selector(const char *selector, bool *comma)
{
	List	   *terms = NIL;
	List	   *atoms = NIL;
	StringInfoData atom;
	const char *p = selector;

	*comma = false;
	initStringInfo(&atom);
	for (;;)
	{
		while (isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		resetStringInfo(&atom);
		while (*p != '\0' && *p != ',' && !isspace((unsigned char) *p))
			appendStringInfoChar(&atom, *p++);
		if (atom.len == 0)
			selector_error(selector,
						   atoms == NIL ? "A comma follows nothing: a comma joins two terms that must both match." :
						   "Two commas follow each other: a comma joins two terms that must both match.");
		atoms = lappend(atoms, pstrdup(atom.data));
		while (isspace((unsigned char) *p))
			p++;
		if (*p == ',')
		{
			p++;
			while (isspace((unsigned char) *p))
				p++;
			if (*p == '\0')
				selector_error(selector, "The selector ends with a comma: a comma joins two terms that must both match.");
			*comma = true;
			continue;
		}
		terms = lappend(terms, atoms);
		atoms = NIL;
	}
	if (terms == NIL)
		selector_error(selector, "It is empty.");
	return terms;
}

/* Mark the models selector picks (disabled ones too) into marks. */
static void
select_into(Graph *graph, const char *selector, bool *marks, bool notice_comma)
{
	bool		comma;
	List	   *terms = split_selector(selector, &comma);
	List	   *parsed = NIL;
	ListCell   *lc;

	/* all syntax errors before name errors */
	foreach(lc, terms)
	{
		List	   *atoms = NIL;
		ListCell   *la;

		foreach(la, (List *) lfirst(lc))
			atoms = lappend(atoms, parse_atom(selector, lfirst(la)));
		parsed = lappend(parsed, atoms);
	}
	if (comma && notice_comma)
		ereport(NOTICE,
				(errmsg("a comma in selector \"%s\" means intersection since medallion 0.3.0", selector),
				 errdetail("\"a,b\" selects the models that match both a and b, as in dbt; before 0.3.0 it selected the models that match either."),
				 errhint("Separate terms with a space to select the models that match either: \"a b\".")));
	foreach(lc, parsed)
	{
		bool	   *term = NULL;
		ListCell   *la;

		foreach(la, (List *) lfirst(lc))
		{
			bool	   *one = palloc0(sizeof(bool) * (graph->nnodes + 1));

			select_atom(graph, selector, lfirst(la), one);
			if (term == NULL)
				term = one;
			else
			{
				for (int i = 0; i < graph->nnodes; i++)
					term[i] = term[i] && one[i];
			}
		}
		for (int i = 0; i < graph->nnodes; i++)
			marks[i] |= term[i];
	}
}

/*
 * GraphSelect
 *		Returns a palloc'd array of nnodes flags: the enabled models the
 *		selector picks, less those exclude (NULL: none) picks.  Errors on
 *		syntax errors and unknown names (syntax first); a NOTICE when a
 *		comma joins atoms (its meaning changed in 0.3.0).
 */
bool *
GraphSelect(Graph *graph, const char *selector, const char *exclude)
{
	bool	   *marks = palloc0(sizeof(bool) * (graph->nnodes + 1));

	select_into(graph, selector, marks, true);
	if (exclude != NULL)
	{
		bool	   *out = palloc0(sizeof(bool) * (graph->nnodes + 1));

		select_into(graph, exclude, out, true);
		for (int i = 0; i < graph->nnodes; i++)
			marks[i] = marks[i] && !out[i];
	}
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
