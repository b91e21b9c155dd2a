"""The import: one transaction (sources, seeds, models and snapshots,
tests, and with --prune the drops), a line of the report per object.  The
Importer is also the render.Resolver that answers templates' ref(),
source() and run_query()."""
import re

from . import mapping, models, seeds, sources
from .db import Database
from .dialect import Catalog, translate_tsql
from .errors import ProjectError, Skip
from .project import Node
from .render import Renderer, Resolver
from .sqltext import Relation, set_keywords


class Importer(Resolver, Catalog):
    def __init__(self, project, args, db=None):
        """db: a Database whose transaction the import joins (medallion
        deploy imports twice in one), or None for a connection of its own."""
        self.p = project
        self.args = args
        self.report = []        # (kind, name, status, reason)
        self.disabled = set()
        self.tests_skipped_on = set()   # models with a test skipped in this import
        self.used_tests = {}    # (model, name) -> parameters, in this import
        self.imported = set()
        self.test_names = set()
        self.unit_test_names = set()    # (model, name) of the unit tests of this import
        self.source_test_names = set()  # (source, name) of the tests of sources of this import
        self.db = db or Database(args.dsn, args.dry_run)
        self.layer_order = [r[0] for r in self.db.query_params('SELECT name FROM medallion.layers ORDER BY ordinal',
                                                               [])] or ['bronze', 'silver', 'gold']
        self.layers = set(self.layer_order)
        self.layer_schemas = {r[0] for r in self.db.query_params('SELECT schema_name FROM medallion.layers', [])} \
            or self.layers
        self.extension_schemas = {r[0] for r in self.db.query_params(
            'SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace',
            [])}
        for option, layer in [('--default-layer', project.default_layer)] + \
                [(f'--layer-map {k}={v}', v) for k, v in project.layer_map.items() if k in project.mapped]:
            if layer is not None and layer not in self.layers:
                raise ProjectError(f'{option}: {layer} is not a layer (the layers: {", ".join(self.layer_order)})')
        words = self.db.query_params("SELECT word FROM pg_catalog.pg_get_keywords() WHERE catcode <> 'U'", [])
        if words:
            set_keywords(w for (w,) in words)
        self.renderer = Renderer(project, self)

    def import_all(self):
        """The import, in its order; the caller commits or rolls back."""
        if self.p.dialect_why:
            self.note('project', self.p.name, 'note', f'T-SQL, translated to PostgreSQL: {self.p.dialect_why} '
                                                      f'(--dialect postgres reads it as PostgreSQL)')
        # seeds first: a source may name a seed's schema
        seeds.import_seeds(self)
        sources.import_sources(self)
        models.import_models(self)
        mapping.import_tests(self)
        if self.args.prune:
            self.prune()

    def catalog_has(self, table):
        """Has the database's medallion catalog table (a version before
        0.3.0 has no unit_tests, no source_tests)?  Without a connection,
        yes: a dry run prints what it would run."""
        if not self.db.connected:
            return True
        return self.db.query_params('SELECT pg_catalog.to_regclass(%s) IS NOT NULL',
                                    [f'medallion.{table}'])[0][0]

    # render.Resolver: what templates ask
    def query(self, sql):
        return self.db.query(sql)

    def columns_of(self, relation):
        return self.db.columns_of(relation)

    def relation_of(self, name, reader):
        node = self.p.models.get(name) or self.p.snapshots.get(name)
        if node is not None:
            if reader is not None:
                reader.refs.append(name)
            if node.layer is None:
                node.layer = models.node_layer(self, node, rendered=False)
            return Relation(node.layer, name, node)
        if name in self.p.seeds:
            if reader is not None:
                reader.refs.append(name)
            return Relation(getattr(self.p.seeds[name], 'schema', None) or self.args.seed_schema, name)
        raise Skip(f'ref("{name}") names no model, seed or snapshot of the project')

    def source_relation(self, source_name, table_name, reader):
        source = self.p.sources.get(source_name)
        if source is None:
            raise Skip(f'source("{source_name}", "{table_name}"): no source {source_name} in the project')
        for t in source.get('tables') or []:
            if t.get('name') == table_name:
                if reader is not None:
                    reader.sources.append((source_name, table_name))
                return Relation(source.get('schema', source_name), t.get('identifier', table_name))
        raise Skip(f'source("{source_name}", "{table_name}"): the source has no table {table_name}')

    # dialect.Catalog: T-SQL's names, resolved without case
    def relation(self, schema, name):
        """(schema, name) of the relation the catalog spells so, or as
        the only one that matches without case; None when none does."""
        rows = self.db.query_params(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE lower(n.nspname) = lower(%s) AND lower(c.relname) = lower(%s) "
            "AND c.relkind IN ('r', 'v', 'm', 'f', 'p') ORDER BY 1, 2", [schema, name])
        if (schema, name) in rows or not rows:
            return (schema, name) if rows else None
        if len(rows) > 1:
            raise Skip(f'{schema}.{name} is ambiguous: it matches '
                       + ' and '.join(f'"{s}"."{n}"' for s, n in rows)
                       + ' (SQL Server compares names without case; write the one meant in double quotes)')
        return rows[0]

    def columns(self, schema, name):
        """[(column, its type's category: B boolean, S string, ...)] of
        schema.name, or None when there is none."""
        # asked afresh each time: a model of the project changes in the import
        rows = self.db.query_params(
            "SELECT a.attname, t.typcategory::text FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum", [schema, name])
        return rows or None

    def resolve_column(self, relations, name):
        """A column name of the project (folded) as the catalog spells it
        in one of relations ((schema, name)), matched without case as SQL
        Server does, when the folded name is none of theirs; as it is
        otherwise.  Skip when it matches two spellings."""
        spelled = set()
        for schema, table in relations:
            cols = [c for c, _ in self.columns(schema, table) or []]
            if name in cols:
                return name
            spelled.update(c for c in cols if c.lower() == name.lower())
        if len(spelled) > 1:
            raise Skip(f'column {name} is ambiguous: it matches ' + ' and '.join(f'"{c}"' for c in sorted(spelled)))
        return spelled.pop() if spelled else name

    def translate(self, sql):
        """A T-SQL project's rendered SQL as PostgreSQL's, its names
        resolved against the catalog when connected."""
        return translate_tsql(sql, self if self.db.connected else None)

    # the report
    def note(self, kind, name, status, reason=''):
        if status == 'disabled' and kind in ('model', 'snapshot'):
            self.disabled.add(name)
        self.report.append((kind, name, status, reason))

    # YAML values and test arguments written as Jinja
    def render_value(self, node, value):
        """A YAML value holding Jinja ("{{ ... }}"), rendered; its errors
        name the YAML file and line it is written at."""
        if isinstance(value, str) and '{{' in value:
            path, line = getattr(value, '_origin', (node.path, 1))
            m = re.fullmatch(r'\s*{{(.*)}}\s*', value, re.S)
            if m and '{{' not in m.group(1):
                # the braces as blanks: the expression keeps its lines
                return self.render_expr(node, value[:m.start(1)].replace('{{', '  ') + m.group(1), (path, line))
            return self.renderer.render(Node('yml', node.name, path, None), value, line)
        return value

    def render_expr(self, node, text, origin=None):
        """ref('x') / source('s', 't') in a test argument, as a relation;
        origin (file, line), or the YAML string's own, for errors."""
        path, line = origin or getattr(text, '_origin', (None, 1))
        text = str(text)
        holder = Node('test', node.name, node.path, None)
        self.renderer.current = holder
        try:
            value = self.renderer.evaluate(re.sub(r'^(\s*){{(.*)}}\s*$', r'\1  \2', text, flags=re.S), path, line)
        finally:
            self.renderer.current = None
        return value

    # --prune
    def prune(self):
        rows = self.db.query_params('SELECT name FROM medallion.models WHERE %s = ANY (tags) ORDER BY name',
                                    [models.project_tag(self.p)])
        gone = [r[0] for r in rows if r[0] not in self.p.models and r[0] not in self.p.snapshots]
        # readers first: a model read by another is dropped after it, never
        # with cascade (a model from elsewhere reading it stops the drop)
        while gone:
            left, errors = [], {}
            for name in gone:
                try:
                    self.db.run('SELECT medallion_drop_model(%s)', [name])
                    self.note('model', name, 'dropped', 'left the project')
                except Skip as e:
                    left.append(name)
                    errors[name] = str(e)
            if len(left) == len(gone):
                for name in left:
                    self.note('model', name, 'skipped', f'left the project, but could not be dropped: {errors[name]}')
                break
            gone = left
        rows = self.db.query_params(
            'SELECT t.model, t.name FROM medallion.tests t JOIN medallion.models m ON m.name = t.model '
            'WHERE %s = ANY (m.tags) ORDER BY 1, 2', [models.project_tag(self.p)])
        ours = {(m, n) for m, n in self.db.query_params(
            'SELECT model, name FROM medallion.tests WHERE description = %s', [mapping.test_mark(self.p)])}
        for model, name in rows:
            if model in self.imported and (model, name) not in self.test_names and (model, name) in ours \
                    and model not in self.tests_skipped_on:
                try:
                    self.db.run('SELECT medallion_drop_test(%s, %s)', [model, name])
                    self.note('test', f'{model}: {name}', 'dropped', 'left the project')
                except Skip as e:
                    self.note('test', f'{model}: {name}', 'skipped', f'left the project, but could not be dropped: {e}')
        self.prune_tests('unit_tests', 'model', 'medallion_drop_unit_test', 'unit test', self.unit_test_names,
                         'SELECT name FROM medallion.models WHERE %s = ANY (tags)')
        self.prune_tests('source_tests', 'source', 'medallion_drop_source_test', 'source test',
                         self.source_test_names, None)

    def prune_tests(self, table, holder, drop, kind, kept, holders_sql):
        """Drop the unit tests (or tests of sources) this project imported
        (their description starts with the project's mark) that are not in
        this import, of the models it imported (of its sources)."""
        if not self.catalog_has(table):
            return
        mark = mapping.test_mark(self.p)
        ours = self.db.query_params(f'SELECT {holder}, name FROM medallion.{table} '
                                    'WHERE description = %s OR starts_with(description, %s) ORDER BY 1, 2',
                                    [mark, mark + ': '])
        holders = {r[0] for r in self.db.query_params(holders_sql, [models.project_tag(self.p)])} \
            if holders_sql else set(self.p.sources)
        for of, name in ours:
            if of in holders and (of, name) not in kept:
                try:
                    self.db.run(f'SELECT {drop}(%s, %s)', [of, name])
                    self.note(kind, f'{of}: {name}', 'dropped', 'left the project')
                except Skip as e:
                    self.note(kind, f'{of}: {name}', 'skipped', f'left the project, but could not be dropped: {e}')
