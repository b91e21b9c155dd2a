"""Seeds: a table per CSV file in the seed schema, loaded with COPY when its
file or types changed, and a local medallion source over the schema."""
import csv
import hashlib
import io
import re

from .errors import Skip
from .models import NAME_RE
from .project import deep_merge
from .sources import create_source
from .sqltext import quote_ident, quote_literal


def check_type(imp, column, type_name):
    """A seed's column type is a type name (it is written into CREATE
    TABLE): letters, digits, spaces, dots, a modifier, an array mark,
    and known to the database."""
    if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_ .]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\s*\[\])?', str(type_name)):
        raise Skip(f'column {column}: "{type_name}" is not a type name')
    if imp.db.connected:
        try:
            found = imp.db.run('SELECT pg_catalog.to_regtype(%s)', [str(type_name)], fetch=True)
        except Skip as e:
            raise Skip(f'column {column}: "{type_name}": {e}')
        if found == (None,):
            raise Skip(f'column {column}: type "{type_name}" does not exist')


def seed_schema(imp, schema):
    """The seed schema, made when it is not there; Skip saying why the
    importing role cannot load seeds into it.  CREATE SCHEMA IF NOT EXISTS
    needs CREATE on the database even when the schema exists, so it runs
    only when the schema is not there; an existing one needs CREATE and
    USAGE on it."""
    if not imp.db.connected:
        imp.db.run(f'CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}')
        return
    found = imp.db.query_params(
        "SELECT pg_catalog.has_schema_privilege(oid, 'CREATE'), pg_catalog.has_schema_privilege(oid, 'USAGE') "
        "FROM pg_catalog.pg_namespace WHERE nspname = %s", [schema])
    if found:
        if found[0] != (True, True):
            raise Skip(f'role {imp.db.role()} may not create tables in schema {schema} (it needs CREATE and '
                       f'USAGE on it; --seed-schema names another)')
        return
    try:
        imp.db.run(f'CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}')
    except Skip as e:
        raise Skip(f'schema {schema} is not there, and role {imp.db.role()} cannot create it: {e} (create it, or '
                   f'name another with --seed-schema)')


def seed_schema_of(imp, node):
    """Where a seed is loaded: its schema config (+schema, schema.yml),
    through the project's generate_schema_name when it has one, else
    --seed-schema.  A plain schema, never a layer's (medallion's models
    live there)."""
    conf = deep_merge(node.folder_config, node.yml.get('config') or {})
    custom = conf.get('schema') if isinstance(conf.get('schema'), str) else None
    if custom is None:
        return imp.args.seed_schema     # the importing user's choice, as dbt's target schema is
    schema = imp.renderer.generated_schema(custom, node) or custom
    if schema in imp.layer_schemas:
        raise Skip(f'its schema {schema} is a medallion layer\'s: seeds are loaded into plain schemas '
                   f'(+schema names another)')
    if schema.startswith(('pg_', 'medallion')) or schema == 'information_schema' or schema in imp.extension_schemas:
        # the project chooses it: never PostgreSQL's or medallion's own
        raise Skip(f'its schema {schema} is the system\'s or medallion\'s: seeds are loaded into plain schemas '
                   f'(+schema names another)')
    if imp.db.query_params('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s', [schema]):
        # a schema named as a role is first on that role's search_path
        # ("$user"): its tables would stand in for the ones that role reads
        raise Skip(f'its schema {schema} is named as a role, whose search_path ("$user") would find its tables first '
                   f'(+schema names another)')
    return schema


def seeds_source(imp, schema):
    """The local medallion source over a seed schema: <project>_seeds for
    --seed-schema, <project>_seeds_<schema> for another."""
    base = f'{imp.p.name}_seeds' if NAME_RE.match(f'{imp.p.name}_seeds') else 'dbt_seeds'
    if schema == imp.args.seed_schema:
        return base
    return f'{base}_{re.sub(r"[^a-z0-9_]+", "_", schema.lower())}'[:63]


def import_seeds(imp):
    by_schema = {}
    for name, node in imp.p.seeds.items():
        node.schema = None
        if str(deep_merge(node.folder_config, node.yml.get('config') or {}).get('enabled')).lower() == 'false':
            imp.note('seed', name, 'disabled', 'enabled: false')
            continue
        try:
            node.schema = seed_schema_of(imp, node)
            by_schema.setdefault(node.schema, []).append(node)
        except Skip as s:
            imp.note('seed', name, 'skipped', str(s))
    for schema, nodes in by_schema.items():
        try:
            seed_schema(imp, schema)
        except Skip as s:
            # no seed can be loaded there, nor their source made: each says why
            for node in nodes:
                imp.note('seed', node.name, 'skipped', str(s))
            imp.note('source', seeds_source(imp, schema), 'skipped', str(s))
            continue
        load_seeds(imp, schema, nodes)
        try:
            create_source(imp, seeds_source(imp, schema), schema, [], None, None, None,
                          f'the seeds of dbt project {imp.p.name}')
        except Skip as s:
            imp.note('source', seeds_source(imp, schema), 'skipped', str(s))


def load_seeds(imp, schema, nodes):
    """Each seed of nodes loaded into schema (created or checked)."""
    for node in nodes:
        name = node.name
        try:
            text = imp.p.read(node.path).lstrip('\ufeff')
            rows = list(csv.reader(io.StringIO(text)))
            if not rows:
                raise Skip('empty CSV file')
            header, data = rows[0], rows[1:]
            conf = deep_merge(node.folder_config, node.yml.get('config') or {})
            types = conf.get('column_types') or {}
            cols = [(h, types.get(h) or infer_type([r[i] for r in data if i < len(r)]))
                    for i, h in enumerate(header)]
            for column, type_name in cols:
                check_type(imp, column, type_name)
            digest = hashlib.sha256((repr(cols) + text).encode()).hexdigest()[:16]
            shape = hashlib.sha256(repr(cols).encode()).hexdigest()[:16]
            mark = f'medallion-dbt seed {digest} shape {shape}'
            current = None
            if imp.db.connected:
                found = imp.db.query_params(
                    "SELECT pg_catalog.obj_description(pg_catalog.to_regclass(%s), 'pg_class')",
                    [f'{quote_ident(schema)}.{quote_ident(name)}'])
                current = found[0][0] if found else None
            if current == mark:
                imp.note('seed', name, 'unchanged')
                continue
            with imp.db.group():
                table = f'{quote_ident(schema)}.{quote_ident(name)}'
                exists = imp.db.query_params('SELECT pg_catalog.to_regclass(%s) IS NOT NULL', [table]) == [(True,)]
                if exists and not (current or '').startswith('medallion-dbt seed '):
                    raise Skip(f'{table} exists and was not loaded by medallion-dbt')
                if exists and current.split(' shape ')[-1] == shape:
                    # the same columns: loaded again in place (models read it)
                    imp.db.run(f'TRUNCATE {table}')
                else:
                    if exists:
                        try:
                            imp.db.run(f'DROP TABLE {table}')
                        except Skip as e:
                            raise Skip(f'its columns changed and models read it: drop them first ({e})')
                    imp.db.run(f'CREATE TABLE {table} (' + ', '.join(f'{quote_ident(c)} {t}' for c, t in cols) + ')')
                if imp.args.dry_run:
                    print(f'COPY {table} FROM STDIN (FORMAT csv, HEADER true);  -- {len(data)} rows of {node.path}')
                imp.db.copy(table, text)
                imp.db.run(f'COMMENT ON TABLE {table} IS {quote_literal(mark)}')
            imp.note('seed', name, 'would import' if not imp.db.connected else 'updated' if current else 'created',
                     f'{len(data)} rows')
        except Skip as s:
            imp.note('seed', name, 'skipped', str(s))



def infer_type(values):
    values = [v for v in values if v != '']
    if not values:
        return 'text'
    if all(re.fullmatch(r'-?\d{1,18}', v) for v in values):
        return 'bigint' if any(len(v) > 9 for v in values) else 'integer'
    if all(re.fullmatch(r'-?\d+(\.\d+)?', v) for v in values):
        return 'numeric'
    if all(re.fullmatch(r'\d{4}-\d{2}-\d{2}', v) for v in values):
        return 'date'
    if all(re.fullmatch(r'\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?', v) for v in values):
        return 'timestamp'
    if all(v.lower() in ('true', 'false') for v in values):
        return 'boolean'
    return 'text'
