"""medallion-dbt's reading of a project, with no database: folder configs
(dbt_project.yml's +keys at every depth, tags adding up), the layer of a
model (its schema, its folders, --layer-map), materializations, tags as
medallion spells them, and quoting (quote: true, names lower-cased,
keywords).

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_config.py
"""
import unittest

import dbt_unit
from medallion_dbt import models, project, sqltext
from medallion_dbt.errors import ProjectError, Skip


class FolderConfig(unittest.TestCase):
    ROOT = {
        '+tags': 'everywhere', '+materialized': 'view',
        'unit': {
            '+tags': ['project'],
            'marts': {
                '+materialized': 'table', '+tags': ['marts'], 'enabled': True,
                'finance': {'+schema': 'silver', '+tags': 'finance', '+unique_key': 'id',
                            'meta': {'owner': 'x'}},
            },
        },
        'other_project': {'+tags': ['not_ours']},
    }

    def test_deeper_wins_tags_add_up(self):
        self.assertEqual(project.folder_config(self.ROOT, 'unit', ['marts', 'finance']),
                         {'tags': ['everywhere', 'project', 'marts', 'finance'], 'materialized': 'table',
                          'enabled': True, 'schema': 'silver', 'unique_key': 'id'})
        self.assertEqual(project.folder_config(self.ROOT, 'unit', ['marts']),
                         {'tags': ['everywhere', 'project', 'marts'], 'materialized': 'table', 'enabled': True})
        self.assertEqual(project.folder_config(self.ROOT, 'unit', []),
                         {'tags': ['everywhere', 'project'], 'materialized': 'view'})
        # a folder that is not configured stops the walk, keeping what is above
        self.assertEqual(project.folder_config(self.ROOT, 'unit', ['staging', 'deep']),
                         {'tags': ['everywhere', 'project'], 'materialized': 'view'})
        self.assertEqual(project.folder_config(None, 'unit', ['marts']), {'tags': []})

    def test_deep_merge(self):
        self.assertEqual(project.deep_merge({'a': 1, 'm': {'x': 1, 'y': 2}}, {'b': 2, 'm': {'y': 3}}),
                         {'a': 1, 'b': 2, 'm': {'x': 1, 'y': 3}})


class Layers(unittest.TestCase):
    """The project of dbt_unit imported in a dry run: where each model goes."""

    def imported(self, **kwargs):
        directory = dbt_unit.write_project()
        try:
            imp = dbt_unit.importer(directory, **kwargs)
            dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        return imp

    def test_layers(self):
        imp = self.imported()
        layers = {n: m.layer for n, m in imp.p.models.items()}
        self.assertEqual(layers['stg_orders'], 'bronze')        # folder staging
        self.assertEqual(layers['customers'], 'gold')           # folder marts
        self.assertEqual(layers['revenue'], 'silver')           # +schema silver over the folder marts
        self.assertEqual(layers['schema_layer'], 'silver')      # config(schema='silver') over the folder
        self.assertEqual(layers['stripe_raw'], 'bronze')        # +schema stripe is no layer: the folder staging
        skipped = {r[1]: r[3] for r in imp.report if r[2] == 'skipped'}
        self.assertEqual(sorted(skipped), ['helper', 'stripe_payments', 'summary'])
        self.assertEqual(skipped['summary'], 'no layer: the folder reporting names none '
                                             '(use +schema, --layer-map FOLDER=LAYER or --default-layer LAYER)')

    def test_layer_map(self):
        imp = self.imported(layer_map=['reporting=silver', 'stripe=gold', 'other=bronze'])
        layers = {n: m.layer for n, m in imp.p.models.items()}
        self.assertEqual(layers['summary'], 'silver')           # +schema reporting, mapped
        self.assertEqual(layers['stripe_payments'], 'gold')     # +schema stripe, mapped
        self.assertEqual(layers['stripe_raw'], 'gold')          # the schema before the folder
        self.assertEqual(layers['helper'], 'bronze')            # the folder, mapped
        self.assertEqual([r for r in imp.report if r[2] == 'skipped'], [])

    def test_default_layer(self):
        # a folder that names no layer takes --default-layer; --layer-map wins over it
        imp = self.imported(default_layer='gold', layer_map=['reporting=silver'])
        layers = {n: m.layer for n, m in imp.p.models.items()}
        self.assertEqual((layers['summary'], layers['helper'], layers['stripe_payments']), ('silver', 'gold', 'gold'))
        self.assertEqual(layers['stg_orders'], 'bronze')
        self.assertEqual([r for r in imp.report if r[2] == 'skipped'], [])

    def test_layer_of(self):
        layer_map, layers = dict(project.FOLDER_LAYERS), {'bronze', 'silver', 'gold'}
        node = project.Node('model', 'm', 'models/a/int/m.sql', 'select 1')
        node.folders = ['a', 'int', 'b']
        self.assertEqual(models.layer_of(node, layer_map, layers), 'silver')
        node.folder_config = {'schema': 'gold'}
        self.assertEqual(models.layer_of(node, layer_map, layers), 'gold')
        node.config = {'schema': 'raw'}                         # a folder word names a layer as a schema too
        self.assertEqual(models.layer_of(node, layer_map, layers), 'bronze')
        node.folders, node.config, node.folder_config = [], {}, {}
        with self.assertRaises(Skip):
            models.layer_of(node, layer_map, layers)
        node.kind = 'snapshot'
        self.assertEqual(models.layer_of(node, layer_map, layers), 'silver')
        node = project.Node('model', 'm', 'models/m.sql', "{{ config(materialized='table', schema='gold') }}")
        self.assertEqual(models.layer_of_unrendered(node, layer_map, layers), 'gold')

    def test_materialized_and_tags(self):
        imp = self.imported(layer_map=['reporting=silver'])

        def settings(name):
            return models.settings(imp, imp.p.models[name])
        self.assertEqual(settings('customers')['materialized'], 'table')
        self.assertEqual(settings('stg_orders')['materialized'], 'view')
        self.assertEqual(settings('summary')['materialized'], 'view')      # dbt's default
        self.assertEqual(settings('orders')['tags'],
                         ['dbt_project_unit', 'everywhere', 'marts', 'marts_tag', 'project', 'yml_tag'])
        self.assertEqual(settings('revenue')['tags'],
                         ['dbt_project_unit', 'everywhere', 'finance', 'marts', 'marts_tag', 'project'])
        self.assertIn('tags as medallion spells them: Marts Tag -> marts_tag', imp.p.models['revenue'].note)
        # the folder's unique_key is no table's
        self.assertNotIn('unique_key', settings('revenue'))

    def test_tag_ident(self):
        self.assertEqual(models.tag_ident('Marts Tag'), 'marts_tag')
        self.assertEqual(models.tag_ident('2024-q1'), 't_2024_q1')
        self.assertEqual(models.tag_ident('!!'), 'tag')
        self.assertEqual(len(models.tag_ident('x' * 80)), 63)


TOP_FILES = {
    'dbt_project.yml': 'name: top\n',
    'models/sources.yml': '''
        version: 2
        sources:
          - name: shop
            tables: [{name: orders}]
    ''',
    'models/raw_orders.sql': "select * from {{ source('shop', 'orders') }}\n",
    'models/with_seed.sql': "select * from {{ ref('codes') }} join {{ source('shop', 'orders') }} on true\n",
    'models/lonely.sql': "select 1 as one\n",
    'models/enriched.sql': "select o.* from {{ ref('raw_orders') }} o join {{ ref('with_seed') }} s on true\n",
    'models/report.sql': "select count(*) from {{ ref('enriched') }}\n",
    'models/marts/deep.sql': "select * from {{ ref('report') }}\n",
    'models/widget.sql': "select * from {{ ref('deep') }}\n",
    'seeds/codes.csv': 'code\nNL\n',
}


class TopOfModels(unittest.TestCase):
    """Models at the top of models/ (no folder, no +schema): the layer of
    their place in the DAG, --default-layer, --layer-map (top)=LAYER."""

    def imported(self, **kwargs):
        directory = dbt_unit.write_project(TOP_FILES)
        try:
            imp = dbt_unit.importer(directory, **kwargs)
            dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        return imp

    def test_by_the_dag(self):
        imp = self.imported()
        layers = {n: m.layer for n, m in imp.p.models.items()}
        self.assertEqual(layers, {'raw_orders': 'bronze', 'with_seed': 'bronze', 'lonely': 'bronze',
                                  'enriched': 'silver', 'report': 'silver', 'deep': 'gold', 'widget': 'gold'})
        notes = {r[1]: r[3] for r in imp.report if r[0] == 'model'}
        self.assertEqual(notes['raw_orders'], 'layer bronze: at the top of models/, and it reads only sources and '
                                              'seeds (--default-layer or --layer-map "(top)=LAYER" chooses another)')
        self.assertTrue(notes['enriched'].startswith('layer silver: at the top of models/, and it reads models and '
                                                     'models read it'))
        self.assertTrue(notes['widget'].startswith('layer gold: at the top of models/, and no model reads it'))
        self.assertEqual(notes['deep'], '')                  # its folder names the layer
        self.assertEqual([r for r in imp.report if r[2] == 'skipped'], [])
        # ref() renders the layer chosen: the reader's SQL names it
        self.assertIn('bronze.raw_orders', imp.p.models['enriched'].sql)
        self.assertIn('silver.report', imp.p.models['deep'].sql)

    def test_options(self):
        imp = self.imported(default_layer='silver')
        self.assertEqual({m.layer for n, m in imp.p.models.items() if n != 'deep'}, {'silver'})
        self.assertFalse([r for r in imp.report if 'at the top of models' in r[3]])
        imp = self.imported(default_layer='silver', layer_map=['(top)=gold'])
        self.assertEqual({m.layer for n, m in imp.p.models.items()}, {'gold'})
        self.assertIn('gold.enriched', imp.p.models['report'].sql)

    def test_bad_options(self):
        directory = dbt_unit.write_project(TOP_FILES)
        try:
            for kwargs, message in (
                    ({'default_layer': 'platinum'}, '--default-layer: platinum is not a layer (the layers: bronze, '
                                                    'silver, gold)'),
                    ({'layer_map': ['(top)=platinum']}, '--layer-map (top)=platinum: platinum is not a layer'),
                    ({'layer_map': ['(top)']}, '--layer-map (top): FOLDER=LAYER')):
                with self.assertRaises(ProjectError) as e:
                    dbt_unit.importer(directory, **kwargs)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))
        finally:
            dbt_unit.remove_project(directory)


class EveryObject(unittest.TestCase):
    """The report names every object of the project: what is not imported
    says why."""

    def test_named(self):
        files = {
            'dbt_project.yml': 'name: every\nseeds:\n  every:\n    unused:\n      +enabled: false\n',
            'models/staging/m.sql': 'select 1 as one\n',
            'models/staging/things.yml': '''
                version: 2
                unit_tests:
                  - {name: t1, model: m, given: [], expect: {rows: []}}
                semantic_models: [{name: sm, model: "ref('m')"}]
                metrics: [{name: me, type: simple}]
                saved_queries: [{name: sq}]
                exposures: [{name: ex, type: dashboard}]
                groups: [{name: gr}]
                snapshots: [{name: ys, relation: "ref('m')"}]
            ''',
            'analyses/an.sql': 'select 1\n',
            'models/staging/sources.yml': '''
                version: 2
                sources:
                  - name: gone
                    config: {enabled: false}
                    tables: [{name: a}]
                  - name: half
                    tables: [{name: a}, {name: b, config: {enabled: false}}]
            ''',
            'seeds/unused.csv': 'a\n1\n',
            'dbt_packages/pkg/dbt_project.yml': 'name: pkg\n',
            'dbt_packages/pkg/models/pkg_model.sql': 'select 1\n',
        }
        directory = dbt_unit.write_project(files)
        try:
            imp = dbt_unit.importer(directory)
            dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        named = {(r[0], r[1]): r[2] for r in imp.report}
        self.assertEqual(named, {
            ('seed', 'unused'): 'disabled', ('model', 'm'): 'would import',
            ('unit test', 'm: t1'): 'would import', ('semantic_model', 'sm'): 'not imported',
            ('metric', 'me'): 'not imported', ('saved_query', 'sq'): 'not imported',
            ('exposure', 'ex'): 'not imported', ('group', 'gr'): 'not imported',
            ('snapshot', 'ys'): 'not imported', ('analysis', 'an'): 'not imported',
            ('model', 'pkg.pkg_model'): 'not imported', ('source', 'gone'): 'disabled', ('source', 'half'): 'would import'})
        self.assertIn(('source', 'half', 'note', 'tables b are disabled (enabled: false): left out'), imp.report)
        why = {r[1]: r[3] for r in imp.report}
        self.assertEqual(why['pkg.pkg_model'], "medallion-dbt imports the project's own models, not its packages' "
                                               "(dbt_packages/pkg/models/pkg_model.sql)")

    def test_entry_without_a_name(self):
        directory = dbt_unit.write_project({'dbt_project.yml': 'name: x\n',
                                            'models/s.yml': 'version: 2\nmetrics:\n  - {type: simple}\n'})
        try:
            with self.assertRaises(ProjectError) as e:
                dbt_unit.importer(directory)
        finally:
            dbt_unit.remove_project(directory)
        self.assertTrue(str(e.exception).endswith('models/s.yml: a metric entry without a name'), str(e.exception))


class Quoting(unittest.TestCase):
    def test_quote_ident(self):
        self.assertEqual(sqltext.quote_ident('orders'), 'orders')
        self.assertEqual(sqltext.quote_ident('Mixed'), '"Mixed"')
        self.assertEqual(sqltext.quote_ident('order id'), '"order id"')
        self.assertEqual(sqltext.quote_ident('a"b'), '"a""b"')
        self.assertEqual(sqltext.quote_ident('user'), '"user"')
        self.assertEqual(sqltext.quote_ident('1st'), '"1st"')
        self.assertEqual(str(sqltext.Relation('gold', 'Orders')), 'gold."Orders"')

    def test_keywords_of_the_database(self):
        saved = set(sqltext.KEYWORDS)
        try:
            sqltext.set_keywords(['name'])
            self.assertEqual(sqltext.quote_ident('name'), '"name"')
            self.assertEqual(sqltext.quote_ident('user'), 'user')
        finally:
            sqltext.set_keywords(saved)
        self.assertEqual(sqltext.quote_ident('user'), '"user"')

    def test_quote_literal(self):
        self.assertEqual(sqltext.quote_literal(None), 'NULL')
        self.assertEqual(sqltext.quote_literal(True), 'true')
        self.assertEqual(sqltext.quote_literal(3), '3')
        self.assertEqual(sqltext.quote_literal("it's"), "'it''s'")
        self.assertEqual(sqltext.quote_literal(['a', "b'"]), "ARRAY['a', 'b''']::text[]")

    def test_columns_of_schema_yml(self):
        """A column's name is lower-cased, as dbt writes it into SQL
        unquoted, unless quote: true, which keeps it and quotes it."""
        directory = dbt_unit.write_project()
        try:
            p = project.Project(directory, dbt_unit.arguments())
        finally:
            dbt_unit.remove_project(directory)
        self.assertEqual([(n.name, c, t) for n, c, t, _ in p.model_tests],
                         [('orders', 'id', 'unique'), ('orders', 'id', 'not_null'),
                          ('orders', 'Mixed', 'not_null'), ('orders', 'amount', 'positive')])
        self.assertEqual(p.models['orders'].quoted, {'Mixed'})


if __name__ == '__main__':
    unittest.main()


class EnvVar(unittest.TestCase):
    """env_var() as dbt has it, secrets kept out of what is stored."""

    def test_plain_and_default(self):
        import os
        from medallion_dbt import render
        os.environ['MEDALLION_UNIT_PLAIN'] = 'x'
        self.assertEqual(render.env_value('MEDALLION_UNIT_PLAIN'), 'x')
        self.assertEqual(render.env_value('MEDALLION_UNIT_UNSET', 'd'), 'd')
        with self.assertRaises(Skip):
            render.env_value('MEDALLION_UNIT_UNSET')

    def test_secrets_refused(self):
        import os
        from medallion_dbt import render
        os.environ['DBT_ENV_SECRET_TOKEN'] = 's3cr3t'
        os.environ['PGPASSWORD'] = 'hunter2'
        for name in ('DBT_ENV_SECRET_TOKEN', 'PGPASSWORD', 'PGPASSFILE'):
            with self.assertRaises(Skip) as refused:
                render.env_value(name, 'default')
            self.assertIn('secret', str(refused.exception))
