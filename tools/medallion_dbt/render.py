"""dbt's Jinja: the project's macros and templates rendered in the sandbox
with dbt's context (ref, source, config, var, env_var, target, this,
is_incremental, adapter, return, doc, run_query, the dbt.* macros).

What a template asks of the project's models and of the database is
answered by a Resolver the caller passes in: render does not know the
importer."""
import json
import os
import re
import types

import jinja2
import jinja2.nodes
import jinja2.parser
import jinja2.runtime
import yaml

from .errors import MacroReturn, ProjectError, Skip
from .files import Area
from .project import deep_merge
from .sandbox import SAFE_MODULES, Sandbox
from .sqltext import Relation, quote_ident



# Environment variables a template may not read: what is rendered is
# stored in the catalog every admin reads.  dbt keeps DBT_ENV_SECRET_*
# out of models; the importer's own connection secrets go with them.
SECRET_PREFIXES = ('DBT_ENV_SECRET_',)
SECRET_NAMES = ('PGPASSWORD', 'PGPASSFILE', 'PGSSLKEY', 'PGSSLPASSWORD', 'PGSERVICEFILE')


def env_value(name, default=None):
    """dbt's env_var(): the variable's value, else default; secrets refused."""
    name = str(name)
    if name.startswith(SECRET_PREFIXES) or name in SECRET_NAMES:
        raise Skip(f'env_var("{name}") is a secret: what a model renders is stored in the catalog '
                   'every admin reads (dbt allows DBT_ENV_SECRET_* in profiles only)')
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise Skip(f'env_var("{name}") is not set')

class Resolver:
    """What templates ask beyond the project's text, answered by whoever
    renders (the importer): ref(), source(), run_query() and
    adapter.get_columns_in_relation().  Each may raise Skip."""

    def relation_of(self, name, reader):
        """ref(name) read by the node reader (None outside a node): a
        Relation, after noting name in reader.refs."""
        raise NotImplementedError

    def source_relation(self, source_name, table_name, reader):
        """source(source_name, table_name): a Relation."""
        raise NotImplementedError

    def query(self, sql):
        """run_query(sql): a QueryResult."""
        raise NotImplementedError

    def columns_of(self, relation):
        """adapter.get_columns_in_relation(relation): a list of Column."""
        raise NotImplementedError


def block_to_macro(text):
    """dbt's {% test x(...) %} and {% materialization %} blocks as Jinja
    macros (test_x), so that Jinja itself parses them."""
    text = re.sub(r'{%(-?)\s*test\s+(\w+)\s*\(', r'{%\1 macro test_\2(', text)
    text = re.sub(r'{%(-?)\s*endtest\s*(-?)%}', r'{%\1 endmacro \2%}', text)
    text = re.sub(r'{%-?\s*materialization\s.*?{%-?\s*endmaterialization\s*-?%}', '', text, flags=re.S)
    text = re.sub(r'{%-?\s*docs\s+\w+\s*-?%}.*?{%-?\s*enddocs\s*-?%}', '', text, flags=re.S)
    return text


_macro_invoke = jinja2.runtime.Macro._invoke


def _invoke_returning(self, arguments, autoescape):
    """Every macro call ends at dbt's return(), in its own frame."""
    try:
        return _macro_invoke(self, arguments, autoescape)
    except MacroReturn as r:
        return r.value


jinja2.runtime.Macro._invoke = _invoke_returning


def cross_database_macros():
    """dbt's cross-database macros (dbt.*), as PostgreSQL says them."""
    space = Namespace('dbt')
    m = space._macros
    m['current_timestamp'] = lambda: 'now()'
    m['type_string'] = lambda: 'text'
    m['type_int'] = lambda: 'integer'
    m['type_bigint'] = lambda: 'bigint'
    m['type_numeric'] = lambda: 'numeric(28, 6)'
    m['type_float'] = lambda: 'float'
    m['type_timestamp'] = lambda: 'timestamp'
    m['type_boolean'] = lambda: 'boolean'
    m['concat'] = lambda fields: ' || '.join(str(f) for f in fields)
    m['hash'] = lambda field: f'md5(cast({field} as text))'
    m['safe_cast'] = lambda field, type: f'cast({field} as {type})'
    m['cast'] = m['safe_cast']
    m['date_trunc'] = lambda datepart, date: f"date_trunc('{datepart}', {date})"
    m['dateadd'] = lambda datepart, interval, from_date_or_timestamp: \
        f"({from_date_or_timestamp} + (({interval}) * interval '1 {datepart}'))"
    m['datediff'] = lambda first_date, second_date, datepart: \
        f"(date_part('epoch', ({second_date})::timestamp - ({first_date})::timestamp) / " \
        f"date_part('epoch', interval '1 {datepart}'))::bigint" if datepart in ('second', 'minute', 'hour', 'day', 'week') \
        else _unsupported(f'dbt.datediff with datepart {datepart}')
    m['split_part'] = lambda string_text, delimiter_text, part_number: \
        f'split_part({string_text}, {delimiter_text}, {part_number})'
    m['escape_single_quotes'] = lambda expression: str(expression).replace("'", "''")
    m['string_literal'] = lambda value: "'" + str(value).replace("'", "''") + "'"
    m['any_value'] = lambda expression: f'min({expression})'
    m['bool_or'] = lambda expression: f'bool_or({expression})'
    m['listagg'] = lambda measure, delimiter_text="','", order_by_clause=None, limit_num=None: \
        f'string_agg({measure}, {delimiter_text}{" " + order_by_clause if order_by_clause else ""})'
    m['replace'] = lambda field, old_chars, new_chars: f'replace({field}, {old_chars}, {new_chars})'
    m['length'] = lambda expression: f'length({expression})'
    m['position'] = lambda substring_text, string_text: f'position({substring_text} in {string_text})'
    m['right'] = lambda string_text, length_expression: f'right({string_text}, {length_expression})'
    return space


def _unsupported(what):
    raise Skip(f'{what} is not provided')


class Namespace:
    def __init__(self, name):
        self._name = name
        self._macros = {}

    def __getattr__(self, attr):
        if attr.startswith('_'):
            raise AttributeError(attr)
        try:
            return self._macros[attr]
        except KeyError:
            raise Skip(f'macro {self._name}.{attr} is not in the project (run dbt deps?)')



class Renderer:
    def __init__(self, project, resolver):
        self.project = project
        self.resolver = resolver
        self.env = Sandbox(extensions=['jinja2.ext.do', 'jinja2.ext.loopcontrols'],
                           undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        self.macros = {}                    # global macros of the project: proxies
        self.packages = {}                  # namespace per package
        self.defined = {}                   # (table, name) -> the Jinja macro
        self.current = None
        self.results = {}                   # statement() results of the template being rendered
        self.env.globals.update(self.context())
        self.load_macros()

    # dbt's context
    def context(self):
        p = self.project
        target = {'name': p.target, 'schema': 'public', 'target_name': p.target, 'database': None,
                  'threads': 1, 'type': 'sqlserver' if p.dialect == 'tsql' else 'postgres'}

        def var(name, default=jinja2.Undefined):
            if name in p.vars:
                return p.vars[name]
            if default is not jinja2.Undefined:
                return default
            raise Skip(f'var("{name}") is not defined in dbt_project.yml or --vars')

        def env_var(name, default=None):
            return env_value(name, default)

        def ref(*args, **kwargs):
            name = args[-1]
            return self.resolver.relation_of(name, self.current)

        def source(source_name, table_name):
            return self.resolver.source_relation(source_name, table_name, self.current)

        def config(*args, **kwargs):
            if self.current is not None:
                self.current.config.update(kwargs)
            return ''

        def return_(value):
            raise MacroReturn(value)

        def doc(name):
            if name not in p.docs:
                raise Skip(f'doc("{name}") has no docs block')
            return p.docs[name]

        def run_query(sql):
            return self.resolver.query(str(sql))

        def statement(name=None, fetch_result=False, auto_begin=True, language='sql', caller=None):
            # {% call statement('x', fetch_result=True) %} SQL {% endcall %}:
            # run as run_query is, its result kept for load_result('x')
            if caller is None:
                return ''
            if language != 'sql':
                raise Skip(f'statement() in {language}: only SQL statements are run')
            result = self.resolver.query(str(caller()))
            if name is not None:
                self.results[str(name)] = {
                    'response': {'code': 'SELECT' if result.column_names else 'OK', 'rows_affected': len(result)},
                    'data': list(result.rows) if fetch_result else [],
                    'table': result if fetch_result else None,
                }
            return ''

        def load_result(name):
            return self.results.get(str(name))

        def log(msg, info=False):
            return ''

        def compiler_error(msg):
            raise Skip(f'the project raised: {msg}')

        class Adapter:
            @staticmethod
            def dispatch(name, macro_namespace=None):
                spaces = [macro_namespace] if macro_namespace else []
                for space in spaces + [None]:
                    table = self.macros if space is None or space == p.name else \
                        getattr(self.packages.get(space), '_macros', {})
                    for prefix in ('postgres__', 'default__'):
                        if prefix + name in table:
                            return table[prefix + name]
                raise Skip(f'adapter.dispatch("{name}") finds no postgres__ or default__ macro')

            @staticmethod
            def get_columns_in_relation(relation):
                return self.resolver.columns_of(relation)

            @staticmethod
            def quote(name):
                return quote_ident(name)

        class Exceptions:
            raise_compiler_error = staticmethod(compiler_error)

            @staticmethod
            def warn(msg):
                return ''

        def fromjson(string, default=None):
            try:
                return json.loads(string)
            except (TypeError, ValueError):
                return default

        def tojson(value, default=None, sort_keys=False):
            try:
                return json.dumps(value, sort_keys=sort_keys)
            except (TypeError, ValueError):
                return default

        return {
            'var': var, 'env_var': env_var, 'ref': ref, 'source': source, 'config': ConfigProxy(config, self),
            'return': return_, 'doc': doc, 'run_query': run_query, 'statement': statement,
            'load_result': load_result, 'log': log, 'target': target,
            'adapter': Adapter(), 'exceptions': Exceptions(), 'modules': types.SimpleNamespace(**SAFE_MODULES),
            'execute': True,
            'is_incremental': lambda: False, 'flags': {'FULL_REFRESH': False}, 'graph': {'nodes': {}},
            'fromjson': fromjson, 'tojson': tojson, 'zip': zip, 'dbt_version': '1.7.0',
            'project_name': p.name, 'builtins': {'ref': ref, 'source': source, 'config': config},
        }

    def proxy(self, table, name):
        """A macro's name, callable before its file is loaded: every file
        sees every macro, whatever the order they are loaded in."""
        def call(*args, **kwargs):
            return self.defined[(id(table), name)](*args, **kwargs)
        return call

    def load_macros(self):
        p = self.project
        files = []                          # (path, macro table, where it may be read)
        for name, root, area in self.package_areas():
            config = os.path.join(root, 'dbt_project.yml')
            if os.path.lexists(config):
                try:
                    name = (yaml.safe_load(area.read(config)) or {}).get('name', name)
                except (yaml.YAMLError, AttributeError):
                    pass
            space = Namespace(name)
            self.packages[name] = space
            self.env.globals[name] = space
            files += [(f, space._macros, area) for f in area.files(os.path.join(root, 'macros'), '.sql')]
        files += [(f, self.macros, p.area) for _, f in p.files('macro-paths', 'macros', '.sql')]
        for _, f in p.files('test-paths', 'tests', '.sql'):
            if re.search(r'{%-?\s*test\s', p.read(f)):
                files.append((f, self.macros, p.area))
        # a package the project names but did not install: its macros skip
        for pkg in ('dbt_utils', 'dbt_expectations', 'dbt_date', 'codegen', 'audit_helper'):
            if pkg not in self.env.globals:
                self.env.globals[pkg] = Namespace(pkg)
        if 'dbt' not in self.env.globals:
            self.env.globals['dbt'] = cross_database_macros()
        # names first, then bodies: a macro may call one of a later file
        parsed = []
        for path, table, area in files:
            source = block_to_macro(area.read(path))
            try:
                tree = self.env.parse(source)
            except jinja2.TemplateSyntaxError as e:
                raise ProjectError(f'{path}:{e.lineno}: {e.message}')
            for macro in tree.find_all(jinja2.nodes.Macro):
                table[macro.name] = self.proxy(table, macro.name)
                if macro.name.startswith('test_') and table is self.macros:
                    p.generic[macro.name[5:]] = table[macro.name]
            parsed.append((path, source, table))
        self.env.globals.update(self.macros)
        for path, source, table in parsed:
            own = None if table is self.macros else table      # a package's own macros, unqualified
            code = self.env.compile(source, name=os.path.basename(path), filename=path)
            module = self.env.template_class.from_code(self.env, code, self.env.make_globals(own), None).make_module()
            for name in dir(module):
                value = getattr(module, name)
                if isinstance(value, jinja2.runtime.Macro):
                    self.defined[(id(table), name)] = value

    def package_areas(self):
        """(name, folder, files.Area) of each package in the packages folder
        (packages-install-path), where dbt deps puts them.  A hub or git
        package is a folder there; a local one (packages.yml local:) is a
        link to its folder, which may be anywhere in the project, or in a
        folder named with --allow-local-package; anything else is refused.
        A package's files are read only inside it."""
        p = self.project
        packages = p.paths('packages-install-path', 'dbt_packages')[0]
        if not os.path.lexists(packages):
            return []
        p.area.resolve(packages)
        where = Area([p.dir] + p.local_packages, p.dir, 'the project',
                     'a local package outside it is read only when named with --allow-local-package')
        out = []
        try:
            entries = sorted(os.scandir(packages), key=lambda e: e.name)
        except OSError:
            return []
        for entry in entries:
            if entry.name.startswith('.'):
                continue
            real = where.resolve(entry.path)
            if os.path.isdir(real):
                own = Area([real], p.dir, 'its package', "a package's files are read only inside it")
                out.append((entry.name, entry.path, own))
        return out

    def render(self, node, text, first_line=None):
        """Render text for node (which collects config() and refs); text
        starts at first_line of node's file (a YAML value), or where node's
        text does (a snapshot block)."""
        self.current = node
        self.results = {}
        first_line = first_line or node.line
        try:
            source = block_to_macro(text)
            if first_line > 1:
                # a comment of the lines before: errors name the file's line
                source = '{#' + '\n' * (first_line - 1) + '#}' + source
            code = self.env.compile(source, name=os.path.basename(node.path), filename=node.path)
            template = self.env.template_class.from_code(self.env, code, self.env.make_globals(None), None)
            this = Relation(node.layer, node.name, node) if node.layer else None
            return template.render(this=this) if this is not None else template.render()
        except jinja2.TemplateSyntaxError as e:
            raise ProjectError(f'{node.path}:{e.lineno}: {e.message}')
        except jinja2.UndefinedError as e:
            where = jinja_line(e, self.project.dir) or os.path.relpath(node.path, self.project.dir)
            raise Skip(f'{where}: {e.message}')
        except MacroReturn as r:
            return str(r.value)
        except (jinja2.TemplateError, TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
            raise Skip(f'{os.path.relpath(node.path, self.project.dir)}: {type(e).__name__}: {e}')
        finally:
            self.current = None

    def generated_schema(self, custom, node):
        """The schema the project's own generate_schema_name macro gives
        a node (custom: its configured schema, or None), as dbt calls it;
        None when the project has no such macro (then the configured
        schema is the schema)."""
        macro = self.macros.get('generate_schema_name')
        if macro is None:
            return None
        p = self.project
        rel = os.path.relpath(node.path, p.dir)
        config = deep_merge(deep_merge(node.folder_config, node.yml.get('config') or {}), node.config)
        info = {'name': node.name, 'resource_type': node.kind, 'package_name': p.name,
                'unique_id': f'{node.kind}.{p.name}.{node.name}', 'path': rel, 'original_file_path': rel,
                'fqn': [p.name] + list(getattr(node, 'folders', [])) + [node.name], 'config': config}
        saved = self.current
        self.current = node
        try:
            value = macro(custom, info)
        except MacroReturn as r:
            value = r.value
        except Skip as e:
            raise Skip(f'generate_schema_name: {e}')
        except (jinja2.TemplateError, TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
            where = jinja_line(e, p.dir)
            raise Skip(f'{where + ": " if where else ""}generate_schema_name: {type(e).__name__}: {e}')
        finally:
            self.current = saved
        value = str(value).strip() if value is not None else ''
        return value or None

    def evaluate(self, text, filename=None, first_line=1):
        """The value of the Jinja expression text ("ref('x')"), which starts
        at first_line of filename: compiled with both, so that its errors
        name them (Jinja's compile_expression names no file)."""
        parser = jinja2.parser.Parser(self.env, '\n' * (first_line - 1) + text, filename=filename, state='variable')
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise jinja2.TemplateSyntaxError('unexpected text after the expression', parser.stream.current.lineno,
                                             None, filename)
        body = [jinja2.nodes.Assign(jinja2.nodes.Name('result', 'store'), expr, lineno=expr.lineno)]
        code = self.env.compile(jinja2.nodes.Template(body, lineno=1), filename=filename)
        template = self.env.template_class.from_code(self.env, code, self.env.make_globals(None), None)
        return template.make_module().result


class ConfigProxy:
    """config(...) in a model; config.get(...) in macros."""

    def __init__(self, setter, renderer=None):
        # private: the renderer leads to the resolver (the importer) and its connection
        self._setter = setter
        self._renderer = renderer

    def __call__(self, *args, **kwargs):
        return self._setter(*args, **kwargs)

    def get(self, name, default=None):
        node = self._renderer.current if self._renderer is not None else None
        if node is None:
            return default
        merged = deep_merge(deep_merge(node.folder_config, node.yml.get('config') or {}), node.config)
        return merged.get(name, default)

    def require(self, name):
        raise Skip(f'config.require("{name}")')


def jinja_line(error, project_dir):
    """Where in the project's files a rendering error is: the innermost
    template frame (a model, or a macro it calls).  Jinja rewrites the
    frames of a render it started to the template's file and line; a macro
    called from here (a generic test) or a macro file's top level run when
    it is loaded keep their compiled frames, which know their template."""
    tb = error.__traceback__
    where = ''
    while tb is not None:
        template = tb.tb_frame.f_globals.get('__jinja_template__')
        filename = tb.tb_frame.f_code.co_filename
        if template is not None and template.filename:
            where = f'{os.path.relpath(template.filename, project_dir)}:' \
                    f'{template.get_corresponding_lineno(tb.tb_lineno)}'
        elif filename.endswith(('.sql', '.yml', '.yaml')):
            where = f'{os.path.relpath(filename, project_dir)}:{tb.tb_lineno}'
        tb = tb.tb_next
    return where

