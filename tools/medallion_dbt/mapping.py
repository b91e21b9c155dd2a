"""dbt tests as medallion tests: each schema.yml test entry (dbt's own,
dbt_utils', dbt_expectations', the project's {% test %} macros) mapped to
medallion_add_test's arguments; singular tests as sql tests; unit tests
(unit_tests:) as medallion_add_unit_test calls."""
import copy
import csv
import hashlib
import io
import json
import os
import re

import jinja2

from .dialect import translate_tsql_condition
from .errors import Skip
from .project import Node, as_list
from .sqltext import Filtered, Relation, fold_ident, fold_idents, quote_ident, quote_literal

# The arguments of dbt's and the packages' tests that the mapping reads.
KNOWN_TEST_ARGUMENTS = {
    'column_name', 'values', 'value_set', 'quote', 'to', 'field', 'combination_of_columns', 'column_list',
    'expression', 'min_value', 'max_value', 'inclusive', 'strictly', 'datepart', 'interval', 'at_least',
    'compare_model', 'column_type', 'from_condition', 'to_condition', 'where',
}
PERIODS = {'minute': 'minutes', 'hour': 'hours', 'day': 'days', 'week': 'weeks', 'month': 'months'}


def import_tests(imp):
    imp.test_names = set()
    for node, column, entry, origin in imp.p.model_tests:
        label = f'{node.name}{"." + column if column else ""}: {test_name(entry)}'
        try:
            name, kind_args, conf = parse_test(entry)
            label = f'{node.name}{"." + column if column else ""}: {name}'
            conf = {k: imp.render_value(node, v) for k, v in conf.items()}
            if node.kind == 'seed':
                imp.note('test', label, 'unsupported', 'a test of a seed: medallion tests models')
                continue
            if conf.get('enabled') is False or node.name in imp.disabled:
                imp.note('test', label, 'disabled', 'enabled: false' if conf.get('enabled') is False
                         else f'its model {node.name} is disabled')
                continue
            if node.name not in imp.imported:
                raise Skip(f'its model {node.name} was not imported')
            params = map_test(imp, node, column, name, kind_args, conf)
            add_test(imp, node, params, label)
        except Skip as s:
            imp.note('test', label, 'skipped', str(s))
            imp.tests_skipped_on.add(node.name)
        except (jinja2.TemplateError, KeyError, ValueError, TypeError, AttributeError) as e:
            imp.note('test', label, 'skipped', f'{type(e).__name__}: {e}')
            imp.tests_skipped_on.add(node.name)
    import_source_tests(imp)
    import_unit_tests(imp)
    for name, path, raw in imp.p.singular:
        node = Node('test', name, path, raw)
        try:
            sql = imp.renderer.render(node, raw).strip().rstrip(';')
            models = [r for r in node.refs if r in imp.imported]
            if not models:
                raise Skip('a singular test must read an imported model (ref)')
            if imp.p.dialect == 'tsql':
                sql = imp.translate(sql)
            conf = node.config
            params = {'model': models[0], 'kind': 'sql', 'sql': sql, 'name': test_ident(name)}
            params.update(test_config(conf))
            add_test(imp, imp.p.models.get(models[0]) or imp.p.snapshots[models[0]], params, name)
        except Skip as s:
            imp.note('test', name, 'skipped', str(s))


SOURCE_TESTS = ('not_null', 'unique', 'accepted_values', 'relationships')


def import_source_tests(imp):
    """The tests of a source's tables and columns.  not_null, unique,
    accepted_values and relationships run on the source's relation itself
    (medallion_add_source_test: medallion_check_sources runs them as the
    source's owner), whether or not a model reads the table; and, as dbt
    build skips what is downstream of a failing source test, each is also
    an sql test reading the source's relation on every imported model that
    reads that table, which a failing test with severity error keeps from
    being published (with the test's where, severity, warn_if, error_if
    and store_failures).  A test with a where is only the latter (the
    check of the source takes none); other tests of sources are reported
    unsupported."""
    readers = {}
    for model in sorted(imp.imported):
        node = imp.p.models.get(model) or imp.p.snapshots.get(model)
        for key in set(getattr(node, 'sources', None) or []):
            readers.setdefault(key, []).append(node)
    created = {r[1] for r in imp.report if r[0] == 'source' and r[2] in ('created', 'updated', 'unchanged',
                                                                         'would import')}
    def off(entry):
        return str((entry.get('config') or {}).get('enabled', entry.get('enabled'))).strip().lower() == 'false'
    for source_name, source in imp.p.sources.items():
        for table in source.get('tables') or []:
            if off(source) or off(table):
                continue        # reported disabled with its source
            entries = [(None, None, t) for t in as_list(table.get('tests') or table.get('data_tests'))]
            for col in table.get('columns') or []:
                entries += [(col['name'], col.get('quote'), t)
                            for t in as_list(col.get('tests') or col.get('data_tests'))]
            for column, quoted, entry in entries:
                where = f'{source_name}.{table["name"]}{"." + str(column) if column else ""}'
                label = f'{where}: {test_name(entry)}'
                try:
                    name, args, conf = parse_test(entry)
                    holder = Node('source', source_name, imp.p.dir, None)
                    conf = {k: imp.render_value(holder, v) for k, v in conf.items()}
                    args = {k: imp.render_value(holder, v) for k, v in args.items()}
                    if conf.get('enabled') is False:
                        imp.note('test', label, 'disabled', 'enabled: false')
                        continue
                    if name not in SOURCE_TESTS:
                        imp.note('test', label, 'unsupported', f'a test of a source is imported when it is one of '
                                 f'{", ".join(SOURCE_TESTS)}')
                        continue
                    on = readers.get((source_name, table['name']), [])
                    relation = imp.source_relation(source_name, table['name'], None)
                    col = fold_ident(args.get('column_name', column), quoted)
                    if imp.p.dialect == 'tsql' and imp.db.connected:
                        found = imp.relation(relation.schema, relation.identifier)
                        if found:
                            relation = Relation(*found)
                            if col:
                                col = imp.resolve_column([found], col)
                    condition = conf.get('where') or args.get('where')
                    test_id = test_ident(f'{where.replace(".", "_")}_{name}')
                    if source_name not in created:
                        imp.note('source test', label, 'skipped', f'its source {source_name} was not imported')
                    elif not imp.catalog_has('source_tests'):
                        imp.note('source test', label, 'unsupported', "the database's medallion has no tests of "
                                 "sources before 0.3.0 (ALTER EXTENSION medallion UPDATE)")
                    elif condition:
                        imp.note('source test', label, 'unsupported', 'a where: the check of the source takes none'
                                 + (' (it is a test of the models that read the table)' if on else ''))
                    else:
                        add_source_test(imp, holder, source_name, relation, name, col, args, conf, test_id, label)
                    sql = source_test_sql(imp, holder, name, relation, col, args, condition)
                    for node in on:
                        params = {'model': node.name, 'kind': 'sql', 'sql': sql, 'name': test_id}
                        params.update(test_config(conf))
                        add_test(imp, node, params, label + (f' (on {node.name})' if len(on) > 1 else ''))
                except Skip as s:
                    imp.note('test', label, 'skipped', str(s))
                except (jinja2.TemplateError, KeyError, ValueError, TypeError, AttributeError) as e:
                    imp.note('test', label, 'skipped', f'{type(e).__name__}: {e}')


def add_source_test(imp, holder, source_name, relation, name, col, args, conf, test_id, label):
    """medallion_add_source_test of a dbt test of a source's column,
    reported created, updated or unchanged."""
    if not col:
        raise Skip(f'{name} needs a column')
    params = {'source': source_name, 'relation': relation.identifier, 'kind': name, 'column_name': col,
              'name': test_id, 'severity': str(conf.get('severity') or 'error').lower(),
              'description': test_mark(imp.p)}
    if name == 'accepted_values':
        if not args.get('values'):
            raise Skip('accepted_values without values')
        params['accepted'] = [str(v) for v in args['values']]
    if name == 'relationships':
        to, field = args.get('to'), fold_ident(args.get('field'))
        if to is None or field is None:
            raise Skip('relationships needs to and field')
        target = to if isinstance(to, Relation) else imp.render_expr(holder, to)
        params['to_relation'] = str(target)
        params['to_column'] = field
    imp.source_test_names.add((source_name, test_id))
    query = ('SELECT relation, kind, column_name, accepted, to_relation, to_column, severity '
             'FROM medallion.source_tests WHERE source = %s AND name = %s')
    before = imp.db.query_params(query, [source_name, test_id])
    names = list(params)
    imp.db.run('SELECT medallion_add_source_test(' + ', '.join(f'{k} => %s' for k in names) + ')',
               [params[k] for k in names], fetch=True)
    ignored = [k for k in ('warn_if', 'error_if', 'store_failures') if conf.get(k)]
    reason = f'{", ".join(ignored)} not applied to the check of the source' if ignored else ''
    if not imp.db.connected:
        imp.note('source test', label, 'would import', reason)
        return
    after = imp.db.query_params(query, [source_name, test_id])
    imp.note('source test', label, 'created' if not before else 'unchanged' if before == after else 'updated',
             reason)


def source_test_sql(imp, holder, name, relation, col, args, where):
    """The failing rows of dbt's test name on a source's relation, as dbt
    selects them."""
    if not col:
        raise Skip(f'{name} needs a column')
    c = quote_ident(col)
    cond = f' AND ({where})' if where else ''
    if name == 'not_null':
        return f'SELECT * FROM {relation} WHERE {c} IS NULL{cond}'
    if name == 'unique':
        return f'SELECT {c} FROM {relation} WHERE {c} IS NOT NULL{cond} GROUP BY {c} HAVING count(*) > 1'
    if name == 'accepted_values':
        values = args.get('values')
        if not values:
            raise Skip('accepted_values without values')
        vals = ', '.join(quote_literal(str(v)) for v in values)
        return f'SELECT * FROM {relation} WHERE {c} IS NOT NULL AND {c}::text NOT IN ({vals}){cond}'
    to, field = args.get('to'), fold_ident(args.get('field'))
    if to is None or field is None:
        raise Skip('relationships needs to and field')
    target = to if isinstance(to, Relation) else imp.render_expr(holder, to)
    return (f'SELECT f.* FROM {relation} f WHERE f.{c} IS NOT NULL{cond} '
            f'AND NOT EXISTS (SELECT FROM {target} t WHERE t.{quote_ident(field)} = f.{c})')


def add_test(imp, node, params, label):
    params.setdefault('model', node.name)
    params['description'] = test_mark(imp.p)
    if 'name' not in params:
        params['name'] = test_ident(label.replace(': ', '_').replace('.', '_'))
    params['name'] = test_ident(params['name'])
    key = (params['model'], params['name'])
    if key in imp.used_tests and imp.used_tests[key] != params:
        # two tests of one kind on one column: dbt tells them apart by their arguments
        params['name'] = test_ident(params['name'][:39] + '_' + hashlib.sha256(
            repr(sorted(params.items())).encode()).hexdigest()[:8])
        key = (params['model'], params['name'])
    imp.used_tests[key] = dict(params)
    existing = None
    if imp.db.connected:
        found = imp.db.query_params(
            'SELECT kind, columns, accepted, to_model, to_relation, to_column, expression, min_rows, '
            'max_rows, max_age, sql, severity, warn_if, error_if, store_failures FROM medallion.tests '
            'WHERE model = %s AND name = %s', [params['model'], params['name']])
        existing = found[0] if found else None
    names = list(params)
    casts = {'max_age': '::interval', 'min_rows': '::bigint', 'max_rows': '::bigint'}
    before = existing
    imp.db.run('SELECT medallion_add_test(' + ', '.join(f'{k} => %s{casts.get(k, "")}' for k in names) + ')',
               [params[k] for k in names], fetch=True)
    imp.test_names.add((params['model'], params['name']))
    if not imp.db.connected:
        imp.note('test', label, 'would import')
        return
    after = imp.db.query_params(
        'SELECT kind, columns, accepted, to_model, to_relation, to_column, expression, min_rows, '
        'max_rows, max_age, sql, severity, warn_if, error_if, store_failures FROM medallion.tests '
        'WHERE model = %s AND name = %s', [params['model'], params['name']])
    status = 'created' if before is None else 'unchanged' if after and after[0] == before else 'updated'
    imp.note('test', label, status)


def map_test(imp, node, column, name, args, conf):
    """A dbt test as medallion_add_test's parameters."""
    base = name.split('.')[-1]
    args = {k: imp.render_value(node, v) for k, v in args.items()}
    if base not in imp.p.generic or '.' in name:
        unknown = sorted(set(args) - KNOWN_TEST_ARGUMENTS)
        if unknown:
            # row_condition, mostly, fail_calc...: what they change is not mapped
            raise Skip(f'{name}: argument {", ".join(unknown)} is not supported')
    col = fold_ident(args['column_name']) if args.get('column_name') is not None else column
    p = {'model': node.name}
    p.update(test_config(conf))
    rel = f'{quote_ident(node.layer)}.{quote_ident(node.name)}'
    tsql = imp.p.dialect == 'tsql'
    where = tsql_condition(imp, rel, conf.get('where') or args.get('where'))
    if tsql and imp.db.connected:
        # names as the model's relation spells them, matched without case
        col = imp.resolve_column([(node.layer, node.name)], col) if col else col
        for key in ('combination_of_columns', 'column_list'):
            if args.get(key):
                args[key] = [imp.resolve_column([(node.layer, node.name)], c) for c in fold_idents(args[key])]

    def need_col():
        if not col:
            raise Skip(f'{name} needs a column')
        return col

    def sql_test(failing):
        p.update(kind='sql', sql=failing)
        return p

    def filtered(condition_fails):
        # rows failing a row condition, within the test's where
        return sql_test(f'SELECT * FROM {rel} WHERE ({where}) AND NOT ({condition_fails})')

    if base in ('not_null', 'expect_column_values_to_not_be_null'):
        c = need_col()
        if where:
            return filtered(f'{quote_ident(c)} IS NOT NULL')
        p.update(kind='not_null', column_name=c)
    elif base in ('unique', 'expect_column_values_to_be_unique', 'unique_combination_of_columns',
                  'expect_compound_columns_to_be_unique'):
        cols = fold_idents(args.get('combination_of_columns') or args.get('column_list')) or [need_col()]
        if where:
            keys = ', '.join(quote_ident(c) for c in cols)
            return sql_test(f'SELECT {keys} FROM {rel} WHERE ({where}) GROUP BY {keys} HAVING count(*) > 1')
        p.update(kind='unique', columns=list(cols))
    elif base in ('accepted_values', 'expect_column_values_to_be_in_set'):
        c = need_col()
        values = args.get('values') or args.get('value_set')
        if values is None:
            raise Skip(f'{name} without values')
        if where:
            vals = ', '.join(quote_literal(str(v)) for v in values)
            return filtered(f'{quote_ident(c)}::text IN ({vals}) OR {quote_ident(c)} IS NULL')
        p.update(kind='accepted_values', column_name=c, accepted=[str(v) for v in values])
    elif base in ('relationships', 'relationships_where'):
        c = need_col()
        to, field = args.get('to'), fold_ident(args.get('field'))
        if to is None or field is None:
            raise Skip(f'{name} needs to and field')
        target = to if isinstance(to, Relation) else imp.render_expr(node, to)
        if base == 'relationships_where' or where:
            cond = args.get('from_condition') or where or 'true'
            tcond = args.get('to_condition') or 'true'
            return sql_test(f'SELECT f.* FROM {rel} f WHERE ({cond}) AND f.{quote_ident(c)} IS NOT NULL '
                            f'AND NOT EXISTS (SELECT FROM {target} t WHERE ({tcond}) '
                            f'AND t.{quote_ident(field)} = f.{quote_ident(c)})')
        if isinstance(target, Relation) and target.model is not None:
            p.update(kind='relationships', column_name=c, to_model=target.model.name, to_column=field)
        else:
            p.update(kind='relationships', column_name=c, to_relation=str(target), to_column=field)
    elif base == 'expression_is_true':
        expr = args.get('expression')
        if expr is None:
            raise Skip('expression_is_true without expression')
        expr = tsql_condition(imp, rel, f'{quote_ident(col)} {expr}' if col else str(expr))
        if where:
            return filtered(expr)
        p.update(kind='expression', expression=expr)
    elif base in ('accepted_range', 'expect_column_values_to_be_between'):
        c = quote_ident(need_col())
        lo, hi = args.get('min_value'), args.get('max_value')
        strict = args.get('strictly', False) or args.get('inclusive', True) is False
        parts = []
        if lo is not None:
            parts.append(f'{c} {">" if strict else ">="} {lo}')
        if hi is not None:
            parts.append(f'{c} {"<" if strict else "<="} {hi}')
        if not parts:
            raise Skip(f'{name} without min_value or max_value')
        expr = f'({c} IS NULL OR ({" AND ".join(parts)}))'
        if where:
            return filtered(expr)
        p.update(kind='expression', expression=expr)
    elif base in ('expect_table_row_count_to_be_between',):
        p.update(kind='row_count')
        if args.get('min_value') is not None:
            p['min_rows'] = int(args['min_value'])
        if args.get('max_value') is not None:
            p['max_rows'] = int(args['max_value'])
    elif base == 'recency':
        field = fold_ident(args.get('field')) or need_col()
        p.update(kind='freshness', column_name=field,
                 max_age=f"{args.get('interval', 1)} {PERIODS.get(args.get('datepart', 'day'), args.get('datepart', 'day'))}")
    elif base == 'not_null_proportion':
        c = quote_ident(need_col())
        least = args.get('at_least', 0)
        return sql_test(f'SELECT p FROM (SELECT count({c})::numeric / nullif(count(*), 0) AS p FROM {rel}'
                        f'{" WHERE " + where if where else ""}) s WHERE p < {least}')
    elif base == 'equal_rowcount':
        other = args.get('compare_model')
        other = other if isinstance(other, Relation) else imp.render_expr(node, other)
        return sql_test(f'SELECT 1 FROM (SELECT count(*) AS n FROM {rel}) a, (SELECT count(*) AS n FROM {other}) b '
                        f'WHERE a.n <> b.n')
    elif base == 'expect_column_values_to_be_of_type':
        c = need_col()
        want = str(args.get('column_type', '')).lower()
        return sql_test(f"SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = {quote_literal(rel)}::regclass "
                        f"AND a.attname = {quote_literal(c)} "
                        f"AND pg_catalog.format_type(a.atttypid, a.atttypmod) !~* {quote_literal('^' + re.escape(want))}")
    elif base in imp.p.generic:
        macro = imp.p.generic[base]
        relation = Relation(node.layer, node.name, node)
        if where:
            # as dbt does: the test reads the rows its where selects
            relation = Filtered(relation, where)
        kwargs = {k: v for k, v in args.items() if k != 'column_name'}
        holder = Node('test', base, node.path, None)
        imp.renderer.current = holder
        try:
            if col is not None:
                sql = macro(model=relation, column_name=quote_ident(col) if col in node.quoted else col, **kwargs)
            else:
                sql = macro(model=relation, **kwargs)
        except TypeError as e:
            raise Skip(f'custom test {base}: {e}')
        finally:
            imp.renderer.current = None
        sql = str(sql).strip().rstrip(';')
        if imp.p.dialect == 'tsql':
            sql = imp.translate(sql)
        return sql_test(sql)
    else:
        raise Skip(f'test {name} has no medallion mapping and no {{% test %}} definition in the project')
    return p


def tsql_condition(imp, relation, condition):
    """A test's SQL argument (an expression, a where) of a T-SQL project as
    PostgreSQL's, on the rows of relation; as it is otherwise."""
    if imp.p.dialect != 'tsql' or not condition:
        return condition
    return translate_tsql_condition(str(condition), relation, imp if imp.db.connected else None)


def test_mark(project):
    """The description of the tests imported from this project."""
    return f'dbt project {project.name}'



def test_name(entry):
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and entry:
        return str(next(iter(entry)))
    return str(entry)


def parse_test(entry):
    """(name, arguments, config) of a schema.yml test entry."""
    if isinstance(entry, str):
        return entry, {}, {}
    entry = dict(entry)
    name = None
    for k in list(entry):
        if k not in ('config', 'severity', 'warn_if', 'error_if', 'where', 'store_failures', 'enabled',
                     'name', 'tags', 'meta', 'limit'):
            name = k
            break
    if name is None:
        raise Skip(f'a test entry without a test: {entry}')
    args = entry.pop(name) or {}
    if not isinstance(args, dict):
        raise Skip(f'the arguments of {name} are not a mapping: {args}')
    args = dict(args)
    args.update(args.pop('arguments', None) or {})      # dbt 1.10
    conf = dict(args.pop('config', None) or {})
    for k in ('severity', 'warn_if', 'error_if', 'where', 'store_failures', 'enabled'):
        if k in args:
            conf.setdefault(k, args.pop(k))
        if k in entry:
            conf.setdefault(k, entry[k])
    conf.update(entry.get('config') or {})
    if 'name' in entry:
        conf['name'] = entry['name']
    return name, args, conf


def test_config(conf):
    out = {}
    if conf.get('severity'):
        out['severity'] = str(conf['severity']).lower()
    for k in ('warn_if', 'error_if'):
        if conf.get(k):
            out[k] = str(conf[k])
    if conf.get('store_failures'):
        out['store_failures'] = True
    if conf.get('name'):
        out['name'] = conf['name']
    return out


def test_ident(text):
    name = re.sub(r'[^a-z0-9_]+', '_', text.lower()).strip('_')
    if not name or name[0].isdigit():
        name = 't_' + name
    # medallion names a test's column medallion.test.<name>: 48 keeps it whole
    if len(name) > 48:
        name = name[:39] + '_' + hashlib.sha256(name.encode()).hexdigest()[:8]
    return name



# ---------------------------------------------------------------------------
# Unit tests: dbt's unit_tests: entries as medallion_add_unit_test calls.
# An input is ref('m') (the model's name; a seed's table as schema.name),
# source('s', 't') (the source's relation as schema.name) or this; rows are
# dict (YAML rows), csv or sql (a query the database answers, as dbt runs
# it), given as jsonb lists of row objects whose column names are folded as
# dbt's YAML names are.  overrides: macros: is_incremental: true is the
# incremental form; other overrides (vars, env_vars, other macros) would
# render the model's SQL otherwise than it was imported: skipped, saying so.

INPUT = re.compile(r"""^\s*(ref|source)\(\s*(['"])([^'"]+)\2\s*(?:,\s*(['"])([^'"]+)\4\s*)?(?:,\s*\w+\s*=\s*[^)]*)?\)\s*$""")


def unit_input(imp, text):
    """The name medallion_add_unit_test takes for a unit test's input."""
    text = str(text).strip()
    if text == 'this':
        return 'this'
    m = INPUT.match(text.strip('{} '))
    if not m:
        raise Skip(f'input {text!r} is not ref(...), source(...) or this')
    if m.group(1) == 'source':
        if m.group(5) is None:
            raise Skip(f'input {text!r}: source() takes a source and a table')
        relation = imp.source_relation(m.group(3), m.group(5), None)
        return f'{quote_ident(relation.schema)}.{quote_ident(relation.identifier)}'
    name = m.group(5) or m.group(3)         # ref('package', 'model') or ref('model')
    if name in imp.p.seeds:
        relation = imp.relation_of(name, None)
        return f'{quote_ident(relation.schema)}.{quote_ident(relation.identifier)}'
    if name not in imp.imported:
        raise Skip(f'input {text!r}: model {name} was not imported')
    return name


def csv_rows(text):
    """CSV with a header as row objects; an empty field or null is NULL."""
    reader = csv.DictReader(io.StringIO(str(text).strip() + '\n'))
    return [{k.strip(): (None if v is None or v.strip() in ('', 'null') else v.strip())
             for k, v in row.items() if k is not None} for row in reader]


def unit_rows(imp, part, what):
    """The rows of a given input or of expect, as a list of dicts with
    folded column names."""
    fmt = str(part.get('format') or 'dict').lower()
    if 'fixture' in part:
        raise Skip(f'{what}: fixture files are not read (write the rows in the YAML)')
    rows = part.get('rows')
    if fmt == 'dict':
        rows = rows or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise Skip(f'{what}: dict rows must be a list of mappings')
    elif fmt == 'csv':
        rows = csv_rows(rows or '')
    elif fmt == 'sql':
        if not imp.db.connected:
            raise Skip(f'{what}: rows in format sql are answered by the database (--dsn)')
        result = imp.db.query(f'SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)), \'[]\')::text '
                              f'FROM ({str(rows).strip().rstrip(";")}) t')
        rows = json.loads(result.rows[0][0]) if getattr(result, 'rows', None) else []
    else:
        raise Skip(f'{what}: format {fmt} (dict, csv and sql are read)')
    return [{fold_ident(str(k)): v for k, v in r.items()} for r in rows]


def same_sql_with(imp, node, variables, environment):
    """Skip unless node's SQL rendered with the vars and env_vars a unit
    test overrides is the SQL imported: medallion tests the model's SQL as
    it was imported (rendered once), so overrides that change it cannot
    be tested."""
    saved_vars, saved_env = dict(imp.p.vars), dict(os.environ)
    probe = copy.copy(node)
    probe.refs, probe.sources, probe.config = [], [], {}
    try:
        imp.p.vars.update(variables)
        os.environ.update({str(k): str(v) for k, v in environment.items()})
        sql = imp.renderer.render(probe, node.raw).strip().rstrip(';').strip()
        if imp.p.dialect == 'tsql':
            sql = imp.translate(sql)
    finally:
        imp.p.vars.clear()
        imp.p.vars.update(saved_vars)
        os.environ.clear()
        os.environ.update(saved_env)
    if sql != node.sql:
        what = ', '.join(['vars'] * bool(variables) + ['env_vars'] * bool(environment))
        raise Skip(f'overrides of {what} render the model\'s SQL otherwise than it was imported: medallion '
                   f'tests the SQL imported (import with --vars to test that SQL)')


def unit_test_params(imp, entry):
    """medallion_add_unit_test's arguments for a unit_tests: entry (given
    and expect as JSON text)."""
    model = entry.get('model')
    if model not in imp.imported:
        raise Skip(f'its model {model} was not imported')
    overrides = entry.get('overrides') or {}
    macros = dict(overrides.get('macros') or {})
    incremental = bool(macros.pop('is_incremental', False))
    if macros:
        raise Skip(f'overrides of {", ".join(sorted(macros))}: medallion tests the model\'s SQL as it was '
                   f'imported, rendered once')
    if overrides.get('vars') or overrides.get('env_vars'):
        same_sql_with(imp, imp.p.models.get(model) or imp.p.snapshots.get(model),
                      overrides.get('vars') or {}, overrides.get('env_vars') or {})
    given = {}
    for part in as_list(entry.get('given')):
        name = unit_input(imp, part.get('input'))
        if name == 'this' and not incremental:
            continue        # dbt reads this only in the incremental form
        given[name] = unit_rows(imp, part, f'given {part.get("input")}')
    expect = unit_rows(imp, entry.get('expect') or {}, 'expect')
    if incremental and imp.db.connected:
        found = imp.db.query_params('SELECT materialized FROM medallion.models WHERE name = %s', [model])
        if found and found[0][0] != 'incremental':
            raise Skip(f'is_incremental: model {model} was imported as a {found[0][0]}, not incremental')
    return {'model': model, 'name': test_ident(fold_ident(str(entry['name']))),
            'given': json.dumps(given, default=str, sort_keys=True),
            'expect': json.dumps(expect, default=str), 'incremental': incremental,
            'description': test_mark(imp.p) + (f': {entry["description"]}' if entry.get('description') else '')}


def import_unit_tests(imp):
    for entry, path in imp.p.unit_tests:
        label = f'{entry.get("model", "?")}: {entry.get("name")}'
        try:
            if not imp.catalog_has('unit_tests'):
                raise Skip("the database's medallion has no unit tests before 0.3.0 "
                           "(ALTER EXTENSION medallion UPDATE)")
            conf = entry.get('config') or {}
            if conf.get('enabled') is False or entry.get('model') in imp.disabled:
                imp.note('unit test', label, 'disabled', 'enabled: false' if conf.get('enabled') is False
                         else f'its model {entry.get("model")} is disabled')
                continue
            imp.unit_test_names.add((entry.get('model'), test_ident(fold_ident(str(entry.get('name'))))))
            params = unit_test_params(imp, entry)
            query = ('SELECT given::text, expect::text, incremental FROM medallion.unit_tests '
                     'WHERE model = %s AND name = %s')
            before = imp.db.query_params(query, [params['model'], params['name']])
            names = list(params)
            casts = {'given': '::jsonb', 'expect': '::jsonb'}
            imp.db.run('SELECT medallion_add_unit_test(' + ', '.join(f'{k} => %s{casts.get(k, "")}' for k in names)
                       + ')', [params[k] for k in names], fetch=True)
            if not imp.db.connected:
                imp.note('unit test', label, 'would import')
                continue
            after = imp.db.query_params(query, [params['model'], params['name']])
            imp.note('unit test', label, 'created' if not before else 'unchanged' if before == after else 'updated')
        except Skip as s:
            imp.note('unit test', label, 'skipped', f'{s} ({os.path.relpath(path, imp.p.dir)})')
