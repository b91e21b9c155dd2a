"""medallion-dbt reads a project's files only inside its directory, and a
package's only inside the package.  No database.

Each case lays a small project in a temporary directory beside a folder
outside it that holds a secret: a file of the project linked to it (seed,
model, macro, snapshot, test, schema.yml, docs, dbt_project.yml,
profiles.yml), a folder of the project linked to it, a path setting of
dbt_project.yml that is absolute or climbs out with '..', a package linked
to it.  Each is refused before anything is read from there: exit 2,
nothing imported, the message names the file and the rule, and the secret
is nowhere in what the importer printed.  Links that stay inside the
project are followed; a local package outside it is read when
--allow-local-package names it.  Then the seed schema (review finding 2):
a role that may not create schemas in the database loads seeds into a
schema that is there, and is told why when it cannot, never a traceback.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_files.py
"""
import contextlib
import io
import os
import shutil
import tempfile
import unittest
from unittest import mock

import dbt_unit
from medallion_dbt import cli, files, seeds
from medallion_dbt.errors import ProjectError, Skip

SECRET = 'localhost:5432:*:postgres:s3cr3t-password'
RULE = "medallion-dbt reads a project's files only inside its directory"
PACKAGE_RULE = "a package's files are read only inside it"

PROJECT = {
    'dbt_project.yml': 'name: files\n',
    'models/staging/stg_a.sql': 'select 1 as id\n',
    'models/marts/mart_a.sql': "select id from {{ ref('stg_a') }}\n",
    'seeds/codes.csv': 'code,name\nFR,France\n',
    'macros/m.sql': '{% macro one() %}1{% endmacro %}\n',
}

# path settings of dbt_project.yml, each with a folder the project has
PATH_SETTINGS = {
    'model-paths': 'models', 'seed-paths': 'seeds', 'snapshot-paths': 'snapshots', 'macro-paths': 'macros',
    'test-paths': 'tests', 'analysis-paths': 'analyses', 'docs-paths': 'docs',
    'packages-install-path': 'dbt_packages',
}


class Files(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix='medallion_dbt_files_')
        self.dir = os.path.join(self.top, 'project')
        self.outside = os.path.join(self.top, 'outside')
        for path, text in PROJECT.items():
            self.write(os.path.join(self.dir, path), text)
        # what the outside folder holds: a secret under every name a
        # project reads, and a package
        for name in ('secret.csv', 'secret.sql', 'secret.yml', 'secret.md', 'profiles.yml', 'dbt_project.yml',
                     'seeds/secret.csv', 'models/secret.sql', 'macros/secret.sql', 'pkg/macros/secret.sql'):
            self.write(os.path.join(self.outside, name), SECRET + '\n')
        self.write(os.path.join(self.outside, 'pkg', 'dbt_project.yml'), 'name: shared\n')
        self.write(os.path.join(self.outside, 'pkg', 'macros', 'shared.sql'),
                   "{% macro shared_value() %}'shared'{% endmacro %}\n")

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    @staticmethod
    def write(path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)

    def link(self, target, name):
        """A symbolic link at name (in the project) to target."""
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)

    def settings(self, text):
        self.write(os.path.join(self.dir, 'dbt_project.yml'), 'name: files\n' + text)

    def run_cli(self, *options):
        """medallion-dbt import of the project in a dry run without a
        database: (exit status, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(['import', self.dir, '--dry-run', *options])
        return status, out.getvalue(), err.getvalue()

    def assertRefused(self, where, message, *options):
        """The import stops (exit 2, nothing imported) naming where and the
        message, and never shows the secret."""
        status, out, err = self.run_cli(*options)
        self.assertEqual(status, 2, out + err)
        self.assertIn(f'medallion-dbt: {where}: {message}', err)
        self.assertIn('nothing was imported', err)
        self.assertNotIn(SECRET, out + err)
        self.assertEqual(out, '', 'nothing was imported, nothing printed')

    def imported(self, *options):
        """The import (a dry run without a database): its stdout, which
        must not show the secret."""
        status, out, err = self.run_cli(*options)
        self.assertEqual(status, 0, out + err)
        self.assertNotIn(SECRET, out + err)
        return out

    # --- files of the project linked outside it --------------------------
    def test_seed_linked_outside(self):
        # the finding: seeds/creds.csv -> ~/.pgpass became table seeds.creds
        self.link(os.path.join(self.outside, 'secret.csv'), 'seeds/creds.csv')
        self.assertRefused('seeds/creds.csv', f'a symbolic link to {os.path.realpath(self.outside)}/secret.csv, '
                           f'outside the project ({RULE})')

    def test_model_linked_outside(self):
        self.link(os.path.join(self.outside, 'secret.sql'), 'models/staging/stg_secret.sql')
        self.assertRefused('models/staging/stg_secret.sql', 'a symbolic link to ')

    def test_macro_linked_outside(self):
        self.link(os.path.join(self.outside, 'secret.sql'), 'macros/secret.sql')
        self.assertRefused('macros/secret.sql', 'a symbolic link to ')

    def test_other_files_linked_outside(self):
        for name, target in (('snapshots/snap.sql', 'secret.sql'), ('tests/singular.sql', 'secret.sql'),
                             ('models/schema.yml', 'secret.yml'), ('models/docs.md', 'secret.md'),
                             ('analyses/notes.md', 'secret.md')):
            with self.subTest(name):
                self.link(os.path.join(self.outside, target), name)
                self.assertRefused(name, f'a symbolic link to {os.path.realpath(self.outside)}/{target}, '
                                   f'outside the project ({RULE})')
                os.unlink(os.path.join(self.dir, name))

    def test_dbt_project_yml_linked_outside(self):
        os.unlink(os.path.join(self.dir, 'dbt_project.yml'))
        self.link(os.path.join(self.outside, 'dbt_project.yml'), 'dbt_project.yml')
        self.assertRefused('dbt_project.yml', 'a symbolic link to ')

    def test_profiles_linked_outside(self):
        # read for the dialect only, but refused all the same; --dialect
        # says it, and then profiles.yml is not read
        self.link(os.path.join(self.outside, 'profiles.yml'), 'profiles.yml')
        self.assertRefused('profiles.yml', 'a symbolic link to ')
        status, out, err = self.run_cli()
        self.assertIn('--dialect says the dialect: then profiles.yml is not read', err)
        self.imported('--dialect', 'postgres')

    def test_folder_linked_outside(self):
        # a folder in a model path, and a whole seed path
        self.link(os.path.join(self.outside, 'models'), 'models/external')
        self.assertRefused('models/external', f'a symbolic link to {os.path.realpath(self.outside)}/models, '
                           f'outside the project ({RULE})')
        os.unlink(os.path.join(self.dir, 'models/external'))
        shutil.rmtree(os.path.join(self.dir, 'seeds'))
        self.link(os.path.join(self.outside, 'seeds'), 'seeds')
        self.assertRefused('seeds', 'a symbolic link to ')

    def test_file_through_a_linked_folder(self):
        # a link inside the project to a folder that is a link out
        os.symlink(self.outside, os.path.join(self.top, 'hop'))
        self.link(os.path.join(self.top, 'hop', 'secret.csv'), 'seeds/hop.csv')
        self.assertRefused('seeds/hop.csv', f'a symbolic link to {os.path.realpath(self.outside)}/secret.csv')

    # --- path settings that leave the project -----------------------------
    def test_absolute_path_settings(self):
        for key in PATH_SETTINGS:
            with self.subTest(key):
                value = self.outside if key == 'packages-install-path' else f'["{self.outside}"]'
                self.settings(f'{key}: {value}\n')
                self.assertRefused(f'dbt_project.yml: {key}', f'"{self.outside}" is an absolute path ({RULE}: '
                                   'the folders it names are relative paths, without "..")')

    def test_dotdot_path_settings(self):
        for key, folder in PATH_SETTINGS.items():
            for value in ('../outside', f'{folder}/../../outside', '..'):
                with self.subTest(key=key, value=value):
                    self.settings(f'{key}: {value if key == "packages-install-path" else [value]}\n')
                    self.assertRefused(f'dbt_project.yml: {key}', f'"{value}" climbs out with ".." ({RULE}: ')

    def test_path_settings_of_the_project(self):
        # relative, a single path without the list, './', a folder named
        # like a parent: read as before
        self.write(os.path.join(self.dir, 'other/seeds/more.csv'), 'a\n1\n')
        self.write(os.path.join(self.dir, '..models/staging/m2.sql'), 'select 2 as id\n')
        self.settings('seed-paths: ["./seeds", "other/seeds"]\nmodel-paths: ["models", "..models"]\n')
        out = self.imported()
        self.assertIn('COPY seeds.more', out)
        self.assertIn("name => 'm2'", out)

    def test_path_setting_not_a_path(self):
        self.settings('model-paths: [{a: 1}]\n')
        status, out, err = self.run_cli()
        self.assertEqual(status, 2)
        self.assertIn("dbt_project.yml: model-paths: {'a': 1} is not a path", err)

    # --- links that stay inside the project --------------------------------
    def test_links_inside_the_project(self):
        self.write(os.path.join(self.dir, 'shared/stg_b.sql'), 'select 2 as id\n')
        self.write(os.path.join(self.dir, 'shared/more.csv'), 'x\n1\n')
        self.write(os.path.join(self.dir, 'shared/macros/two.sql'), '{% macro two() %}2{% endmacro %}\n')
        self.write(os.path.join(self.dir, 'library/lib_c.sql'), 'select {{ two() }} as id\n')
        self.link('../../shared/stg_b.sql', 'models/staging/stg_b.sql')
        self.link(os.path.join(self.dir, 'shared/more.csv'), 'seeds/more.csv')
        self.link('../shared/macros/two.sql', 'macros/two.sql')
        self.link('../library', 'models/library')               # a folder
        self.link('..', 'models/staging/up')                    # a folder it is in: walked once
        out = self.imported('--layer-map', 'library=silver')
        self.assertIn("name => 'stg_b'", out)
        self.assertIn('COPY seeds.more', out)
        self.assertIn("name => 'lib_c', sql => 'select 2 as id", out)

    def test_project_named_through_a_link(self):
        # the directory on the command line may be a link: the user chose it
        os.symlink(self.dir, os.path.join(self.top, 'alias'))
        self.dir = os.path.join(self.top, 'alias')
        self.assertIn("name => 'stg_a'", self.imported())

    # --- packages -----------------------------------------------------------
    def test_package_linked_outside(self):
        # what dbt deps makes of packages.yml "local: ../outside/pkg"
        self.link(os.path.join(self.outside, 'pkg'), 'dbt_packages/shared')
        self.assertRefused('dbt_packages/shared', f'a symbolic link to {os.path.realpath(self.outside)}/pkg, '
                           'outside the project (a local package outside it is read only when named with '
                           '--allow-local-package)')

    def test_package_named_with_allow_local_package(self):
        self.link(os.path.join(self.outside, 'pkg'), 'dbt_packages/shared')
        self.write(os.path.join(self.dir, 'models/marts/uses_shared.sql'), 'select {{ shared.shared_value() }} as v\n')
        # the package itself, or a folder it is in
        for named in (os.path.join(self.outside, 'pkg'), self.outside):
            with self.subTest(named):
                status, out, err = self.run_cli('--allow-local-package', named)
                self.assertEqual(status, 0, out + err)
                self.assertIn("select ''shared'' as v", out)
        # another folder does not do
        other = os.path.join(self.top, 'other')
        os.makedirs(other)
        self.assertRefused('dbt_packages/shared', 'a symbolic link to ', '--allow-local-package', other)
        status, out, err = self.run_cli('--allow-local-package', os.path.join(self.top, 'missing'))
        self.assertEqual(status, 2)
        self.assertIn('--allow-local-package', err)

    def test_package_file_linked_out_of_the_package(self):
        # a package reads only inside itself, even when the link stays in the project
        self.write(os.path.join(self.dir, 'dbt_packages/pkg/macros/own.sql'), '{% macro own() %}1{% endmacro %}\n')
        self.link(os.path.join(self.outside, 'secret.sql'), 'dbt_packages/pkg/macros/secret.sql')
        self.assertRefused('dbt_packages/pkg/macros/secret.sql',
                           f'a symbolic link to {os.path.realpath(self.outside)}/secret.sql, '
                           f'outside its package ({PACKAGE_RULE})')
        os.unlink(os.path.join(self.dir, 'dbt_packages/pkg/macros/secret.sql'))
        self.link('../../../macros/m.sql', 'dbt_packages/pkg/macros/project_macro.sql')
        self.assertRefused('dbt_packages/pkg/macros/project_macro.sql', 'a symbolic link to ')

    def test_package_linked_inside_the_project(self):
        # packages.yml "local: local_pkgs/pkg": dbt deps links it
        self.write(os.path.join(self.dir, 'local_pkgs/pkg/dbt_project.yml'), 'name: mine\n')
        self.write(os.path.join(self.dir, 'local_pkgs/pkg/macros/mine.sql'),
                   "{% macro mine_value() %}'mine'{% endmacro %}\n")
        self.link(os.path.join(self.dir, 'local_pkgs/pkg'), 'dbt_packages/mine')
        self.write(os.path.join(self.dir, 'models/marts/uses_mine.sql'), 'select {{ mine.mine_value() }} as v\n')
        self.assertIn("select ''mine'' as v", self.imported())

    def test_packages_folder_linked_outside(self):
        os.symlink(self.outside, os.path.join(self.dir, 'dbt_packages'))
        self.assertRefused('dbt_packages', 'a symbolic link to ')

    # --- what is opened -------------------------------------------------------
    def test_checked_again_once_open(self):
        # a link swapped in after the check: the path the kernel opened is
        # outside, and the file is not read
        area = files.Area([self.dir], self.dir)
        path = os.path.join(self.dir, 'seeds/codes.csv')
        with mock.patch.object(files, '_opened_path', return_value=os.path.join(self.outside, 'secret.csv')):
            with self.assertRaises(files.Outside) as refused:
                area.read(path)
        self.assertIn('seeds/codes.csv: opened ', str(refused.exception))
        self.assertIn('it changed while it was read', str(refused.exception))
        self.assertEqual(area.read(path), PROJECT['seeds/codes.csv'])

    def test_fifo_is_not_read(self):
        # a FIFO named like a model would block the import: refused at once
        os.mkfifo(os.path.join(self.dir, 'models/staging/pipe.sql'))
        status, out, err = self.run_cli()
        self.assertEqual(status, 2)
        self.assertIn('models/staging/pipe.sql: not a regular file', err)

    def test_templates_include_no_file(self):
        # {% include %}, {% import %}, {% extends %}: no loader reads a file
        secret = os.path.join(self.outside, 'secret.sql')
        for tag in (f'{{% include "{secret}" %}}', f'{{% import "{secret}" as s %}}',
                    f'{{% extends "{secret}" %}}', '{% include "models/staging/stg_a.sql" %}'):
            with self.subTest(tag):
                self.write(os.path.join(self.dir, 'models/marts/inc.sql'), f'select 1 as id -- {tag}\n')
                status, out, err = self.run_cli()
                self.assertEqual(status, 1)
                self.assertRegex(out, r'model\s+inc\s+skipped\s+models/marts/inc.sql: TemplateNotFound: .*: '
                                      r'templates read no file')
                self.assertNotIn(SECRET, out + err)


class FakeDatabase:
    """What seeds ask of the database, answered as for a role that may not
    create schemas in the database (no CREATE on it)."""
    connected = True

    def __init__(self, schema_privileges):
        self.schema_privileges = schema_privileges      # (CREATE, USAGE) on seeds, or None: not there
        self.ran = []

    def role(self):
        return 'importer'

    def query_params(self, sql, params):
        if 'pg_namespace' in sql:
            return [self.schema_privileges] if self.schema_privileges else []
        return []

    def run(self, sql, params=(), fetch=False):
        self.ran.append(sql)
        if sql.startswith('CREATE SCHEMA'):
            # PostgreSQL checks CREATE on the database first, IF NOT EXISTS or not
            raise Skip('permission denied for database db')
        return ('created',) if fetch else None

    @contextlib.contextmanager
    def group(self):
        yield

    def copy(self, table, text):
        self.ran.append(f'COPY {table}')


class SeedSchema(unittest.TestCase):
    """Review finding 2: an uncaught Skip at CREATE SCHEMA IF NOT EXISTS
    when the role lacks CREATE on the database, the schema there or not."""

    def seeds(self, schema_privileges):
        directory = dbt_unit.write_project(PROJECT)
        try:
            imp = dbt_unit.importer(directory)
            imp.db = FakeDatabase(schema_privileges)
            dbt_unit.printed(seeds.import_seeds, imp)
        finally:
            dbt_unit.remove_project(directory)
        return imp

    def test_schema_there(self):
        imp = self.seeds((True, True))
        self.assertNotIn('CREATE SCHEMA IF NOT EXISTS seeds', imp.db.ran)
        self.assertIn('COPY seeds.codes', imp.db.ran)
        self.assertIn(('seed', 'codes', 'created', '1 rows'), imp.report)

    def test_schema_not_there(self):
        imp = self.seeds(None)
        why = ('schema seeds is not there, and role importer cannot create it: permission denied for database db '
               '(create it, or name another with --seed-schema)')
        self.assertEqual(imp.report, [('seed', 'codes', 'skipped', why), ('source', 'files_seeds', 'skipped', why)])

    def test_schema_not_writable(self):
        imp = self.seeds((False, True))
        why = 'role importer may not create tables in schema seeds (it needs CREATE and USAGE on it; ' \
              '--seed-schema names another)'
        self.assertEqual(imp.report, [('seed', 'codes', 'skipped', why), ('source', 'files_seeds', 'skipped', why)])
        self.assertEqual(imp.db.ran, [])

    def test_no_traceback(self):
        # a Skip that reaches the command line stops the import, said plainly
        directory = dbt_unit.write_project(PROJECT)
        err = io.StringIO()
        try:
            with mock.patch('medallion_dbt.importer.Importer.import_all', side_effect=Skip('it went wrong')), \
                    contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                status = cli.main(['import', directory, '--dry-run'])
        finally:
            dbt_unit.remove_project(directory)
        self.assertEqual(status, 2)
        self.assertEqual(err.getvalue(), 'medallion-dbt: it went wrong\nnothing was imported\n')

    def test_project_error_is_exit_2(self):
        self.assertTrue(issubclass(files.Outside, ProjectError))


if __name__ == '__main__':
    unittest.main()
