/*-------------------------------------------------------------------------
 *
 * medallion_docs.c
 *	  medallion_docs.so: lays a graph out with Graphviz's library (libgvc,
 *	  the dot layout) and renders it as SVG, for medallion_docs() and
 *	  medallion_graph(selector, 'svg').
 *
 * This is a module of its own, loaded only when an SVG is asked for, so
 * that medallion.so loads where Graphviz is not installed (docs_graph.c
 * then says what to install).
 *
 * Graphviz runs in a child process forked for each layout, never in the
 * backend itself.  Graphviz is a C library with its own allocator and its
 * own failure modes: a graph it cannot lay out may end in an assertion or
 * a crash, and a crash of a backend makes the postmaster restart every
 * session.  A crash of the child is only a failed layout: the backend
 * reports it as an error and carries on.  The child also has a time limit
 * (DOCS_LAYOUT_TIME_LIMIT), and a cancelled query kills it.
 *
 * The child touches no shared memory and raises no PostgreSQL error: it
 * builds the graph with cgraph's API (no DOT text is parsed, so no name can
 * change the graph's structure), registers the built-in dot layout and core
 * render plugins itself (gvContextPlugins: no config file is read, nothing
 * is loaded from disk), collects Graphviz's error messages through
 * agseterrf, frees what Graphviz allocated, writes one message to a pipe
 * and leaves with _exit.  The message is "S" and the SVG, or "E" and the
 * error text; the backend reads it and raises errors through ereport.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include <gvc.h>
#include <gvplugin.h>

#include "docs_layout.h"

PG_MODULE_MAGIC;

/* The plugins linked into this module, registered without a config file. */
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;

static const lt_symlist_t docs_plugins[] = {
	{"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
	{"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
	{NULL, NULL}
};

/* Graphviz's error messages in the child, collected by collect_error. */
static char child_errors[2048];

extern PGDLLEXPORT char *DocsLayoutSvg(const DocsLayout *layout);

static void layout_child(const DocsLayout *layout, int fd, sigset_t *parent_mask) pg_attribute_noreturn();
static char *read_child(int fd);

/*
 * collect_error
 *		agseterrf's callback: keeps Graphviz's messages (it prints them to
 *		stderr otherwise), truncated to the buffer.
 */
static int
collect_error(char *message)
{
	size_t		used = strlen(child_errors);

	if (used < sizeof(child_errors) - 1)
		strlcpy(child_errors + used, message, sizeof(child_errors) - used);
	return 0;
}

/*
 * escaped
 *		A copy of text (malloc'd) in which Graphviz's escapes (\N, \n, \l
 *		and the like in labels) are written as plain backslashes.
 */
static char *
escaped(const char *text)
{
	char	   *copy = malloc(strlen(text) * 2 + 1);
	char	   *out = copy;

	if (copy == NULL)
		return NULL;
	for (const char *p = text; *p; p++)
	{
		if (*p == '\\')
			*out++ = '\\';
		*out++ = *p;
	}
	*out = '\0';
	return copy;
}

/* Set a string attribute of a graph object; false when out of memory. */
static bool
set_attribute(void *object, char *name, const char *value)
{
	char	   *copy = escaped(value);

	if (copy == NULL)
		return false;
	agsafeset(object, name, copy, "");
	free(copy);
	return true;
}

/* Write all of a buffer to the pipe; false when the reader has gone. */
static bool
write_all(int fd, const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

/*
 * build_graph
 *		The cgraph graph of the layout, or NULL (with a message in
 *		child_errors) when Graphviz refuses something.
 */
static Agraph_t *
build_graph(const DocsLayout *layout)
{
	Agraph_t   *graph = agopen("medallion", Agdirected, NULL);
	Agraph_t  **clusters;
	Agnode_t  **nodes;
	bool		ok = true;

	if (graph == NULL)
		return NULL;
	agattr(graph, AGRAPH, "rankdir", "LR");
	agattr(graph, AGRAPH, "fontname", "Helvetica");
	agattr(graph, AGRAPH, "fontsize", "12");
	agattr(graph, AGRAPH, "nodesep", "0.2");
	agattr(graph, AGRAPH, "ranksep", "0.7");
	agattr(graph, AGRAPH, "style", "rounded,filled");
	agattr(graph, AGRAPH, "color", "#c5cbd3");
	agattr(graph, AGRAPH, "fillcolor", "#ffffff");
	agattr(graph, AGRAPH, "labeljust", "l");
	agattr(graph, AGNODE, "shape", "box");
	agattr(graph, AGNODE, "style", "filled,rounded");
	agattr(graph, AGNODE, "fontname", "Helvetica");
	agattr(graph, AGNODE, "fontsize", "11");
	agattr(graph, AGNODE, "color", "#5b6470");
	agattr(graph, AGNODE, "fillcolor", "#ffffff");
	agattr(graph, AGEDGE, "color", "#7d8793");
	agattr(graph, AGEDGE, "arrowsize", "0.6");

	clusters = calloc(layout->nclusters + 1, sizeof(Agraph_t *));
	nodes = calloc(layout->nnodes + 1, sizeof(Agnode_t *));
	if (clusters == NULL || nodes == NULL)
		ok = false;
	for (int i = 0; ok && i < layout->nclusters; i++)
	{
		char		name[32];

		snprintf(name, sizeof(name), "cluster_%d", i);
		clusters[i] = agsubg(graph, name, 1);
		ok = clusters[i] != NULL &&
			set_attribute(clusters[i], "label", layout->clusters[i].label) &&
			set_attribute(clusters[i], "fillcolor", layout->clusters[i].fill);
	}
	for (int i = 0; ok && i < layout->nnodes; i++)
	{
		const DocsLayoutNode *node = &layout->nodes[i];
		Agraph_t   *home = node->cluster >= 0 ? clusters[node->cluster] : graph;
		char		name[32];

		/* nodes are named by position: ids and labels are only attributes */
		snprintf(name, sizeof(name), "n%d", i);
		nodes[i] = agnode(home, name, 1);
		ok = nodes[i] != NULL &&
			set_attribute(nodes[i], "id", node->id) &&
			set_attribute(nodes[i], "label", node->label) &&
			set_attribute(nodes[i], "shape", node->shape) &&
			set_attribute(nodes[i], "fillcolor", node->fill) &&
			(!node->dashed || set_attribute(nodes[i], "style", "filled,rounded,dashed")) &&
			(node->url == NULL || set_attribute(nodes[i], "URL", node->url)) &&
			set_attribute(nodes[i], "tooltip", node->tooltip ? node->tooltip : node->label);
	}
	for (int i = 0; ok && i < layout->nedges; i++)
	{
		const DocsLayoutEdge *edge = &layout->edges[i];

		if (edge->from < 0 || edge->from >= layout->nnodes ||
			edge->to < 0 || edge->to >= layout->nnodes)
			continue;
		ok = agedge(graph, nodes[edge->from], nodes[edge->to], NULL, 1) != NULL;
	}
	free(clusters);
	free(nodes);
	if (!ok)
	{
		collect_error("out of memory while building the graph\n");
		agclose(graph);
		return NULL;
	}
	return graph;
}

/*
 * child_exit
 *		Registered last, so run first, when Graphviz calls exit() in the
 *		child (it does on errors such as running out of memory): leave
 *		before the backend's own exit handlers, inherited with the fork,
 *		touch shared memory.
 */
static void
child_exit(void)
{
	_exit(3);
}

/*
 * layout_child
 *		The child process: lay out, render, write the message, exit.  It
 *		starts with every signal blocked (DocsLayoutSvg blocks them around
 *		the fork), so no handler of the backend runs here.
 */
static void
layout_child(const DocsLayout *layout, int fd, sigset_t *parent_mask)
{
	GVC_t	   *gvc;
	Agraph_t   *graph;
	char	   *svg = NULL;
	unsigned int len = 0;
	bool		done = false;

	atexit(child_exit);
#ifdef __linux__
	/* the backend gone, the layout has no one to answer */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	/* the backend's handlers would act on shared state: not here */
	pqsignal(SIGINT, SIG_IGN);
	pqsignal(SIGTERM, SIG_DFL);
	pqsignal(SIGQUIT, SIG_DFL);
	pqsignal(SIGHUP, SIG_IGN);
	pqsignal(SIGUSR1, SIG_IGN);
	pqsignal(SIGUSR2, SIG_IGN);
	pqsignal(SIGPIPE, SIG_IGN);
	pqsignal(SIGALRM, SIG_DFL);
	pqsignal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, parent_mask, NULL);
	alarm(DOCS_LAYOUT_TIME_LIMIT);

	child_errors[0] = '\0';
	agseterr(AGERR);
	agseterrf(collect_error);
	gvc = gvContextPlugins(docs_plugins, 0);
	graph = gvc ? build_graph(layout) : NULL;
	if (graph != NULL)
	{
		if (gvLayout(gvc, graph, "dot") == 0)
		{
			if (gvRenderData(gvc, graph, "svg", &svg, &len) == 0 && svg != NULL)
				done = true;
			gvFreeLayout(gvc, graph);
		}
		agclose(graph);
	}
	if (done)
		done = write_all(fd, "S", 1) && write_all(fd, svg, len);
	else
	{
		if (child_errors[0] == '\0')
			strlcpy(child_errors, gvc ? "Graphviz failed without a message" :
					"Graphviz could not be initialized", sizeof(child_errors));
		done = write_all(fd, "E", 1) && write_all(fd, child_errors, strlen(child_errors));
	}
	if (svg != NULL)
		gvFreeRenderData(svg);
	if (gvc != NULL)
		gvFreeContext(gvc);
	close(fd);
	_exit(done ? 0 : 1);
}

/*
 * read_child
 *		Reads the child's message until it closes the pipe, waking for
 *		interrupts; returns it palloc'd.  The caller kills the child when
 *		this raises.
 */
static char *
read_child(int fd)
{
	StringInfoData message;
	char		buffer[65536];

	initStringInfo(&message);
	for (;;)
	{
		ssize_t		n = read(fd, buffer, sizeof(buffer));

		if (n > 0)
		{
			appendBinaryStringInfo(&message, buffer, n);
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read from the graph layout process: %m")));
		(void) WaitLatchOrSocket(MyLatch,
								 WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
								 fd, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return message.data;
}

/*
 * DocsLayoutSvg
 *		Lays the graph out in a child process and returns the SVG text,
 *		palloc'd in the current memory context.  Raises an error when
 *		Graphviz fails, the child crashes or runs out of time; the backend
 *		itself is never at risk.
 */
char *
DocsLayoutSvg(const DocsLayout *layout)
{
	int			pipefd[2];
	pid_t		child;
	char	   *volatile message = NULL;
	int			status = 0;

	sigset_t	all,
				before;

	/* the pipe's two descriptors count against the backend's budget */
	ReserveExternalFD();
	ReserveExternalFD();
	if (pipe(pipefd) != 0)
	{
		ReleaseExternalFD();
		ReleaseExternalFD();
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create a pipe for the graph layout: %m")));
	}
	fflush(NULL);
	/* no signal is handled in the child before it sets its own handlers */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &before);
	child = fork();
	if (child == 0)
	{
		close(pipefd[0]);
		layout_child(layout, pipefd[1], &before);
	}
	sigprocmask(SIG_SETMASK, &before, NULL);
	close(pipefd[1]);
	ReleaseExternalFD();
	if (child < 0)
	{
		close(pipefd[0]);
		ReleaseExternalFD();
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the graph layout process: %m")));
	}
	PG_TRY();
	{
		if (!pg_set_noblock(pipefd[0]))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not set the graph layout pipe to non-blocking mode: %m")));
		message = read_child(pipefd[0]);
	}
	PG_CATCH();
	{
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		close(pipefd[0]);
		ReleaseExternalFD();
		PG_RE_THROW();
	}
	PG_END_TRY();
	close(pipefd[0]);
	ReleaseExternalFD();
	while (waitpid(child, &status, 0) < 0)
	{
		if (errno != EINTR)
		{
			status = 0;
			break;
		}
	}

	if (WIFSIGNALED(status))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("the graph layout failed"),
				 errdetail("The Graphviz layout process was terminated by signal %d: %s.",
						   WTERMSIG(status), pg_strsignal(WTERMSIG(status))),
				 WTERMSIG(status) == SIGALRM ?
				 errhint("The layout took longer than %d seconds; select fewer models.",
						 DOCS_LAYOUT_TIME_LIMIT) :
				 errhint("The layout ran in a process of its own: this session goes on.")));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("the graph layout failed"),
				 errdetail("Graphviz ended the layout process: %s",
						   message[0] == 'E' ? message + 1 : "it gave no reason."),
				 errhint("The layout ran in a process of its own: this session goes on.")));
	if (message[0] == 'S')
		return message + 1;
	/* Graphviz ends its messages with a newline */
	for (char *end = message + strlen(message); end > message && isspace((unsigned char) end[-1]); end--)
		end[-1] = '\0';
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("Graphviz could not lay out the graph"),
			 errdetail("%s", message[0] == 'E' ? message + 1 :
					   "The layout process ended without an answer.")));
	return NULL;				/* keep compiler quiet */
}
