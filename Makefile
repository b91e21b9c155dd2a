# Makefile for medallion (PGXS)

EXTENSION = medallion
MODULE_big = medallion
OBJS = \
	src/init.o \
	src/catalog.o \
	src/catalog_tables.o \
	src/catalog_tests.o \
	src/scope.o \
	src/relation.o \
	src/trust.o \
	src/trust_relation.o \
	src/analyze.o \
	src/analyze_lineage.o \
	src/analyze_flatten.o \
	src/analyze_maintain.o \
	src/graph.o \
	src/model.o \
	src/impact.o \
	src/materialize.o \
	src/sqltext.o \
	src/build_relation.o \
	src/contract.o \
	src/build_candidate.o \
	src/build_fill.o \
	src/publish.o \
	src/build_incremental.o \
	src/build_snapshot.o \
	src/extract.o \
	src/lineage.o \
	src/tests_define.o \
	src/tests_run.o \
	src/tests_unit.o \
	src/tests_source.o \
	src/run.o \
	src/run_plan.o \
	src/run_step.o \
	src/run_threads.o \
	src/subxact.o \
	src/bind.o \
	src/catalog_owners.o \
	src/run_workers.o \
	src/run_trim.o \
	src/run_ledger.o \
	src/run_state.o \
	src/run_cron.o \
	src/run_stage.o \
	src/scale.o \
	src/changes_triggers.o \
	src/changes_inputs.o \
	src/changes_deltas.o \
	src/changes_maintain.o \
	src/changes_state.o \
	src/changes_algebraic.o \
	src/changes_apply.o \
	src/changes_verify.o \
	src/changes_logs.o \
	src/changes.o \
	src/docs.o \
	src/docs_graph.o \
	src/docs_html.o \
	src/docs_runs.o \
	src/docs_cron.o

# medallion_docs.so lays graphs out with Graphviz (src/medallion_docs.c).
# It is a module of its own so that medallion.so loads where Graphviz is not
# installed; it is built when libgvc's headers are (Debian:
# libgraphviz-dev).  The dot layout and core render plugins are linked in.
GRAPHVIZ_LIBDIR := $(shell pkg-config --variable=libdir libgvc 2>/dev/null)
ifneq ($(GRAPHVIZ_LIBDIR),)
MODULES = src/medallion_docs
GRAPHVIZ_CFLAGS := $(shell pkg-config --cflags libgvc)
GRAPHVIZ_LIBS := $(shell pkg-config --libs libgvc) -L$(GRAPHVIZ_LIBDIR)/graphviz \
	-lgvplugin_dot_layout -lgvplugin_core -Wl,-rpath,$(GRAPHVIZ_LIBDIR)/graphviz
endif

EXTVERSION = $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" $(EXTENSION).control)
# The install script of the current version is made of the sections in
# src/sql/install; an update script of its own part and the privileges
# section.  Released install and update scripts are kept as they were
# released (src/sql/medallion--*.sql).
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--0.2.0--0.3.0.sql
DATA = src/sql/medallion--0.1.0.sql src/sql/medallion--0.2.0.sql src/sql/medallion--0.1.0--0.2.0.sql
PGFILEDESC = "medallion - medallion data pipelines inside PostgreSQL"

# medallion-dbt (Python 3) is the package tools/medallion_dbt, which
# tools/medallion-dbt runs from the tree.  make builds it into one
# executable file, a zipapp of the package, which goes to PostgreSQL's
# bindir, which Debian does not put on PATH: make install also links it
# into /usr/local/bin.
PYTHON3 = /usr/bin/python3
SCRIPTS_built = medallion-dbt medallion

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=medallion
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test

# run_cron.c logs in as pg_cron's launcher would (libpq), to check that it can
PG_CPPFLAGS += -I$(libpq_srcdir)
SHLIB_LINK_INTERNAL += $(libpq)
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Each SQL object is written once.  src/sql/install holds the state
# (schemas, tables, roles, data), src/sql/functions the functions and
# views as CREATE OR REPLACE, src/sql/after what needs the functions
# (event triggers), src/sql/install/90_privileges.sql the privileges.  The
# install script is all four in that order; an update script is its own
# state changes (src/sql/update/A--B.sql), the functions, what it makes
# after them (A--B.after.sql) and the privileges.  make check-sql keeps
# the parts apart.
SQL_STATE = $(filter-out src/sql/install/90_privileges.sql,$(sort $(wildcard src/sql/install/*.sql)))
SQL_FUNCTIONS = $(sort $(wildcard src/sql/functions/*.sql))
SQL_AFTER = $(sort $(wildcard src/sql/after/*.sql))
SQL_PRIVILEGES = src/sql/install/90_privileges.sql

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_STATE) $(SQL_FUNCTIONS) $(SQL_AFTER) $(SQL_PRIVILEGES)
	cat $^ > $@

# Sections whose state is new in 0.3.0 are written once, in the install
# script's parts, and the update takes them as they are.
SQL_NEW_0_3_0 = src/sql/install/41_unit_tests.sql src/sql/install/43_source_tests.sql src/sql/install/65_stages.sql
SQL_AFTER_NEW_0_3_0 = src/sql/after/65_stages.sql

$(EXTENSION)--0.2.0--0.3.0.sql: src/sql/update/0.2.0--0.3.0.sql $(SQL_NEW_0_3_0) $(SQL_FUNCTIONS) \
		src/sql/update/0.2.0--0.3.0.after.sql $(SQL_AFTER_NEW_0_3_0) $(SQL_PRIVILEGES)
	cat $^ > $@

medallion-dbt: $(wildcard tools/medallion_dbt/*.py)
	$(PYTHON3) -c "import zipapp; zipapp.create_archive('tools', '$@', interpreter='$(PYTHON3)', \
		main='medallion_dbt.cli:run', filter=lambda p: p.parts[0] == 'medallion_dbt' and p.suffix == '.py')"

# medallion (deploy, export, run, test, plan, docs): tools/medallion_cli,
# which reads projects with medallion_dbt; one zipapp of both packages.
medallion: $(wildcard tools/medallion_dbt/*.py tools/medallion_cli/*.py)
	$(PYTHON3) -c "import zipapp; zipapp.create_archive('tools', '$@', interpreter='$(PYTHON3)', \
		main='medallion_cli.cli:run', \
		filter=lambda p: p.parts[0] in ('medallion_dbt', 'medallion_cli') and p.suffix == '.py')"

.PHONY: check-sql
check-sql:
	python3 test/check_sql.py src/sql

# Each C module calls only its own layer and those below (src/MODULES);
# the calls are read from the built objects.
.PHONY: check-layers
check-layers: $(OBJS)
	python3 test/check_layers.py src

src/medallion_docs.o src/medallion_docs.bc: override CPPFLAGS += $(GRAPHVIZ_CFLAGS)

src/medallion_docs.so: src/medallion_docs.o
	$(CC) $(CFLAGS) $< $(LDFLAGS) $(LDFLAGS_SL) -shared -o $@ $(GRAPHVIZ_LIBS)

install: install-medallion-dbt
uninstall: uninstall-medallion-dbt
.PHONY: install-medallion-dbt uninstall-medallion-dbt
install-medallion-dbt:
	@if [ -z "$(DESTDIR)" ] && [ -w /usr/local/bin ]; then \
		ln -sf '$(bindir)/medallion-dbt' /usr/local/bin/medallion-dbt; \
		ln -sf '$(bindir)/medallion' /usr/local/bin/medallion; \
	else \
		echo "medallion-dbt and medallion are in $(DESTDIR)$(bindir)"; \
	fi
uninstall-medallion-dbt:
	@if [ -L /usr/local/bin/medallion-dbt ]; then rm -f /usr/local/bin/medallion-dbt; fi
	@if [ -L /usr/local/bin/medallion ]; then rm -f /usr/local/bin/medallion; fi

# The modules share structs through their headers: rebuild when one changes.
$(OBJS): $(wildcard src/*.h)

# The README's command: install what is missing, build, install, start a
# throwaway cluster, run every suite, stop it, print "N passed, N failed".
.PHONY: test
test:
	bash test/run

# The README's second command: the same setup, then a cluster left running
# with the AdventureWorks pipeline built (make demo-stop stops it).
.PHONY: demo demo-stop demo-citus demo-citus-stop
demo:
	bash examples/adventureworks/demo.sh

demo-stop:
	bash examples/adventureworks/demo.sh stop

# The same pipeline distributed on a Citus coordinator and two workers.
demo-citus:
	bash examples/adventureworks/demo_citus.sh

demo-citus-stop:
	bash examples/adventureworks/demo_citus.sh stop
