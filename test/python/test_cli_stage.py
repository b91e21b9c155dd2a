"""medallion deploy --stage, promote and discard on the command line,
without a database: what the parser takes, and what is refused before
anything connects (exit 2, nothing changed).  The staged flow itself is
test/t/014_deploy.pl's.

    /usr/bin/python3 -m unittest discover -s test/python -p test_cli_stage.py
"""
import contextlib
import io
import os
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from medallion_cli import cli, deploy  # noqa: E402


def run(argv):
    """main's exit status and what it wrote to standard error."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    return status, err.getvalue()


class StageCommands(unittest.TestCase):
    def test_promote_and_discard_take_a_stage_id(self):
        for command, func in (('promote', deploy.promote), ('discard', deploy.discard)):
            args = cli.parser().parse_args([command, '7', '--dsn', 'dbname=prod'])
            self.assertEqual((args.stage_id, args.dsn, args.func), (7, 'dbname=prod', func))

    def test_a_stage_id_is_a_number(self):
        with self.assertRaises(SystemExit) as e, contextlib.redirect_stderr(io.StringIO()):
            cli.parser().parse_args(['promote', 'seven'])
        self.assertEqual(e.exception.code, 2)

    def test_stage_is_a_deploy_option(self):
        args = cli.parser().parse_args(['deploy', 'project', '--stage'])
        self.assertTrue(args.stage)
        self.assertFalse(cli.parser().parse_args(['deploy', 'project']).stage)

    def test_stage_refuses_plan_and_prune_before_connecting(self):
        for extra in ('--plan', '--prune'):
            status, err = run(['deploy', os.path.join(ROOT, 'test', 'dbt', 'shop'), '--stage', extra,
                               '--dsn', 'host=/nonexistent dbname=nosuch'])
            self.assertEqual(status, 2, err)
            self.assertIn('--stage keeps new definitions pending: it does not go with --plan or --prune', err)
            self.assertIn('nothing was changed', err)


if __name__ == '__main__':
    unittest.main()
