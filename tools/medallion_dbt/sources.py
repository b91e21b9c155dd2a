"""dbt sources as medallion sources (medallion_create_source, kind local),
with the source's freshness."""
import os

from .errors import Skip
from .mapping import PERIODS
from .models import NAME_RE
from .project import Node
from .sqltext import fold_ident


def import_sources(imp):
    holder = Node('source', 'sources', os.path.join(imp.p.dir, 'dbt_project.yml'), None)
    for name, source in imp.p.sources.items():
        source = {k: imp.render_value(holder, v) for k, v in source.items()}
        imp.p.sources[name] = source
        if disabled(imp, holder, source):
            imp.note('source', name, 'disabled', 'enabled: false')
            continue
        schema = source.get('schema', name)
        off = [t['name'] for t in source.get('tables') or [] if disabled(imp, holder, t)]
        if off:
            imp.note('source', name, 'note', f'tables {", ".join(off)} are disabled (enabled: false): left out')
        tables = [imp.render_value(holder, t.get('identifier', t['name'])) for t in source.get('tables') or []
                  if t['name'] not in off]
        fresh = source.get('freshness') or {}
        # dbt writes loaded_at_field into SQL: ModifiedDate is modifieddate
        loaded_at = fold_ident(source.get('loaded_at_field'))
        differ = [t['name'] for t in source.get('tables') or []
                  if t.get('freshness') is not None
                  or fold_ident(t.get('loaded_at_field')) not in (None, loaded_at)]
        if differ:
            imp.note('source', name, 'note', f'tables {", ".join(differ)} have freshness of their own: '
                     'medallion keeps one per source, the source\'s')

        def after(x):
            if not x:
                return None
            if not isinstance(x, dict) or 'count' not in x or 'period' not in x:
                raise Skip(f'freshness {x}: needs count and period')
            return f"{x['count']} {PERIODS.get(x['period'], x['period'])}"
        try:
            if not NAME_RE.match(name):
                raise Skip('a medallion source name is lower-case letters, digits and underscores')
            if imp.db.connected:
                schema, tables, loaded_at = in_catalog(imp, name, schema, tables, loaded_at if fresh else None)
            create_source(imp, name, schema, tables, loaded_at if fresh else None,
                          after(fresh.get('warn_after')), after(fresh.get('error_after')),
                          source.get('description'))
        except Skip as s:
            imp.note('source', name, 'skipped', str(s))


def disabled(imp, holder, entry):
    """enabled: false in a source's (or table's) config, or on it."""
    value = (entry.get('config') or {}).get('enabled', entry.get('enabled'))
    return str(imp.render_value(holder, value)).strip().lower() == 'false'


def in_catalog(imp, name, schema, tables, loaded_at):
    """The source's schema, tables and freshness column as the connected
    database spells them.  A T-SQL project's names are matched without
    case, as SQL Server matches them (tds_fdw's IMPORT FOREIGN SCHEMA keeps
    SQL Server's: "Sales"."Customer"); a freshness column no table has is
    said in a note, as medallion_check_sources would skip it."""
    if imp.p.dialect == 'tsql':
        found = [imp.relation(schema, t) or (schema, t) for t in tables]
        schemas = {s for s, _ in found}
        if len(schemas) == 1:
            schema, tables = schemas.pop(), [t for _, t in found]
    if loaded_at:
        there = [(schema, t) for t in tables if imp.columns(schema, t)]
        if imp.p.dialect == 'tsql':
            loaded_at = imp.resolve_column(there, loaded_at)
        if there and not any(loaded_at in [c for c, _ in imp.columns(s, t)] for s, t in there):
            imp.note('source', name, 'note', f'loaded_at_field {loaded_at}: no table of the source has the column, '
                     f'so medallion_check_sources skips its freshness')
    return schema, tables, loaded_at


def create_source(imp, name, schema, tables, freshness_column, warn_after, error_after, description):
    """medallion_create_source, reported created, updated or unchanged."""
    row_sql = ('SELECT kind, local_schema, tables, freshness_column, warn_after, error_after, description '
               'FROM medallion.sources WHERE name = %s')
    before = imp.db.query_params(row_sql, [name])
    status = imp.db.run('SELECT medallion_create_source(%s, %s, tables => %s, freshness_column => %s, '
                        'warn_after => %s::interval, error_after => %s::interval, description => %s)',
                        [name, schema, tables, freshness_column, warn_after, error_after, description],
                        fetch=True)
    if status is None:
        imp.note('source', name, 'would import')
    elif status[0] == 'updated' and before == imp.db.query_params(row_sql, [name]):
        imp.note('source', name, 'unchanged')
    else:
        imp.note('source', name, status[0])
