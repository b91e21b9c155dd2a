"""medallion-dbt's modules in layers: each imports only modules listed
before it in the package's docstring (medallion_dbt/__init__.py), so
that render, say, never reaches the importer.  No database.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_layout.py
"""
import ast
import os
import re
import unittest

import dbt_unit
import medallion_dbt

PACKAGE = os.path.join(dbt_unit.ROOT, 'tools', 'medallion_dbt')


class Layout(unittest.TestCase):
    def test_imports_go_down(self):
        order = re.findall(r'^    (\w+) ', medallion_dbt.__doc__, re.M)
        files = sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith('.py') and f != '__init__.py')
        self.assertEqual(sorted(order), files, 'each module is listed once in medallion_dbt/__init__.py')
        upward = []
        for module in files:
            with open(os.path.join(PACKAGE, module + '.py'), encoding='utf-8') as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 1:
                    names = [node.module] if node.module else [a.name for a in node.names]
                    for name in names:
                        if name in order and order.index(name) >= order.index(module):
                            upward.append(f'{module} imports {name}')
        self.assertEqual(upward, [])


if __name__ == '__main__':
    unittest.main()
