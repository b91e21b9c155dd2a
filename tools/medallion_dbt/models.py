"""Models and snapshots: rendered, ordered upstream first, and created
with medallion_create_model; their layer, materialization, tags,
incremental watermark and snapshot settings."""
import json
import os
import re

from .dialect import tsql_hint
from .errors import Disabled, ProjectError, Skip
from .project import WHY, deep_merge
from .sqltext import fold_ident, fold_idents

MATERIALIZATIONS = {'view', 'table', 'incremental', 'ephemeral', 'snapshot'}
NAME_RE = re.compile(r'^[a-z_][a-z0-9_]{0,62}$')


TOP = '(top)'


def custom_schema(node, rendered=True):
    """The schema a model or snapshot configures (config(schema=...),
    schema.yml, +schema), None when none; before it is rendered, its
    config() call's literal schema."""
    if not rendered:
        m = re.search(r"config\s*\((.*?)\)\s*}}", node.raw or '', re.S)
        s = re.search(r"schema\s*=\s*['\"](\w+)['\"]", m.group(1)) if m else None
        if s:
            return s.group(1)
    schema = node.config.get('schema') or (node.yml.get('config') or {}).get('schema') \
        or node.folder_config.get('schema')
    return schema if isinstance(schema, str) else None


def layer_of(node, layer_map, layers, default=None, generated=None):
    """The layer of a rendered model or snapshot: its schema (config(),
    schema.yml, +schema) when that names a layer, as is or through
    layer_map; else the deepest folder layer_map knows; a snapshot silver;
    a model at the top of models/ the layer layer_map gives '(top)';
    else default (--default-layer).  Skip when none: node_layer then
    places a model at the top by the DAG."""
    schema = generated or node.config.get('schema') or node.config.get('target_schema') \
        or (node.yml.get('config') or {}).get('schema') or node.folder_config.get('schema')
    schema = layer_map.get(schema, schema) if isinstance(schema, str) else None
    if schema in layers:
        return schema
    folders = getattr(node, 'folders', [])
    for folder in reversed(folders):
        if folder in layer_map:
            return layer_map[folder]
    if node.kind == 'snapshot':
        return 'silver'
    if not folders and TOP in layer_map:
        return layer_map[TOP]
    if default:
        return default
    raise Skip(f'no layer: the folder {"/".join(folders) or TOP} names none '
               f'(use +schema, --layer-map FOLDER=LAYER or --default-layer LAYER)')


def layer_of_unrendered(node, layer_map, layers, default=None, generated=None):
    """A model's layer before it is rendered: its config() call's literal
    schema, else folder and file configs (the call is read when it is
    rendered); generated, the project's generate_schema_name of them."""
    if generated is not None:
        return layer_of(node, layer_map, layers, default, generated)
    m = re.search(r"config\s*\((.*?)\)\s*}}", node.raw or '', re.S)
    if m:
        s = re.search(r"schema\s*=\s*['\"](\w+)['\"]", m.group(1))
        if s:
            layer = layer_map.get(s.group(1), s.group(1))
            if layer in layers:
                return layer
    return layer_of(node, layer_map, layers, default)


def node_layer(imp, node, rendered=True):
    """layer_of (or layer_of_unrendered) with the import's options; a model
    at the top of models/ that they place nowhere goes where its place in
    the DAG says (imp.p.top_layers), noted in the report."""
    how = layer_of if rendered else layer_of_unrendered
    generated = None
    if not (node.kind == 'snapshot' and node.config.get('target_schema')):
        # the project's generate_schema_name, as dbt calls it (a snapshot's
        # target_schema is its schema as it is, as in dbt)
        generated = imp.renderer.generated_schema(custom_schema(node, rendered), node)
    try:
        return how(node, imp.p.layer_map, imp.layers, imp.p.default_layer, generated)
    except Skip:
        chosen = imp.p.top_layers.get(node.name) if node.kind == 'model' and not node.folders else None
        if chosen is None:
            raise
        if rendered:
            add_note(node, f'layer {chosen[0]}: at the top of models/, and {chosen[1]} (--default-layer or '
                           f'--layer-map "{TOP}=LAYER" chooses another)')
        return chosen[0]


def add_note(node, text):
    """A note for the node's line of the report, after those it has."""
    node.note = f'{node.note}; {text}' if node.note else text


def top_layers(nodes, project, ordered_layers):
    """The layer of each model at the top of models/ whose schema names
    none, by its place in the DAG (nodes: name -> rendered node, whose refs
    are known): one that reads no model (only sources, seeds, or nothing)
    goes to the first layer; one no model reads to the last; any other to
    the middle one.  name -> (layer, why)."""
    first, last = ordered_layers[0], ordered_layers[-1]
    middle = ordered_layers[len(ordered_layers) // 2]
    read = set()
    for node in nodes.values():
        read.update(node.refs)
    out = {}
    for name, node in nodes.items():
        if node.kind != 'model' or node.folders:
            continue
        if any(r in project.models or r in project.snapshots for r in node.refs):
            out[name] = (last, 'no model reads it') if name not in read \
                else (middle, 'it reads models and models read it')
        else:
            out[name] = (first, 'it reads only sources and seeds')
    return out


def render_config(imp, node, conf):
    """Configs written as Jinja ("{{ var('x') }}"), rendered."""
    out = {}
    for k, v in conf.items():
        if isinstance(v, str) and '{{' in v:
            v = imp.render_value(node, v)
            if isinstance(v, str) and v.strip().lower() in ('true', 'false'):
                v = v.strip().lower() == 'true'
        out[k] = v
    return out


def prepare(imp, node):
    """Render a model or snapshot and work out its settings."""
    if node.python:
        raise Skip('Python models are not supported')
    node.refs = []
    node.sources = []
    node.config = {}
    node.note = None
    raw = node.raw
    early = render_config(imp, node, deep_merge(node.folder_config, node.yml.get('config') or {}))
    if early.get('enabled') is False:
        raise Disabled()
    sql = imp.renderer.render(node, raw)
    conf = deep_merge(early, render_config(imp, node, node.config))
    node.conf = conf
    if conf.get('enabled') is False:
        raise Disabled()
    if not NAME_RE.match(node.name):
        raise Skip('a medallion model name is lower-case letters, digits and underscores, at most 63')
    materialized = 'snapshot' if node.kind == 'snapshot' else conf.get('materialized', 'view')
    if materialized not in MATERIALIZATIONS:
        raise Skip(f'materialization "{materialized}" has no medallion equivalent '
                   f'(view, table, incremental, ephemeral, snapshot)')
    node.layer = node_layer(imp, node)
    node.materialized = materialized
    sql = sql.strip().rstrip(';').strip()
    if imp.p.dialect == 'tsql':
        sql = imp.translate(sql)
    node.sql = sql
    return node


def settings(imp, node):
    conf = node.conf
    params = {'name': node.name, 'sql': node.sql, 'layer': node.layer, 'materialized': node.materialized}
    tags = []
    for level in (node.folder_config, node.yml.get('config') or {}, node.config, {'tags': node.yml.get('tags')}):
        found = level.get('tags') or []
        tags += [found] if isinstance(found, str) else list(found)
    renamed = [t for t in tags if tag_ident(t) != t]
    if renamed:
        add_note(node, 'tags as medallion spells them: ' + ', '.join(f'{t} -> {tag_ident(t)}' for t in renamed))
    params['tags'] = sorted(set([tag_ident(t) for t in tags] + [project_tag(imp.p)]))
    try:
        desc = imp.render_value(node, node.yml.get('description'))
    except Skip as e:
        desc = None
        add_note(node, f'description left out: {e}')
    if desc:
        params['description'] = str(desc).strip()
    cols = {fold_ident(c['name'], c.get('quote')): str(imp.render_value(node, c['description'])).strip()
            for c in node.yml.get('columns') or [] if c.get('description')}
    if cols:
        params['column_descriptions'] = json.dumps(cols)
    # dbt's meanings; its default, ignore, for incremental models (a table
    # model is rebuilt whole, taking its new columns, whatever it says)
    if conf.get('on_schema_change') in ('ignore', 'append_new_columns', 'sync_all_columns', 'fail'):
        params['on_schema_change'] = conf['on_schema_change']
    key = conf.get('unique_key')
    if key and node.materialized in ('incremental', 'snapshot', 'table'):
        params['unique_key'] = fold_idents([key] if isinstance(key, str) else list(key))
    if node.materialized == 'table' and 'unique_key' in params:
        del params['unique_key']
    if node.materialized == 'incremental':
        strategy = conf.get('incremental_strategy')
        if strategy not in (None, 'merge', 'delete+insert', 'append'):
            raise Skip(f'incremental_strategy "{strategy}" has no medallion equivalent (merge, delete+insert, append)')
        params['strategy'] = strategy or ('merge' if key else 'append')
        meta = (conf.get('meta') or {}).get('medallion') or {}
        mark, lookback = fold_ident(meta.get('watermark')), meta.get('lookback')
        if not mark:
            mark, lookback = watermark_of(node.raw)
        if not mark:
            params['materialized'] = 'table'
            for k in ('strategy', 'unique_key'):
                params.pop(k, None)
            add_note(node, 'incremental without a watermark (no is_incremental() block of the usual shape, '
                           'no meta.medallion.watermark): imported as a table')
        else:
            params['watermark'] = mark
            if lookback:
                params['lookback'] = lookback
    if node.kind == 'snapshot':
        strategy = conf.get('strategy', 'timestamp')
        params['snapshot_strategy'] = strategy
        if strategy == 'timestamp':
            params['updated_at'] = fold_ident(conf.get('updated_at'))
        else:
            cc = conf.get('check_cols')
            if cc and cc != 'all':
                params['check_columns'] = fold_idents([cc] if isinstance(cc, str) else list(cc))
        if conf.get('invalidate_hard_deletes') or conf.get('hard_deletes') == 'invalidate':
            params['hard_deletes'] = 'invalidate'
    if params['materialized'] == 'incremental' and 'on_schema_change' not in params:
        params['on_schema_change'] = 'ignore'
    contract = contract_of(node, conf)
    node.contract = contract        # medallion deploy --plan compares it with the deployed one
    if contract is not None:
        params['contract'] = json.dumps(contract)
    # medallion's own settings, which dbt has no word for (medallion export
    # writes them so): meta: {medallion: {indexes: [...], ...}}
    extra = (conf.get('meta') or {}).get('medallion') or {}
    for k in MEDALLION_META:
        if extra.get(k) is not None:
            params[k] = extra[k]
    return params


def contract_of(node, conf):
    """dbt's enforced contract (config contract: {enforced: true}, the YAML
    columns' data_type and constraints, the model's constraints) as
    medallion's contract, or None."""
    if not (conf.get('contract') or {}).get('enforced'):
        return None
    columns, key = [], []
    for c in node.yml.get('columns') or []:
        if not c.get('data_type'):
            raise Skip(f'contract: column {c.get("name")} has no data_type')
        col = {'name': fold_ident(c['name'], c.get('quote')), 'data_type': str(c['data_type'])}
        for k in c.get('constraints') or []:
            kind = k.get('type')
            if kind in ('not_null', 'unique', 'primary_key'):
                col[kind] = True
            elif kind == 'check' and k.get('expression'):
                col['check'] = str(k['expression'])
            elif kind not in ('foreign_key', 'custom'):
                raise Skip(f'contract: column {c["name"]}: constraint {kind} is not supported')
        columns.append(col)
    for k in node.yml.get('constraints') or []:
        if k.get('type') == 'primary_key':
            key += fold_idents(list(k.get('columns') or []))
    if not columns:
        raise Skip('contract: enforced, but no column is described with a data_type')
    out = {'columns': columns}
    if key:
        out['primary_key'] = key
    return out


# settings a model's meta.medallion may give (watermark and lookback: above)
MEDALLION_META = ('indexes', 'statement_timeout', 'full_refresh_threshold', 'deterministic',
                  'distributed_by', 'colocate_with', 'distribution')
CASTS = {'column_descriptions': '::jsonb', 'contract': '::jsonb', 'lookback': '::interval', 'statement_timeout': '::interval',
         'full_refresh_threshold': '::real'}


def create_model(imp, node):
    params = settings(imp, node)
    owner_tags = imp.db.query_params('SELECT tags FROM medallion.models WHERE name = %s', [node.name])
    if owner_tags:
        others = [t for t in owner_tags[0][0] if t.startswith('dbt_project_') and t != project_tag(imp.p)]
        if others or project_tag(imp.p) not in owner_tags[0][0]:
            raise Skip(f'a model {node.name} already exists and was not imported from this project'
                       + (f' (tag {others[0]})' if others else ''))
    dropped = []
    while True:
        names = list(params)
        sql = 'SELECT medallion_create_model(' + ', '.join(f'{k} => %s' + CASTS.get(k, '') for k in names) + ')'
        values = [params[k] for k in names]
        try:
            row = imp.db.run(sql, values, fetch=True, show=False)
        except Skip as e:
            column = undescribable(e, params)
            if column is None:
                if imp.args.dry_run:
                    imp.db.show(sql, values)
                raise
            # documentation never blocks a model: dbt ignores the description
            dropped.append(column)
            left = json.loads(params['column_descriptions'])
            del left[column]
            params['column_descriptions'] = json.dumps(left)
            if not left:
                del params['column_descriptions']
            continue
        if imp.args.dry_run:
            imp.db.show(sql, values)
        break
    if dropped:
        add_note(node, f'the description of {", ".join(dropped)} left out: the model has no such column '
                       f'(dbt ignores it)')
    return row[0] if row else 'would import'


def undescribable(error, params):
    """The described column medallion_create_model refused because the
    model's query has no such column (the error names it), when params
    describe it; else None."""
    m = re.fullmatch(r'column_descriptions of model ".*" names column "(.*)", which the model query does not have',
                     getattr(error, 'primary', None) or '', re.S)
    if getattr(error, 'sqlstate', None) != '42703' or m is None or 'column_descriptions' not in params:
        return None
    return m.group(1) if m.group(1) in json.loads(params['column_descriptions']) else None


def order(imp):
    """Render every model and snapshot; return them upstream first.
    Layers are worked out first, so that ref() renders the same
    whatever order models are read in."""
    nodes = {}
    # models at the top of models/ that nothing else places: the middle
    # layer while the DAG is read, then where their place in it says
    middle = imp.layer_order[len(imp.layer_order) // 2]
    imp.p.top_layers = {name: (middle, 'the DAG is being read') for name, node in imp.p.models.items()
                        if not node.folders and not node.python}
    for node in list(imp.p.models.values()) + list(imp.p.snapshots.values()):
        try:
            node.layer = None if node.python else node_layer(imp, node, rendered=False)
        except Skip:
            node.layer = None
    for node in list(imp.p.models.values()) + list(imp.p.snapshots.values()):
        try:
            nodes[node.name] = prepare(imp, node)
        except Disabled:
            imp.note(node.kind, node.name, 'disabled', 'enabled: false')
        except Skip as s:
            if node.python or not node.refs:
                imp.note(node.kind, node.name, 'skipped', str(s))
            else:
                # ordered by the refs met so far; rendered again when imported
                nodes[node.name] = node
    imp.p.top_layers = top_layers(nodes, imp.p, imp.layer_order)
    for name, (layer, _) in imp.p.top_layers.items():
        nodes[name].layer = layer
    ordered, state = [], {}

    def visit(name, path):
        if state.get(name) == 'done' or name not in nodes:
            return
        if state.get(name) == 'visiting':
            cycle = path[path.index(name):] + [name]
            raise ProjectError('the models form a cycle: ' + ' -> '.join(cycle))
        state[name] = 'visiting'
        for up in nodes[name].refs:
            visit(up, path + [name])
        state[name] = 'done'
        ordered.append(nodes[name])
    for name in sorted(nodes):
        visit(name, [])
    return ordered


def import_models(imp):
    imported = set()
    for kind, name, path in imp.p.stale:
        imp.note(kind, name, 'ignored', f'{os.path.relpath(path, imp.p.dir)} describes it, but there is no such file')
    for kind, name, path, why in imp.p.not_imported:
        imp.note(kind, name, 'not imported', f'{why} ({os.path.relpath(path, imp.p.dir)})')
    for package, root, area in imp.renderer.package_areas():
        for f in area.files(os.path.join(root, 'models'), '.sql') + area.files(os.path.join(root, 'models'), '.py'):
            imp.note('model', f'{package}.{os.path.splitext(os.path.basename(f))[0]}', 'not imported',
                     f'{WHY["package_model"]} ({os.path.relpath(f, imp.p.dir)})')
    pending = order(imp)
    imp.db.phase = 'import'
    waiting = {}
    while pending:
        node = pending.pop(0)
        try:
            # rendered again now that what it reads exists (run_query)
            prepare(imp, node)
        except Disabled:
            imp.note(node.kind, node.name, 'disabled', 'enabled: false')
            continue
        except Skip as s:
            imp.note(node.kind, node.name, 'skipped', str(s))
            continue
        missing = [r for r in node.refs if r not in imported and r not in imp.p.seeds]
        later = [r for r in missing if any(n.name == r for n in pending)]
        if later and waiting.get(node.name) != len(pending):
            # read a model still to come (found only now): after it
            waiting[node.name] = len(pending)
            pending.append(node)
            continue
        if missing:
            imp.note(node.kind, node.name, 'skipped', f'reads {", ".join(missing)}, which was not imported')
            continue
        try:
            status = create_model(imp, node)
            imported.add(node.name)
            imp.note(node.kind, node.name, status, node.note or '')
        except Skip as s:
            hint = (tsql_hint(node.sql, str(s)) or case_hint(imp, node, s)) if imp.p.dialect == 'postgres' else ''
            imp.note(node.kind, node.name, 'skipped', str(s) + hint)
    imp.imported = imported


def case_hint(imp, node, error):
    """The hint a model read as PostgreSQL gets when a column it names is
    not there but a relation it reads has it in another case ("CustomerKey"
    for CustomerKey, which PostgreSQL reads as customerkey): SQL Server's
    names, which a T-SQL project matches without case."""
    how = ' SQL Server\'s names? --dialect tsql matches names without case)'
    if not imp.db.connected:
        return ''
    m = re.fullmatch(r'relation "([^".]+)\.([^".]+)" does not exist', getattr(error, 'primary', None) or '')
    if getattr(error, 'sqlstate', None) == '42P01' and m:
        try:
            found = imp.relation(m.group(1), m.group(2))
        except Skip:
            found = None
        return f' (the database has "{found[0]}"."{found[1]}":{how}' if found else ''
    m = re.fullmatch(r'column "(.*)" does not exist', getattr(error, 'primary', None) or '')
    if getattr(error, 'sqlstate', None) != '42703' or m is None:
        return ''
    relations = [imp.source_relation(s, t, None) for s, t in set(node.sources)]
    for name in set(node.refs):
        other = imp.p.models.get(name) or imp.p.snapshots.get(name)
        relations.append(imp.relation_of(name, None) if other is not None or name in imp.p.seeds else None)
    spelled = sorted({c for r in relations if r is not None for c, _ in imp.columns(r.schema, r.identifier) or []
                      if c.lower() == m.group(1).lower() and c != m.group(1)})
    if not spelled:
        return ''
    return f' (what it reads has {" and ".join(chr(34) + c + chr(34) for c in spelled)}:{how}'



def project_tag(project):
    """The tag that marks the models imported from this project."""
    return 'dbt_project_' + tag_ident(project.name)


def tag_ident(tag):
    """A dbt tag as a medallion tag (lower-case letters, digits, _)."""
    out = re.sub(r'[^a-z0-9_]+', '_', str(tag).lower()).strip('_') or 'tag'
    return ('t_' + out if out[0].isdigit() else out)[:63]



INTERVAL_RE = r"(?:interval\s*'(\d+\s*[a-z]+)'|'(\d+\s*[a-z]+)'\s*::\s*interval)"


def watermark_of(raw):
    """The watermark column and lookback of the usual is_incremental()
    block, and only of it: the block is one condition,
    where col >[=] (select max(col) [- interval 'n unit'] from {{ this }})
    [- interval 'n unit'], max(col) also as coalesce(max(col), 'literal')
    (or isnull).  Anything else is not recognised."""
    text = re.sub(r'{#.*?#}', '', raw or '', flags=re.S)
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'--[^\n]*', '', text)
    blocks = re.findall(r'{%-?\s*if\s+is_incremental\(\)\s*-?%}(.*?){%-?\s*endif\s*-?%}', text, re.S | re.I)
    if len(blocks) != 1:
        return None, None
    m = re.fullmatch(r'\s*(?:where|and)\s+(?:\w+\.)?(?P<col>"?\w+"?)\s*>=?\s*\(\s*select\s+'
                     r'(?:max\s*\(\s*(?P<max>"?\w+"?)\s*\)'
                     # coalesce(max(col), '1900-01-01'): the same on every run but the first,
                     # which builds everything anyway
                     r'|(?:coalesce|isnull)\s*\(\s*max\s*\(\s*(?P<cmax>"?\w+"?)\s*\)\s*,\s*\'[^\']*\'\s*\))'
                     r'(?:\s*-\s*' + INTERVAL_RE + r')?\s+from\s*{{\s*this\s*}}\s*\)'
                     r'(?:\s*-\s*' + INTERVAL_RE + r')?\s*', blocks[0], re.S | re.I)
    if not m or fold_ident(m.group('col')) != fold_ident(m.group('max') or m.group('cmax')):
        return None, None
    lookback = next((g for g in m.groups()[3:] if g), None)
    return fold_ident(m.group('col')), lookback

