"""medallion deploy: a project directory into a database, in ONE transaction.

The project is imported as medallion-dbt imports it (sources, seeds,
models, snapshots, tests; with --prune the drops), then a change-aware run
of the project's models builds what changed and what reads it, runs their
tests and publishes, and the transaction commits.  A definition refused
(a bind error, a breaking change), a failing model or blocking test, or
any error rolls everything back: definitions and data together.

--plan changes nothing: it imports in a savepoint to learn what would
change (definitions added, changed with a SQL diff, removed; what a
change-aware run would build and why), rolls back to the savepoint, asks
medallion_impact what each changed definition would break against what is
deployed, and with --diff imports again, runs, and compares each changed
model's rows with what is published now (rows only in the old, only in the
new, changed by key), all in a transaction that is rolled back.

--stage changes nothing that is read: it imports in a savepoint, builds
and tests what changed and what reads it (medallion_stage_build), rolls
the definitions back to the savepoint, keeps the candidates with the
definitions pending (medallion_stage_keep), compares each kept candidate's
rows with what is published, and commits the stage.  promote ID publishes
it in one transaction (medallion_promote), discard ID drops it
(medallion_discard)."""
import difflib
import json
import sys

from medallion_dbt import models as dbt_models
from medallion_dbt.db import Database
from medallion_dbt.errors import ProjectError, Refused, Skip, TransactionEnded
from medallion_dbt.importer import Importer
from medallion_dbt.project import Project
from medallion_dbt.render import jinja_line

from .connect import table

OK_STEPS = ('success', 'up_to_date')


def catalog(db, tag):
    """The project's models now: name -> (sql, version, materialized, layer, contract)."""
    # a catalog before 0.3.0 has no contract: to_jsonb(m) says NULL then
    rows = db.query_params("SELECT name, sql, version, materialized, layer, to_jsonb(m)->'contract' "
                           'FROM medallion.models m WHERE %s = ANY (tags) ORDER BY name', [tag])
    return {r[0]: r[1:] for r in rows}


def import_project(args, db, project=None):
    """Import the project in db's transaction; returns the Importer.
    Problems with the project raise ProjectError."""
    project = project or Project(args.project, args)
    try:
        importer = Importer(project, args, db)
        importer.import_all()
    except (ProjectError, Refused, Skip) as e:
        db.rollback()
        if isinstance(e, (Refused, TransactionEnded)):
            where = jinja_line(e, project.dir) or project.dir
            raise ProjectError(f'{where}: {e}') from None
        raise ProjectError(str(e)) from None
    return importer


def execute(db, sql):
    with db.conn.cursor() as cur:
        cur.execute(sql)


def savepoint(db, how, name='medallion_deploy'):
    execute(db, f'{how} {name}')


def changes(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(n for n in set(before) & set(after) if before[n][1] != after[n][1])
    return added, changed, removed


def print_definitions(before, after, out):
    added, changed, removed = changes(before, after)
    out.write('== definitions\n')
    for n in added:
        out.write(f'added    {n} ({after[n][2]}, {after[n][3]})\n')
    for n in changed:
        out.write(f'changed  {n} (version {before[n][1]} -> {after[n][1]})\n')
    for n in removed:
        out.write(f'removed  {n}\n')
    if not (added or changed or removed):
        out.write('nothing changes\n')
    for n in changed:
        if before[n][0] != after[n][0]:
            out.writelines(difflib.unified_diff(
                before[n][0].splitlines(True), after[n][0].splitlines(True),
                fromfile=f'{n} (deployed)', tofile=f'{n} (project)'))
            if not after[n][0].endswith('\n'):
                out.write('\n')
    return added, changed, removed


def run_project(db, tag, out):
    """The change-aware run of the project's models, in the transaction:
    (model, status, message) per model."""
    rows = db.query_params('SELECT model, status, message FROM medallion_run(%s, changed_only => true)',
                           [f'tag:{tag}'])
    if rows:
        out.write('== run\n')
        table(rows, ['model', 'status', 'message'], out)
    return rows


def impact(db, changed, after, out):
    """medallion_impact of each changed definition, against what is
    deployed; returns how many rows are breaking."""
    breaking = 0
    rows = []
    for name in changed:
        savepoint(db, 'SAVEPOINT', 'medallion_impact')
        try:
            found = db.query_params('SELECT object_kind, object, change, breaking, why '
                                    'FROM medallion_impact(%s, %s, contract => %s::jsonb)',
                                    [name, after[name][0], json.dumps(after[name][1]) if after[name][1] else None])
        except db.psycopg.Error as e:
            savepoint(db, 'ROLLBACK TO SAVEPOINT', 'medallion_impact')
            found = [('model', name, 'not analyzed', None,
                      f'{(e.diag.message_primary or str(e)).strip()} (it may read what this deploy adds)')]
        savepoint(db, 'RELEASE SAVEPOINT', 'medallion_impact')
        for kind, obj, change, brk, why in found:
            if kind in ('column', 'contract') and change == 'unchanged':
                continue
            rows.append((name, kind, obj, change, 'BREAKING' if brk else '', why))
            breaking += bool(brk)
    out.write('== impact\n')
    if rows:
        table(rows, ['model', 'kind', 'object', 'change', 'breaking', 'why'], out)
    else:
        out.write('no changed definition of a deployed model\n')
    return breaking


def keep_old_rows(db, names):
    """Copies of what the changed models publish now, to compare with."""
    kept = {}
    for i, name in enumerate(names):
        rel = db.query_params('SELECT format(\'%%I.%%I\', l.schema_name, m.name), m.unique_key '
                              'FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer '
                              'WHERE m.name = %s AND m.materialized <> \'ephemeral\' '
                              'AND pg_catalog.to_regclass(format(\'%%I.%%I\', l.schema_name, m.name)) IS NOT NULL',
                              [name])
        if not rel:
            continue
        execute(db, f'CREATE TEMP TABLE medallion_deploy_old_{i} ON COMMIT DROP AS SELECT * FROM {rel[0][0]}')
        kept[name] = (f'pg_temp.medallion_deploy_old_{i}', rel[0][0], rel[0][1])
    return kept


def data_diff(db, kept, out):
    """Rows only in the old, only in the new, and changed by key, per model."""
    rows = []
    for name, (old, new, key) in sorted(kept.items()):
        cols = db.query_params(
            "SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_attribute a "
            "WHERE a.attrelid = pg_catalog.to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
            "AND EXISTS (SELECT FROM pg_catalog.pg_attribute b WHERE b.attrelid = pg_catalog.to_regclass(%s) "
            "AND b.attname = a.attname AND b.atttypid = a.atttypid AND NOT b.attisdropped) ORDER BY a.attnum",
            [new, old])
        if not cols:
            rows.append((name, '', '', '', 'no column in common'))
            continue
        c = ', '.join(r[0] for r in cols)
        only_old, only_new = db.query_params(
            f'SELECT (SELECT count(*) FROM (SELECT {c} FROM {old} EXCEPT ALL SELECT {c} FROM {new}) x), '
            f'(SELECT count(*) FROM (SELECT {c} FROM {new} EXCEPT ALL SELECT {c} FROM {old}) y)', [])[0]
        changed = ''
        if key:
            k = ', '.join('"' + p.replace('"', '""') + '"' for p in key)
            changed = db.query_params(
                f'SELECT count(*) FROM (SELECT {k} FROM (SELECT {c} FROM {old} EXCEPT ALL SELECT {c} FROM {new}) o '
                f'INTERSECT SELECT {k} FROM (SELECT {c} FROM {new} EXCEPT ALL SELECT {c} FROM {old}) n) z', [])[0][0]
        rows.append((name, only_old, only_new, changed, f'by key {", ".join(key)}' if key else 'no unique key'))
    out.write('== data\n')
    if rows:
        table(rows, ['model', 'only_old', 'only_new', 'changed', 'how'], out)
    else:
        out.write('no changed model publishes data yet\n')


def refuse_failed(db, steps, what):
    """When a model of the run's steps did not build or pass its tests:
    roll back, say so, and return True."""
    failed = [s for s in steps if s[1] not in OK_STEPS]
    if failed:
        db.finish(commit=False)
        sys.stderr.write(f'medallion: {len(failed)} model(s) did not build or pass their tests, '
                         f'so nothing was {what}\n')
    return bool(failed)


def staged_tables(db, stage_id):
    """The candidates a stage kept, as data_diff compares them:
    model -> (published relation, staged candidate, unique key)."""
    rows = db.query_params("SELECT t.model, format('%%I.%%I', l.schema_name, m.name), t.relid::regclass::text, "
                           'm.unique_key FROM medallion.stage_tables t JOIN medallion.models m ON m.name = t.model '
                           'JOIN medallion.layers l ON l.name = m.layer WHERE t.stage_id = %s', [stage_id])
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def stage(db, tag, importer, out):
    """The stage of a project imported in the savepoint; returns the exit code."""
    changed_data = [r for r in importer.report if r[0] in ('source', 'seed') and
                    r[2] in ('created', 'updated', 'dropped')]
    if changed_data:
        db.finish(commit=False)
        names = ', '.join(f'{r[0]} {r[1]}' for r in changed_data)
        raise ProjectError(f'a stage keeps models and tests, not sources or seeds ({names} would change): '
                           f'deploy them first without --stage')
    built = db.query_params('SELECT model, status, message, materialized FROM medallion_stage_build(%s)',
                            [f'tag:{tag}'])
    steps = [b[:3] for b in built]
    out.write('== run (staged)\n')
    table(steps, ['model', 'status', 'message'], out)
    if refuse_failed(db, steps, 'staged'):
        return 1
    savepoint(db, 'ROLLBACK TO SAVEPOINT')
    stage_id = db.query_params('SELECT medallion_stage_keep()', [])[0][0]
    kept = staged_tables(db, stage_id)
    data_diff(db, kept, out)
    db.finish(commit=True)
    # what the stage built but could not keep: its promote builds it
    later = [b[0] for b in built if b[3] in ('table', 'incremental', 'snapshot') and b[0] not in kept and
             (b[1] == 'success' or b[2] == 'built when the stage is promoted')]
    if later:
        out.write('== built when promoted (incremental and snapshot models)\n')
        out.writelines(f'{name}\n' for name in later)
    out.write(f'== stage\nstaged {stage_id}\n')
    sys.stderr.write(f'medallion: staged {stage_id}: {len(kept)} candidate(s) kept, nothing published; '
                     f'publish them with "medallion promote {stage_id}", drop them with '
                     f'"medallion discard {stage_id}"\n')
    return 0


def promote(args, out=sys.stdout):
    """medallion promote ID: the stage published in one transaction."""
    return finish_stage(args, 'SELECT medallion_promote(%s)', out)


def discard(args, out=sys.stdout):
    """medallion discard ID: the stage's candidates dropped."""
    return finish_stage(args, 'SELECT medallion_discard(%s)', out)


def finish_stage(args, sql, out):
    """Promote or discard a stage: 0 done, 1 refused (an unknown, promoted
    or discarded stage, or a model that does not build: nothing changed),
    2 a connection error."""
    db = Database(args.dsn, False)
    db.conn.add_notice_handler(lambda diag: sys.stderr.write(f'{diag.message_primary}\n'))
    try:
        said = db.query_params(sql, [args.stage_id])[0][0]
    except db.psycopg.Error as e:
        db.finish(commit=False)
        if e.sqlstate is None:
            raise               # the connection, not the stage: exit 2
        detail = f'\nDETAIL: {e.diag.message_detail}' if e.diag.message_detail else ''
        hint = f'\nHINT: {e.diag.message_hint}' if e.diag.message_hint else ''
        sys.stderr.write(f'medallion: {(e.diag.message_primary or str(e)).strip()}{detail}{hint}\n'
                         f'nothing was changed\n')
        return 1
    db.finish(commit=True)
    out.write(said + '\n')
    return 0


def deploy(args, out=sys.stdout):
    """The deploy (or its plan); returns the exit code."""
    if args.stage and (args.plan or args.prune):
        raise ProjectError('--stage keeps new definitions pending: it does not go with --plan or --prune')
    project = Project(args.project, args)
    db = Database(args.dsn, False)
    tag = dbt_models.project_tag(project)
    before = catalog(db, tag)
    savepoint(db, 'SAVEPOINT')
    importer = import_project(args, db, project)
    after = catalog(db, tag)
    refused = [r for r in importer.report if r[2] == 'skipped']
    out.write('== project\n')
    table([r for r in importer.report if r[2] not in ('unchanged',)], ['kind', 'name', 'status', 'reason'], out)
    added, changed, removed = print_definitions(before, after, out)
    # the project's SQL of every deployed model it changes, refused or not
    rendered = {n.name: n.sql for n in list(importer.p.models.values()) + list(importer.p.snapshots.values())
                if getattr(n, 'sql', None)}
    # and of every one whose contract it changes (or drops)
    contracts = {n.name: n.contract for n in list(importer.p.models.values()) + list(importer.p.snapshots.values())
                 if getattr(n, 'sql', None)}
    redefined = sorted(n for n in rendered if n in before and (rendered[n].strip() != before[n][0].strip()
                                                               or contracts[n] != before[n][4]))
    if refused and not args.plan:
        db.finish(commit=False)
        sys.stderr.write(f'medallion: {len(refused)} refused, so nothing was deployed\n')
        return 1
    if args.stage:
        return stage(db, tag, importer, out)

    if args.plan:
        if not refused:
            plan = db.query_params('SELECT model, materialized, build, why FROM medallion_plan(%s) ORDER BY step',
                                   [f'tag:{tag}'])
            out.write('== builds\n')
            table([p for p in plan if p[2]], ['model', 'materialized', 'build', 'why'], out)
        savepoint(db, 'ROLLBACK TO SAVEPOINT')
        breaking = impact(db, redefined, {n: (rendered[n], contracts[n]) for n in redefined}, out)
        if refused:
            db.finish(commit=False)
            sys.stderr.write(f'medallion: a plan: {len(refused)} would be refused; nothing was changed\n')
            return 1
        if args.diff:
            kept = keep_old_rows(db, changed + added)
            import_project(args, db)
            run_project(db, tag, out)
            data_diff(db, kept, out)
        db.finish(commit=False)
        sys.stderr.write('medallion: a plan: nothing was changed\n')
        return 1 if breaking else 0

    steps = run_project(db, tag, out)
    if refuse_failed(db, steps, 'deployed'):
        return 1
    db.finish(commit=True)
    sys.stderr.write(f'medallion: deployed: {len(added)} added, {len(changed)} changed, {len(removed)} removed, '
                     f'{sum(1 for s in steps if s[1] == "success")} built\n')
    return 0
