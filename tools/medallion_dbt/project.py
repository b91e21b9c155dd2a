"""The dbt project on disk: dbt_project.yml, its folders and their
configs, schema.yml properties, sources, docs blocks and singular tests."""
import os
import re

import yaml

from .errors import ProjectError
from .dialect import bracketed
from .files import Area, relative_setting
from .sqltext import fold_ident

# dbt_project.yml's folders that are read: each a relative path without
# '..' (packages-install-path is one path, the others lists).
PATH_SETTINGS = ('model-paths', 'seed-paths', 'snapshot-paths', 'macro-paths', 'test-paths',
                 'analysis-paths', 'docs-paths', 'packages-install-path')


# Folders that name a layer, as dbt projects lay them out.
# dbt adapters whose SQL is T-SQL
TSQL_ADAPTERS = ('sqlserver', 'synapse', 'fabric')

FOLDER_LAYERS = {
    'bronze': 'bronze', 'staging': 'bronze', 'stg': 'bronze', 'raw': 'bronze',
    'silver': 'silver', 'intermediate': 'silver', 'int': 'silver',
    'gold': 'gold', 'marts': 'gold', 'mart': 'gold',
}


# What a project's YAML may hold besides models, seeds, snapshots and
# sources: reported, not imported (the import names every object).
OTHER_RESOURCES = {'unit_tests': 'unit_test', 'semantic_models': 'semantic_model', 'metrics': 'metric',
                   'saved_queries': 'saved_query', 'exposures': 'exposure', 'groups': 'group'}
WHY = {
    'semantic_model': "dbt's semantic layer (MetricFlow) has no medallion equivalent",
    'metric': "dbt's semantic layer (MetricFlow) has no medallion equivalent",
    'saved_query': "dbt's semantic layer (MetricFlow) has no medallion equivalent",
    'exposure': 'it documents a use downstream of the project; medallion keeps none',
    'group': "medallion has no groups (who reads a model is the layer's grants)",
    'analysis': 'an analysis is SQL dbt compiles and never runs',
    'yaml_snapshot': 'a snapshot written in YAML (dbt 1.9) is not read; write it as a '
                     '{% snapshot %} block',
    'package_model': "medallion-dbt imports the project's own models, not its packages'",
}


class Node:
    """A model, seed or snapshot of the project."""

    def __init__(self, kind, name, path, raw):
        self.kind = kind            # model, seed, snapshot
        self.name = name
        self.path = path
        self.raw = raw
        self.line = 1               # where raw starts in the file
        self.folder_config = {}
        self.yml = {}               # the schema.yml entry
        self.config = {}            # config() calls, while rendering
        self.refs = []
        self.sources = []           # (source, table) it reads, while rendering
        self.sql = None
        self.python = False
        self.folders = []
        self.quoted = set()         # columns with quote: true
        self.layer = None
        self.status = None
        self.note = None
        self.contract = None        # the enforced contract, as medallion takes it


def as_list(value):
    """A YAML list, or one item written without the list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class YamlText(str):
    """A string of the project's YAML files, with where it is written: a
    value rendered as Jinja names its file and line when it fails."""

    def __new__(cls, value, path, line):
        text = super().__new__(cls, value)
        text._origin = (path, line)
        return text


class _YamlLoader(yaml.SafeLoader):
    """yaml.safe_load that marks strings with their place."""

    def construct_text(self, node):
        value = self.construct_scalar(node)
        # a block scalar's text starts on the line after its | or >
        line = node.start_mark.line + 1 + (1 if node.style in ('|', '>') else 0)
        return YamlText(value, self.path, line)


_YamlLoader.add_constructor('tag:yaml.org,2002:str', _YamlLoader.construct_text)


def load_yaml(text, path):
    """The YAML text of the file at path, as yaml.safe_load reads it,
    strings as YamlText."""
    loader = _YamlLoader(text)
    loader.path = path
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def deep_merge(base, extra):
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def folder_config(root, project, parts):
    """dbt_project.yml's configs for a path: '+key' (or plain key) values
    of the root (models: +x), the project and every folder on the way, the
    deeper winning; tags add up."""
    config = {'tags': []}
    root = root if isinstance(root, dict) else {}
    levels = [{k: v for k, v in root.items() if k.startswith('+')}]
    level = root.get(project)
    for part in [None] + parts:
        if part is not None:
            level = level.get(part) if isinstance(level, dict) else None
        if not isinstance(level, dict):
            break
        levels.append(level)
    for level in levels:
        for k, v in level.items():
            if not isinstance(k, str):
                continue        # YAML 1.1 reads a folder named off or yes as a boolean
            key = k[1:] if k.startswith('+') else k
            if not k.startswith('+') and isinstance(v, dict):
                continue
            if key == 'tags':
                config['tags'] += [v] if isinstance(v, str) else list(v or [])
            else:
                config[key] = v
    return config


class Project:
    def __init__(self, directory, args):
        # its files are read inside the directory named on the command line
        # (where it really is: files.Area), and nowhere else
        self.dir = os.path.abspath(directory)
        self.area = Area([self.dir], self.dir)
        path = os.path.join(self.dir, 'dbt_project.yml')
        if not os.path.lexists(path):
            raise ProjectError(f'{directory}: no dbt_project.yml (is this a dbt project?)')
        try:
            self.conf = load_yaml(self.read(path), path) or {}
        except yaml.YAMLError as e:
            raise ProjectError(f'{path}: {e}')
        if not isinstance(self.conf, dict):
            raise ProjectError(f'{path}: not a mapping of settings')
        self.path_settings = {key: relative_setting(key, self.conf.get(key)) for key in PATH_SETTINGS}
        if isinstance(self.conf.get('packages-install-path'), list):
            raise ProjectError('dbt_project.yml: packages-install-path: one path, not a list')
        self.local_packages = []    # --allow-local-package: folders outside it that packages may be
        for folder in getattr(args, 'allow_local_package', None) or []:
            if not os.path.isdir(folder):
                raise ProjectError(f'--allow-local-package {folder}: not a directory')
            self.local_packages.append(os.path.realpath(folder))
        self.name = self.conf.get('name') or os.path.basename(self.dir)
        self.vars = dict(self.conf.get('vars') or {})
        if args.vars:
            try:
                extra = yaml.safe_load(args.vars) or {}
            except yaml.YAMLError as e:
                raise ProjectError(f'--vars: {e}')
            if not isinstance(extra, dict):
                raise ProjectError('--vars: a YAML mapping, as "{name: value}"')
            self.vars.update(extra)
        self.layer_map = dict(FOLDER_LAYERS)
        self.mapped = set()         # the folders --layer-map names
        for item in args.layer_map or []:
            folder, eq, layer = item.partition('=')
            if not eq or not folder or not layer:
                raise ProjectError(f'--layer-map {item}: FOLDER=LAYER (a folder or +schema value, or (top) for '
                                   f'the models at the top of models/)')
            self.layer_map[folder] = layer
            self.mapped.add(folder)
        self.default_layer = getattr(args, 'default_layer', None)
        self.top_layers = {}        # models at the top of models/: name -> (layer, why), by the DAG
        self.dialect, self.dialect_why = (args.dialect, None) if args.dialect else self.profile_dialect()
        self.target = args.target or 'dev'
        self.models = {}
        self.seeds = {}
        self.snapshots = {}
        self.sources = {}       # name -> yml entry
        self.docs = {}
        self.model_tests = []   # (model, column or None, test entry, origin)
        self.stale = []         # properties of files that are not there
        self.not_imported = []  # (kind, name, path, why): what the project has that is not imported
        self.unit_tests = []    # (entry, path): unit_tests: of schema.yml files
        self.singular = []      # (name, path, raw)
        self.generic = {}       # test name -> macro
        self.load()
        if self.dialect == 'postgres' and not args.dialect:
            why = self.tsql_elsewhere()
            if why:
                self.dialect, self.dialect_why = 'tsql', why

    def profile_dialect(self):
        """('tsql', why) when the project's own profiles.yml targets SQL
        Server (type sqlserver, synapse or fabric), else ('postgres', None);
        load() looks further (requirements, Dockerfile, brackets)."""
        path = os.path.join(self.dir, 'profiles.yml')
        if not os.path.lexists(path):
            return 'postgres', None
        try:
            text = self.read(path)
        except ProjectError as e:
            raise ProjectError(f'{e} (--dialect says the dialect: then profiles.yml is not read)')
        try:
            profiles = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return 'postgres', None
        for profile in profiles.values() if isinstance(profiles, dict) else []:
            for output in (profile or {}).get('outputs', {}).values() if isinstance(profile, dict) else []:
                if isinstance(output, dict) and output.get('type') in TSQL_ADAPTERS:
                    return 'tsql', f'profiles.yml targets {output.get("type")}'
        return 'postgres', None

    def tsql_elsewhere(self):
        """Why the project is T-SQL when its profiles.yml does not say so:
        the Python requirements or Dockerfile at its top install
        dbt-sqlserver, dbt-synapse or dbt-fabric, or a model writes a
        bracketed identifier ([status]).  None when nothing says so."""
        names = sorted(f for f in os.listdir(self.dir)
                       if re.fullmatch(r'requirements.*\.(txt|in)|Dockerfile.*|pyproject\.toml|Pipfile', f))
        for f in names:
            path = os.path.join(self.dir, f)
            if not os.path.isfile(path):
                continue
            try:
                text = self.read(path)
            except ProjectError:
                continue        # a link out of the project is not read: nothing said
            m = re.search(r'\bdbt-(sqlserver|synapse|fabric)\b', text, re.I)
            if m:
                return f'{f} installs dbt-{m.group(1).lower()}'
        for name in sorted(self.models):
            node = self.models[name]
            found = bracketed(node.raw) if node.raw else None
            if found:
                return f'model {name} writes the bracketed identifier {found}'
        return None

    def read(self, path):
        """The text of the project's file at path (files.Area.read: inside
        the project, as it is when opened)."""
        return self.area.read(path)

    def paths(self, key, default):
        """The folders of a path setting, under the project's directory."""
        return [os.path.join(self.dir, p) for p in (self.path_settings.get(key) or [default])]

    def files(self, key, default, ext):
        """(folder, file) for the files of a path setting's folders whose
        names end in ext: only inside the project."""
        out = []
        for base in self.paths(key, default):
            out += [(base, f) for f in self.area.files(base, ext)]
        return out

    def load(self):
        for base, f in self.files('model-paths', 'models', '.sql'):
            name = os.path.splitext(os.path.basename(f))[0]
            if name in self.models:
                raise ProjectError(f'{f}: a second model named {name}')
            node = Node('model', name, f, self.read(f))
            parts = os.path.relpath(os.path.dirname(f), base).split(os.sep)
            parts = [] if parts == ['.'] else parts
            node.folders = parts
            node.folder_config = folder_config(self.conf.get('models'), self.name, parts)
            self.models[name] = node
        for base, f in self.files('model-paths', 'models', '.py'):
            name = os.path.splitext(os.path.basename(f))[0]
            node = Node('model', name, f, None)
            node.python = True
            node.folders = []
            self.models[name] = node
        for base, f in self.files('seed-paths', 'seeds', '.csv'):
            name = os.path.splitext(os.path.basename(f))[0]
            node = Node('seed', name, f, None)
            parts = os.path.relpath(os.path.dirname(f), base).split(os.sep)
            node.folder_config = folder_config(self.conf.get('seeds'), self.name,
                                               ([] if parts == ['.'] else parts) + [name])
            self.seeds[name] = node
        for base, f in self.files('snapshot-paths', 'snapshots', '.sql'):
            text = self.read(f)
            for m in re.finditer(r'{%-?\s*snapshot\s+(\w+)\s*-?%}(.*?){%-?\s*endsnapshot\s*-?%}', text, re.S):
                node = Node('snapshot', m.group(1), f, m.group(2))
                node.line = text.count('\n', 0, m.start(2)) + 1
                node.folder_config = folder_config(self.conf.get('snapshots'), self.name, [m.group(1)])
                self.snapshots[m.group(1)] = node
        # schema files: model, seed and snapshot properties, sources, tests
        ymls = self.files('model-paths', 'models', '.yml') + self.files('model-paths', 'models', '.yaml') \
            + self.files('seed-paths', 'seeds', '.yml') + self.files('snapshot-paths', 'snapshots', '.yml')
        for _, f in ymls:
            try:
                doc = load_yaml(self.read(f), f) or {}
            except yaml.YAMLError as e:
                raise ProjectError(f'{f}: {e}')
            if not isinstance(doc, dict):
                raise ProjectError(f'{f}: not a properties file (a mapping with version, models, sources ...)')
            for kind, table in (('models', self.models), ('seeds', self.seeds), ('snapshots', self.snapshots)):
                for entry in doc.get(kind) or []:
                    if not isinstance(entry, dict) or 'name' not in entry:
                        raise ProjectError(f'{f}: a {kind[:-1]} entry without a name')
                    node = table.get(entry.get('name'))
                    if node is None and kind == 'snapshots' and 'relation' in entry:
                        self.not_imported.append(('snapshot', str(entry['name']), f, WHY['yaml_snapshot']))
                        continue
                    if node is None:
                        self.stale.append((kind[:-1], entry.get('name'), f))
                        continue
                    node.yml = entry
                    for t in as_list(entry.get('tests') or entry.get('data_tests')):
                        self.model_tests.append((node, None, t, f))
                    for col in entry.get('columns') or []:
                        if not isinstance(col, dict) or 'name' not in col:
                            raise ProjectError(f'{f}: a column of {entry["name"]} without a name')
                        # dbt writes the name into SQL unquoted unless quote: true
                        cname = fold_ident(col['name'], col.get('quote'))
                        if col.get('quote'):
                            node.quoted.add(cname)
                        for t in as_list(col.get('tests') or col.get('data_tests')):
                            self.model_tests.append((node, cname, t, f))
            for key, kind in OTHER_RESOURCES.items():
                for entry in as_list(doc.get(key)):
                    name = entry.get('name') if isinstance(entry, dict) else None
                    if name is None:
                        raise ProjectError(f'{f}: a {kind.replace("_", " ")} entry without a name')
                    if kind == 'unit_test':
                        self.unit_tests.append((entry, f))     # medallion_add_unit_test (mapping.py)
                        continue
                    self.not_imported.append((kind, str(name), f, WHY[kind]))
            for source in doc.get('sources') or []:
                if not isinstance(source, dict) or 'name' not in source:
                    raise ProjectError(f'{f}: a source without a name')
                for table in source.get('tables') or []:
                    if not isinstance(table, dict) or 'name' not in table:
                        raise ProjectError(f'{f}: a table of source {source["name"]} without a name')
                self.sources[source['name']] = source
        doc_files = []
        for key, default in (('docs-paths', None), ('model-paths', 'models'), ('macro-paths', 'macros'),
                             ('seed-paths', 'seeds'), ('snapshot-paths', 'snapshots'), ('test-paths', 'tests'),
                             ('analysis-paths', 'analyses')):
            if default is None and not self.path_settings.get(key):
                continue
            doc_files += [f for _, f in self.files(key, default, '.md')]
        for f in sorted(set(doc_files)):
            for m in re.finditer(r'{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}', self.read(f), re.S):
                self.docs[m.group(1)] = m.group(2).strip()
        for _, f in self.files('analysis-paths', 'analyses', '.sql'):
            self.not_imported.append(('analysis', os.path.splitext(os.path.basename(f))[0], f, WHY['analysis']))
        for _, f in self.files('test-paths', 'tests', '.sql'):
            text = self.read(f)
            if re.search(r'{%-?\s*test\s', text):
                continue        # generic tests, loaded with the macros
            self.singular.append((os.path.splitext(os.path.basename(f))[0], f, text))

