"""medallion-dbt renders a project's templates in Jinja's sandbox.

Unit tests with no database: escape payloads are refused with their file
and line, what dbt gives templates still works, and nothing templates are
given leads (by attributes the sandbox allows, dict values and list items)
to a module, the database driver, the importer or a dangerous builtin.

    /usr/bin/python3 -m unittest discover -s test/python
"""
import argparse
import builtins
import os
import sys
import types
import unittest

import jinja2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from medallion_dbt import db, errors, importer, project, render, sandbox, sqltext  # noqa: E402

# the names this test reaches, wherever the package keeps them
dbt = types.SimpleNamespace(
    Importer=importer.Importer, Database=db.Database, Project=project.Project, Node=project.Node,
    YamlText=project.YamlText, Renderer=render.Renderer, jinja_line=render.jinja_line,
    SAFE_MODULES=sandbox.SAFE_MODULES, _from_psycopg=sandbox._from_psycopg, Refused=errors.Refused,
    Skip=errors.Skip, Relation=sqltext.Relation, Filtered=sqltext.Filtered, Column=sqltext.Column,
    QueryResult=sqltext.QueryResult, UnknownResult=sqltext.UnknownResult)

# test/dbt/edge has macros of its own and of a package (fakeutils)
PROJECT = os.path.join(ROOT, 'test', 'dbt', 'edge')
MODEL = os.path.join(PROJECT, 'models', 'staging', 'escape.sql')

DANGEROUS_BUILTINS = {getattr(builtins, n) for n in ('eval', 'exec', 'open', 'compile', '__import__', 'getattr',
                                                     'setattr', 'delattr', 'globals', 'locals', 'vars', 'input',
                                                     'breakpoint', 'exit', 'quit', 'help') if hasattr(builtins, n)}
DANGEROUS_MODULES = {'os', 'posix', 'nt', 'subprocess', 'sys', 'shutil', 'importlib', 'io', 'socket', 'ctypes'}


def importer():
    args = argparse.Namespace(dsn=None, dry_run=True, vars=None, layer_map=['reporting=silver'], dialect=None,
                              target=None, seed_schema='seeds', prune=False, allow_partial=False)
    return dbt.Importer(dbt.Project(PROJECT, args), args)


class Sandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.importer = importer()
        cls.renderer = cls.importer.renderer

    def render(self, text):
        node = dbt.Node('model', 'escape', MODEL, text)
        node.layer = 'bronze'
        return self.renderer.render(node, text)

    def refusal(self, call, *args):
        """What call(*args) refused, and where (assertRaises would drop the
        traceback, which says where)."""
        try:
            call(*args)
        except dbt.Refused as e:
            return str(e), dbt.jinja_line(e, PROJECT)
        self.fail('not refused')

    def assertRefused(self, text, line, attribute):
        message, where = self.refusal(self.render, text)
        self.assertIn(f'unsafe access to attribute {attribute} ', message)
        self.assertIn(' refused (templates render in a sandbox)', message)
        self.assertEqual(where, f'models/staging/escape.sql:{line}')

    def test_refused(self):
        payloads = [
            ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", '__init__'),
            ("{{ ''.__class__.__mro__[1].__subclasses__() }}", '__class__'),
            ("{{ self._TemplateReference__context }}", '_TemplateReference__context'),
            ("{{ config.__class__.__init__.__globals__ }}", '__class__'),
            ("{{ lipsum.__globals__['os'] }}", '__globals__'),
            ("{{ joiner.__init__.__globals__ }}", '__init__'),
            ("{{ namespace.__init__.__globals__ }}", '__init__'),
            ("{% set f = lipsum %}{% set g = f.__globals__ %}{{ g.os }}", '__globals__'),
            ("{{ lipsum|attr('__globals__') }}", '__globals__'),
            ("{{ [lipsum]|map(attribute='__globals__')|list }}", '__globals__'),
            ("{{ '{0.__class__.__mro__}'.format('') }}", '__class__'),
            ("{{ '{f.__globals__}'.format_map({'f': lipsum}) }}", '__globals__'),
            ("{% set fmt = '{0.__class__}'.format %}{{ fmt('') }}", '__class__'),
            ("{% if cycler.__init__ is defined %}x{% endif %}", '__init__'),
            ("{{ ref('stg_payments').__class__ }}", '__class__'),
            ("{{ adapter.dispatch.__globals__ }}", '__globals__'),
            ("{{ run_query.__closure__ }}", '__closure__'),
            ("{{ fakeutils.__dict__ }}", '__dict__'),
            ("{{ dbt._macros }}", '_macros'),
            ("{{ modules.re.compile.__globals__ }}", '__globals__'),
            ("{{ exceptions.raise_compiler_error.__code__ }}", '__code__'),
            ("{{ (range(3)|map('string')).gi_frame }}", 'gi_frame'),
            ("{{ dict.mro() }}", 'mro'),
        ]
        for payload, attribute in payloads:
            with self.subTest(payload=payload):
                self.assertRefused('select 1\n-- ' + payload + '\n', 2, attribute)

    def test_not_there(self):
        # what a plain Environment or an unwrapped module would hand out
        for payload in ("{{ modules.datetime.sys }}", "{{ modules.re.enum }}", "{{ modules.os }}",
                        "{{ config.renderer }}", "{{ config.setter }}", "{{ adapter.conn }}"):
            with self.subTest(payload=payload):
                with self.assertRaises(dbt.Skip) as caught:
                    self.render('select 1\n' + payload)
                self.assertRegex(str(caught.exception), r'^models/staging/escape\.sql:2: .* has no attribute')

    def test_yaml_value(self):
        # a YAML value names the YAML file and its own line
        path = os.path.join(PROJECT, 'models', 'staging', 'escape.yml')
        node = dbt.Node('model', 'escape', MODEL, None)
        for text, line in ((dbt.YamlText("{{ cycler.__init__ }}", path, 7), 7),
                           (dbt.YamlText("x {{ cycler.__init__ }}", path, 7), 7),
                           (dbt.YamlText("a\nb\n{{ cycler.__init__ }}\n", path, 10), 12)):
            with self.subTest(text=text):
                self.assertEqual(self.refusal(self.importer.render_value, node, text)[1],
                                 f'models/staging/escape.yml:{line}')

    def test_dbt_context_works(self):
        sql = self.render(
            "{{ config(materialized='table') }}"
            "{% set xs = [] %}{% do xs.append(1) %}{% set ns = namespace(n=2) %}{% set ns.n = ns.n + 1 %}"
            "{{ xs | length }} {{ ns.n }} {{ modules.datetime.date(2024, 1, 31).isoformat() }}"
            " {{ modules.re.sub('a+', 'b', 'caat') }} {{ fromjson('{\"a\": 1}').a }} {{ tojson([1]) }}"
            " {{ '{} {}'.format('fmt', 1) }} {{ '%s!' | format('pct') }} {{ ref('stg_payments') }}"
            " {{ dbt.current_timestamp() }} {{ this }} {{ config.get('materialized') }}"
            " {{ modules.datetime.timedelta(days=1).days }} {{ modules.itertools.chain([1], [2]) | list }}")
        self.assertEqual(sql, '1 3 2024-01-31 cbt 1 [1] fmt 1 pct! bronze.stg_payments now()'
                              ' bronze.escape table 1 [1, 2]')

    def test_nothing_leads_out(self):
        """Walk what templates can reach from their globals and the objects
        the importer hands them, as the sandbox lets them."""
        env = self.renderer.env
        node = dbt.Node('model', 'm', MODEL, 'select 1')
        rel = dbt.Relation('bronze', 'm', node)
        roots = [env.globals, env.filters, env.tests, rel, dbt.Filtered(rel, 'x > 0'), dbt.Column('a', 'int'),
                 dbt.QueryResult(['a'], [(1,)]), dbt.UnknownResult(), dbt.SAFE_MODULES]
        seen, bad = set(), []

        def walk(obj, path, depth):
            if id(obj) in seen or depth > 6:
                return
            seen.add(id(obj))
            if isinstance(obj, (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType)) \
                    or dbt._from_psycopg(obj) \
                    or isinstance(obj, (dbt.Renderer, dbt.Importer, dbt.Database, dbt.Project, jinja2.Environment)) \
                    or (callable(obj) and any(obj is d for d in DANGEROUS_BUILTINS)) \
                    or (isinstance(obj, (types.FunctionType, types.BuiltinFunctionType))
                        and (getattr(obj, '__module__', None) or '').split('.')[0] in DANGEROUS_MODULES):
                bad.append(path)
                return
            if isinstance(obj, dict):
                for k, v in list(obj.items()):
                    walk(v, f'{path}[{k!r}]', depth + 1)
            elif isinstance(obj, (list, tuple, set, frozenset)):
                for i, v in enumerate(list(obj)[:50]):
                    walk(v, f'{path}[{i}]', depth + 1)
            for name in dir(obj):
                if name.startswith('_'):
                    continue
                try:
                    value = getattr(obj, name)
                except Exception:
                    continue
                if env.wrap_str_format(value) is None and not env.is_safe_attribute(obj, name, value):
                    continue
                walk(value, f'{path}.{name}', depth + 1)

        for i, root in enumerate(roots):
            walk(root, f'root{i}', 0)
        self.assertEqual(bad, [])
        self.assertGreater(len(seen), 200)      # the walk did go somewhere


if __name__ == '__main__':
    unittest.main()
