"""medallion export: the catalog as a project directory that medallion deploy
(and medallion-dbt import) reads back into the same pipeline.

  dbt_project.yml
  models/<layer>/<model>.sql   config() with every setting, the upstream
                               models as refs that render nothing
                               ({%- set _ = ref('x') -%}), the SQL as
                               written, in {% raw %}
  models/<layer>/schema.yml    descriptions, column descriptions, tests
  snapshots/<model>.sql        snapshot models
  models/sources.yml           local sources
  tests/<model>__<test>.sql    sql tests (dbt's singular tests)
  models/unit_tests.yml        unit tests (dbt's unit_tests:)

Settings dbt has no word for go to meta: {medallion: {...}}.  What cannot
be written (a source over a foreign server, a relationships test to a
relation that is not a model, a disabled model) is said on standard error;
the directory is written all the same."""
import os
import sys

import yaml

from medallion_dbt.errors import ProjectError

from .connect import connect

MODEL_COLUMNS = ('name', 'layer', 'materialized', 'sql', 'tags', 'description', 'unique_key', 'indexes',
                 'column_descriptions', 'on_schema_change', 'statement_timeout::text', 'enabled', 'strategy',
                 'watermark', 'lookback::text', 'full_refresh_threshold', 'snapshot_strategy',
                 'updated_at_column', 'check_columns', 'hard_deletes', 'distribution', 'distributed_by',
                 'colocate_with', 'deterministic', 'contract')
TEST_COLUMNS = ('model', 'name', 'kind', 'columns', 'accepted', 'to_model', 'to_relation', 'to_column',
                'expression', 'min_rows', 'max_rows', 'extract(epoch FROM max_age)::bigint', 'sql',
                'severity', 'warn_if', 'error_if', 'store_failures')


def ident_name(column):
    """A column name as a project writes it so that the import reads it back
    as it is: a name with upper case (or that needs quotes) in double quotes,
    which the import does not fold to lower case."""
    if column == column.lower() and column.replace('_', 'a').isalnum() and not column[0].isdigit():
        return column
    return '"' + column.replace('"', '""') + '"'


def names(columns):
    return [ident_name(c) for c in columns]


def column_entry(column, rest):
    """A schema.yml column: quote: true keeps a name with upper case as it is."""
    entry = {'name': column}
    if ident_name(column) != column:
        entry['quote'] = True
    entry.update(rest)
    return entry


def jinja_literal(value):
    """A Python value as a Jinja literal (strings, numbers, booleans, lists, dicts)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace('\\', '\\\\').replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(jinja_literal(v) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join(f'{jinja_literal(k)}: {jinja_literal(v)}' for k, v in value.items()) + '}'
    raise ValueError(f'no Jinja literal for {value!r}')


def raw(sql):
    """SQL as Jinja leaves it: inside {% raw %}, which it cannot contain."""
    if '{% endraw' in sql or '{%- endraw' in sql:
        raise ProjectError('a model\'s SQL contains "{% endraw": it cannot be written as a dbt model')
    return '{% raw %}' + sql.rstrip() + '\n{% endraw %}\n'


def model_config(m):
    conf = {'materialized': m['materialized'], 'schema': m['layer']}
    # the tag an import marks its models with is the project's, not a setting
    tags = [t for t in m['tags'] or [] if not t.startswith('dbt_project_')]
    if tags:
        conf['tags'] = tags
    if m['unique_key']:
        conf['unique_key'] = names(m['unique_key'])
    if m['materialized'] == 'incremental':
        conf['incremental_strategy'] = m['strategy']
    conf['on_schema_change'] = m['on_schema_change']
    meta = {}
    for k in ('indexes', 'statement_timeout', 'full_refresh_threshold', 'distribution', 'distributed_by',
              'colocate_with'):
        if m[k]:
            meta[k] = list(m[k]) if isinstance(m[k], list) else m[k]
    if m['deterministic']:
        meta['deterministic'] = True
    if m['materialized'] == 'incremental' and m['watermark']:
        meta['watermark'] = ident_name(m['watermark'])
        if m['lookback']:
            meta['lookback'] = m['lookback']
    if m['materialized'] == 'snapshot':
        conf.pop('schema')
        conf.pop('on_schema_change')
        conf['target_schema'] = m['layer']
        conf['strategy'] = m['snapshot_strategy']
        if m['snapshot_strategy'] == 'timestamp':
            conf['updated_at'] = ident_name(m['updated_at_column'])
        else:
            conf['check_cols'] = names(m['check_columns']) if m['check_columns'] else 'all'
        if m['hard_deletes'] == 'invalidate':
            conf['hard_deletes'] = 'invalidate'
    if meta:
        conf['meta'] = {'medallion': meta}
    if m['contract']:
        conf['contract'] = {'enforced': True}
    return conf


def model_file(m, upstream):
    conf = model_config(m)
    head = '{{ config(' + ', '.join(f'{k}={jinja_literal(v)}' for k, v in conf.items()) + ') }}\n'
    # the upstream models as refs that render nothing: the import orders by them
    deps = ''.join(f"{{%- set _ = ref('{u}') -%}}\n" for u in upstream)
    if m['materialized'] == 'snapshot':
        return f"{{% snapshot {m['name']} %}}\n{head}{deps}{raw(m['sql'])}{{% endsnapshot %}}\n"
    return head + deps + raw(m['sql'])


def period(seconds):
    """An interval in seconds as dbt's count and period, in the largest unit that divides it."""
    for unit, size in (('day', 86400), ('hour', 3600), ('minute', 60)):
        if seconds % size == 0:
            return {'count': seconds // size, 'period': unit}
    return {'count': seconds, 'period': 'second'}


def test_entry(t, warn):
    """A schema.yml test entry, and whether it is a column's (its column)
    or the model's (None); None when it is written as a singular test."""
    conf = {'name': t['name']}
    if t['severity'] != 'error':
        conf['severity'] = t['severity']
    for k in ('warn_if', 'error_if'):
        if t[k] != '> 0':
            conf[k] = t[k]
    if t['store_failures']:
        conf['store_failures'] = True
    cols = list(t['columns'] or [])
    kind = t['kind']
    if kind == 'not_null':
        return {'not_null': {'config': conf}}, cols[0]
    if kind == 'unique' and len(cols) == 1:
        return {'unique': {'config': conf}}, cols[0]
    if kind == 'unique':
        return {'dbt_utils.unique_combination_of_columns': {'combination_of_columns': names(cols), 'config': conf}}, None
    if kind == 'accepted_values':
        return {'accepted_values': {'values': list(t['accepted']), 'config': conf}}, cols[0]
    if kind == 'relationships':
        if not t['to_model']:
            warn(f"test {t['model']}.{t['name']}: a relationships test to {t['to_relation']}, not a model: not written")
            return None, None
        return {'relationships': {'to': f"ref('{t['to_model']}')", 'field': ident_name(t['to_column']), 'config': conf}}, cols[0]
    if kind == 'expression':
        return {'dbt_utils.expression_is_true': {'expression': t['expression'], 'config': conf}}, None
    if kind == 'row_count':
        args = {k: t[c] for k, c in (('min_value', 'min_rows'), ('max_value', 'max_rows')) if t[c] is not None}
        return {'dbt_expectations.expect_table_row_count_to_be_between': dict(args, config=conf)}, None
    if kind == 'freshness':
        p = period(t['max_age'])
        return {'dbt_utils.recency': {'field': ident_name(cols[0]), 'datepart': p['period'], 'interval': int(p['count']),
                                      'config': conf}}, None
    return None, None       # sql: a singular test


def unit_input(name, sources, models):
    """How a unit test's input (a model, this, or schema.name) is written
    in dbt's words: ref('m'), this, or source('s', 't') of a local source
    over its schema; None when there is none."""
    if name == 'this':
        return 'this'
    if name in models:
        return f"ref('{name}')"
    schema, _, table = name.partition('.')
    unquote = lambda n: n[1:-1].replace('""', '"') if n.startswith('"') else n    # noqa: E731
    schema, table = unquote(schema), unquote(table)
    for source, kind, local_schema, tables, *_ in sources:
        if kind == 'local' and local_schema == schema and table in tables:
            return f"source('{source}', '{table}')"
    return None


def unit_test_entry(row, sources, models, warn, mark):
    """A unit_tests: entry for a row of medallion.unit_tests, or None
    (said on standard error) when an input is neither a model nor a table
    of a local source.  The mark an import put before the description
    (mark: the project's, "dbt project <name>") is left out: the import
    puts it back."""
    model, name, given, expect, incremental, description = row
    entry = {'name': name, 'model': model}
    if description and description.startswith(mark + ': '):
        description = description[len(mark) + 2:]
    if description and description != mark:
        entry['description'] = description
    if incremental:
        entry['overrides'] = {'macros': {'is_incremental': True}}
    entry['given'] = []
    for input_name, rows in given.items():
        written = unit_input(input_name, sources, models)
        if written is None:
            warn(f'unit test {model}.{name} gives rows for {input_name}, which is neither a model nor a table of '
                 'a local source: not written')
            return None
        entry['given'].append({'input': written, 'rows': [{ident_name(k): v for k, v in r.items()} for r in rows]})
    entry['expect'] = {'rows': [{ident_name(k): v for k, v in r.items()} for r in expect]}
    return entry


def export(args, out=sys.stderr):
    target = args.directory
    if os.path.exists(target) and os.listdir(target):
        raise ProjectError(f'{target} is not empty: export writes a new directory')
    conn = connect(args.dsn, autocommit=False, quiet=True)
    warned = []

    def warn(text):
        warned.append(text)
        out.write(f'medallion export: {text}\n')

    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(MODEL_COLUMNS)} FROM medallion.models ORDER BY name")
        names = [c.split('::')[0] for c in MODEL_COLUMNS]
        models = [dict(zip(names, r)) for r in cur.fetchall()]
        cur.execute("SELECT d.model, d.dep_name FROM medallion.model_dependencies d "
                    "WHERE d.kind = 'model' AND d.via = '' ORDER BY 1, 2")
        upstream = {}
        for model, dep in cur.fetchall():
            upstream.setdefault(model, []).append(dep)
        cur.execute(f"SELECT {', '.join(TEST_COLUMNS)} FROM medallion.tests ORDER BY model, name")
        tnames = ['model', 'name', 'kind', 'columns', 'accepted', 'to_model', 'to_relation', 'to_column',
                  'expression', 'min_rows', 'max_rows', 'max_age', 'sql', 'severity', 'warn_if', 'error_if',
                  'store_failures']
        tests = [dict(zip(tnames, r)) for r in cur.fetchall()]
        cur.execute("SELECT name, kind, local_schema, tables, freshness_column, "
                    "extract(epoch FROM warn_after)::bigint, extract(epoch FROM error_after)::bigint, description "
                    "FROM medallion.sources ORDER BY name")
        sources = cur.fetchall()
        cur.execute("SELECT pg_catalog.to_regclass('medallion.unit_tests') IS NOT NULL")
        unit_tests = []
        if cur.fetchone()[0]:       # a catalog before 0.3.0 has none
            cur.execute("SELECT model, name, given, expect, incremental, description FROM medallion.unit_tests "
                        "ORDER BY model, name")
            unit_tests = cur.fetchall()
    conn.rollback()
    conn.close()

    # the project's name: given, or the one the models were imported from
    # (their dbt_project_<name> tag), so that a deploy of the export is a
    # re-import of the same project
    name = args.name
    if name is None:
        marks = {t for m in models for t in m['tags'] or [] if t.startswith('dbt_project_')}
        name = marks.pop()[len('dbt_project_'):] if len(marks) == 1 else 'medallion'
    os.makedirs(os.path.join(target, 'models'), exist_ok=True)
    with open(os.path.join(target, 'dbt_project.yml'), 'w') as f:
        yaml.safe_dump({'name': name, 'version': '1.0', 'config-version': 2, 'profile': name},
                       f, sort_keys=False)

    props = {}      # layer -> schema.yml models entries
    entries = {}
    for m in models:
        if not m['enabled']:
            warn(f"model {m['name']} is disabled: written with enabled=false, which an import skips")
        folder = 'snapshots' if m['materialized'] == 'snapshot' else os.path.join('models', m['layer'])
        os.makedirs(os.path.join(target, folder), exist_ok=True)
        text = model_file(m, upstream.get(m['name'], []))
        if not m['enabled']:
            text = text.replace('{{ config(', '{{ config(enabled=false, ', 1)
        with open(os.path.join(target, folder, m['name'] + '.sql'), 'w') as f:
            f.write(text)
        entry = {'name': m['name']}
        if m['description']:
            entry['description'] = m['description']
        cols = {c: column_entry(c, {'description': d}) for c, d in (m['column_descriptions'] or {}).items()}
        if m['contract']:
            # the contract's columns: data_type and constraints, as dbt writes them
            for c in m['contract'].get('columns', []):
                entry_c = cols.setdefault(c['name'], column_entry(c['name'], {}))
                entry_c['data_type'] = c['data_type']
                constraints = [{'type': k} for k in ('not_null', 'unique', 'primary_key') if c.get(k)]
                if c.get('check'):
                    constraints.append({'type': 'check', 'expression': c['check']})
                if constraints:
                    entry_c['constraints'] = constraints
            if m['contract'].get('primary_key'):
                entry['constraints'] = [{'type': 'primary_key', 'columns': list(m['contract']['primary_key'])}]
        entry['columns'] = cols
        entries[m['name']] = entry
        props.setdefault('snapshots' if m['materialized'] == 'snapshot' else m['layer'], []).append(entry)

    for t in tests:
        entry = entries.get(t['model'])
        test, column = test_entry(t, warn)
        if t['kind'] == 'sql':
            os.makedirs(os.path.join(target, 'tests'), exist_ok=True)
            conf = {'name': t['name']}
            if t['severity'] != 'error':
                conf['severity'] = t['severity']
            if t['store_failures']:
                conf['store_failures'] = True
            head = '{{ config(' + ', '.join(f'{k}={jinja_literal(v)}' for k, v in conf.items()) + ') }}\n'
            with open(os.path.join(target, 'tests', f"{t['model']}__{t['name']}.sql"), 'w') as f:
                f.write(head + f"{{%- set _ = ref('{t['model']}') -%}}\n" + raw(t['sql']))
        elif test is not None and column is not None:
            entry['columns'].setdefault(column, column_entry(column, {})).setdefault('tests', []).append(test)
        elif test is not None:
            entry.setdefault('tests', []).append(test)

    for layer, items in props.items():
        for e in items:
            e['columns'] = list(e['columns'].values())
            if not e['columns']:
                del e['columns']
        folder = 'snapshots' if layer == 'snapshots' else os.path.join('models', layer)
        key = 'snapshots' if layer == 'snapshots' else 'models'
        with open(os.path.join(target, folder, 'schema.yml'), 'w') as f:
            yaml.safe_dump({'version': 2, key: items}, f, sort_keys=False, allow_unicode=True)

    local = []
    for name, kind, schema, tables, fresh, warn_after, error_after, description in sources:
        if kind != 'local':
            warn(f'source {name} reads a foreign server ({kind}): define it with medallion_create_source '
                 'where the project is deployed')
            continue
        s = {'name': name, 'schema': schema}
        if description:
            s['description'] = description
        if fresh:
            s['loaded_at_field'] = ident_name(fresh)
            s['freshness'] = {k: period(v) for k, v in (('warn_after', warn_after), ('error_after', error_after)) if v}
        s['tables'] = [{'name': t} for t in tables]
        local.append(s)
    if local:
        with open(os.path.join(target, 'models', 'sources.yml'), 'w') as f:
            yaml.safe_dump({'version': 2, 'sources': local}, f, sort_keys=False, allow_unicode=True)
    units = [u for u in (unit_test_entry(row, sources, {m['name'] for m in models}, warn, f'dbt project {name}')
                         for row in unit_tests) if u]
    if units:
        with open(os.path.join(target, 'models', 'unit_tests.yml'), 'w') as f:
            yaml.safe_dump({'version': 2, 'unit_tests': units}, f, sort_keys=False, allow_unicode=True)
    out.write(f'medallion export: {len(models)} models, {len(tests)} tests, {len(local)} sources'
              + (f', {len(units)} unit tests' if units else '') + f' written to {target}\n')
    return 0
