"""T-SQL models and tests as PostgreSQL's SQL: parsed by sqlglot
(python3-sqlglot, imported only when a project is T-SQL), their names
resolved against the connected database's catalog as SQL Server resolves
them (without case: personid is "PersonID" when that is the only match),
comparisons of bits (booleans here) with 0 and 1 made boolean, and
written as PostgreSQL's SQL.  What cannot be translated is a Skip naming
the construct.  Also: what tells a project is T-SQL (its models' SQL), and
the hint a PostgreSQL error gets when the SQL is T-SQL."""
import re

from .errors import Skip

# Bracketed identifiers ([status], [dbo].[Customer]) in SQL with its Jinja
# and comments taken out: T-SQL, never PostgreSQL (an array subscript
# follows a name or a closing bracket, not a blank, a comma or a dot).
BRACKETED_RE = re.compile(r'(?:^|[\s,(=.])\[[A-Za-z_][A-Za-z0-9_ $#@]*\]')

# T-SQL functions sqlglot 10.6 passes through (or names so) that
# PostgreSQL does not have: the report names the construct.
UNTRANSLATED = {'STUFF': 'STUFF()', 'PATINDEX': 'PATINDEX()', 'SWITCHOFFSET': 'SWITCHOFFSET()',
                'TODATETIMEOFFSET': 'TODATETIMEOFFSET()', 'FORMATMESSAGE': 'FORMATMESSAGE()', 'OBJECT_ID': 'OBJECT_ID()', 'SCOPE_IDENTITY': 'SCOPE_IDENTITY()'}
# ... and those with a PostgreSQL function of another name
RENAMED = {'NEWID': 'GEN_RANDOM_UUID', 'SYSDATETIME': 'CLOCK_TIMESTAMP',
           'SYSUTCDATETIME': 'CLOCK_TIMESTAMP'}


def strip_jinja_and_comments(text):
    text = re.sub(r'{#.*?#}|{%.*?%}|{{.*?}}', ' ', text or '', flags=re.S)
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'--[^\n]*', ' ', text)
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def bracketed(text):
    """The first bracketed identifier of a model's SQL ([status]), or None."""
    m = BRACKETED_RE.search(strip_jinja_and_comments(text))
    return m.group(0).lstrip(' \t\n,(=.') if m else None


TSQL_ERROR_RE = re.compile(r'syntax error at or near "(\[|TOP|NOLOCK|APPLY)"|function (isnull|getdate|len|charindex|'
                           r'datediff|dateadd|datepart|iif|convert|newid|eomonth|datefromparts)\(.*\) does not exist',
                           re.I)


def tsql_hint(sql, message):
    """The hint a PostgreSQL error on a project read as PostgreSQL gets
    when what failed is T-SQL ([status], TOP, ISNULL ...): '' otherwise."""
    if TSQL_ERROR_RE.search(message or '') or ('syntax error' in (message or '') and bracketed(sql)):
        return ' (this is T-SQL: --dialect tsql translates it)'
    return ''


class Catalog:
    """What the translation asks of the connected database (the
    importer answers): the relation a schema and name name without case,
    and its columns."""

    def relation(self, schema, name):
        """(schema, name) as the catalog spells them, or None; Skip when
        several match without case."""
        raise NotImplementedError

    def columns(self, schema, name):
        """[(column, its type's category)] of the relation, or None: B
        boolean, S string, N numeric, ... (pg_type.typcategory)."""
        raise NotImplementedError


# DATEPART(unit, x) and DATENAME(unit, x): sqlglot 10.6 reads both as a
# strftime format, where weekday and week are one (%W), and writes TO_CHAR
# (text, not SQL Server's int).  They are read as MEDALLION_DATEPART_<unit>(x)
# and translated here, outside strings and comments.
DATE_FUNCTION_RE = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/|\b(DATEPART|DATENAME)\s*\(\s*([A-Za-z_]+)\s*,",
                              re.I | re.S)
DATE_UNITS = {
    'year': 'year', 'yy': 'year', 'yyyy': 'year', 'quarter': 'quarter', 'qq': 'quarter', 'q': 'quarter',
    'month': 'month', 'mm': 'month', 'm': 'month', 'dayofyear': 'doy', 'dy': 'doy', 'y': 'doy',
    'day': 'day', 'dd': 'day', 'd': 'day', 'week': 'week', 'wk': 'week', 'ww': 'week',
    'weekday': 'weekday', 'dw': 'weekday', 'hour': 'hour', 'hh': 'hour', 'minute': 'minute', 'mi': 'minute',
    'n': 'minute', 'second': 'second', 'ss': 'second', 's': 'second', 'iso_week': 'isoweek', 'isowk': 'isoweek',
    'isoww': 'isoweek',
}
# SQL Server's numbers, of a timestamp {x}: weekday from Sunday = 1 (DATEFIRST
# 7); week 1 holds January 1st, weeks start on Sunday
DATE_PARTS = {
    'weekday': 'CAST(EXTRACT(DOW FROM {x}) AS INT) + 1',
    'week': "CAST(FLOOR((EXTRACT(DOY FROM {x}) - 1 + EXTRACT(DOW FROM DATE_TRUNC('year', {x}))) / 7) AS INT) + 1",
    'second': 'CAST(FLOOR(EXTRACT(SECOND FROM {x})) AS INT)',
    'isoweek': 'CAST(EXTRACT(WEEK FROM {x}) AS INT)',
}
DATE_NAMES = {'month': "TO_CHAR({x}, 'FMMonth')", 'weekday': "TO_CHAR({x}, 'FMDay')"}


def mark_date_functions(sql):
    def mark(m):
        if m.group(1) is None:
            return m.group(0)
        return f'MEDALLION_{m.group(1).upper()}_{m.group(2).upper()}('
    return DATE_FUNCTION_RE.sub(mark, sql)


def date_function(fn, name):
    """The PostgreSQL expression of a marked DATEPART or DATENAME node."""
    import sqlglot
    from sqlglot import exp
    what, _, unit = name[len('MEDALLION_'):].partition('_')
    part = DATE_UNITS.get(unit.lower())
    if part is None or len(fn.expressions) != 1:
        raise Skip(f'T-SQL could not be translated: {what}({unit.lower()}, ...) has no PostgreSQL translation')
    number = DATE_PARTS.get(part, f'CAST(EXTRACT({part.upper()} FROM {{x}}) AS INT)')
    template = DATE_NAMES.get(part, f'CAST({number} AS TEXT)') if what == 'DATENAME' else number
    tree = sqlglot.parse_one(template.format(x='CAST(medallion_x AS TIMESTAMP)'), read='postgres')
    for placeholder in list(tree.find_all(exp.Column)):
        if placeholder.name == 'medallion_x':
            placeholder.replace(fn.expressions[0].copy())
    return tree


def parse_tsql(sql):
    import sqlglot
    sql = mark_date_functions(sql)
    try:
        trees = sqlglot.parse(sql, read='tsql')
    except sqlglot.errors.ParseError as e:
        errors = getattr(e, 'errors', None) or []
        if errors and errors[0].get('highlight'):
            err = errors[0]
            raise Skip(f'T-SQL could not be translated: {err.get("description")} at "{err.get("highlight")}" '
                       f'(line {err.get("line")}, column {err.get("col")})')
        raise Skip(f'T-SQL could not be translated: {str(e).splitlines()[0]}')
    except Exception as e:      # sqlglot raises TokenError and others
        raise Skip(f'T-SQL could not be translated: {str(e).splitlines()[0]}')
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise Skip('T-SQL could not be translated: not one statement')
    return trees[0]


def translate_tsql(sql, catalog=None):
    """sql (T-SQL) as PostgreSQL's SQL; names resolved against catalog
    (a Catalog) when there is one."""
    tree = transform(parse_tsql(sql), catalog)
    try:
        return tree.sql(dialect='postgres')
    except Exception as e:
        raise Skip(f'T-SQL could not be translated: {str(e).splitlines()[0]}')


def translate_tsql_condition(condition, relation, catalog=None):
    """A T-SQL condition on the rows of relation (a test's expression or
    where) as PostgreSQL's, its names resolved against that relation."""
    tree = transform(parse_tsql(f'SELECT 1 FROM {relation} WHERE {condition}'), catalog)
    try:
        return tree.args['where'].this.sql(dialect='postgres')
    except Exception as e:
        raise Skip(f'T-SQL could not be translated: {str(e).splitlines()[0]}')


def transform(tree, catalog):
    """The parsed T-SQL changed where PostgreSQL differs: functions,
    table hints, and with a catalog names and bits."""
    import sqlglot
    from sqlglot import exp
    for fn in list(tree.find_all(exp.Anonymous)):
        name = str(fn.this).upper()
        if name.startswith(('MEDALLION_DATEPART_', 'MEDALLION_DATENAME_')):
            fn.replace(date_function(fn, name))
            continue
        if name in UNTRANSLATED:
            raise Skip(f'T-SQL could not be translated: {UNTRANSLATED[name]} has no PostgreSQL translation')
        if name in RENAMED:
            fn.set('this', RENAMED[name])
    for node in list(tree.find_all(exp.Func)):
        kind = type(node).__name__
        if kind == 'DateFromParts':
            node.replace(exp.Anonymous(this='MAKE_DATE', expressions=[node.args.get(k) for k in ('year', 'month', 'day')]))
        elif kind in ('Year', 'Month', 'Day'):
            # YEAR(d), MONTH(d), DAY(d): PostgreSQL has no such functions
            part = sqlglot.parse_one(f'CAST(EXTRACT({kind.upper()} FROM CAST(medallion_x AS TIMESTAMP)) AS INT)',
                                     read='postgres')
            part.find(exp.Column).replace(node.this.copy())
            node.replace(part)
        elif kind == 'LastDateOfMonth':
            # EOMONTH(d): the month's first day, a month on, a day back
            month = sqlglot.parse_one("CAST(DATE_TRUNC('month', x) + INTERVAL '1 month - 1 day' AS DATE)",
                                      read='postgres')
            month.find(exp.Column).replace(node.this.copy())
            node.replace(month)
    for select in tree.find_all(exp.Select):
        # FROM a JOIN b ON ..., c: sqlglot keeps c beside a and writes it
        # before the joins (FROM a, c JOIN b ON ...), where b's ON cannot
        # see a; a CROSS JOIN first means the same and sees both
        source = select.args.get('from')
        joins = select.args.get('joins') or []
        if source is not None and len(source.expressions) > 1 and joins:
            first, rest = source.expressions[0], source.expressions[1:]
            source.set('expressions', [first])
            select.set('joins', [exp.Join(this=t.copy(), kind='cross') for t in rest] + list(joins))
    for join in tree.find_all(exp.Join):
        # CROSS / OUTER APPLY: a lateral join, which PostgreSQL joins ON TRUE
        if isinstance(join.this, exp.Lateral) and not join.args.get('on') and not join.args.get('using'):
            join.set('on', exp.Boolean(this=True))
    for table in tree.find_all(exp.Table):
        # WITH (NOLOCK) and other table hints: PostgreSQL's readers take no
        # locks that writers wait for (and never read uncommitted rows)
        if table.args.get('hints'):
            table.set('hints', None)
    if catalog is not None:
        snapshot = tree.copy()
        try:
            kinds = resolve(tree, catalog)
        except Skip:
            raise
        except Exception:       # a shape sqlglot's scopes do not follow: names as written
            return count_boundaries(snapshot)
        make_boolean(tree, kinds)
        make_concatenation(tree, kinds)
    return count_boundaries(tree)


# DATEDIFF(unit, a, b) as SQL Server counts it: the unit's boundaries
# crossed from a to b (DATEDIFF(day, '23:00', '01:00 the next day') is 1),
# not the time between them / the unit's length (sqlglot's epoch
# difference, 0 there).  {a} and {b} are the two timestamps.
YEARS = '(EXTRACT(YEAR FROM {b}) - EXTRACT(YEAR FROM {a}))'
BOUNDARIES = {
    'year': YEARS,
    'quarter': f'({YEARS} * 4 + EXTRACT(QUARTER FROM {{b}}) - EXTRACT(QUARTER FROM {{a}}))',
    'month': f'({YEARS} * 12 + EXTRACT(MONTH FROM {{b}}) - EXTRACT(MONTH FROM {{a}}))',
    # weeks start on Sunday (SQL Server's default DATEFIRST 7): EXTRACT(DOW) is 0 then
    'week': '(((CAST({b} AS DATE) - CAST(EXTRACT(DOW FROM {b}) AS INT)) '
            '- (CAST({a} AS DATE) - CAST(EXTRACT(DOW FROM {a}) AS INT))) / 7)',
    'day': '(CAST({b} AS DATE) - CAST({a} AS DATE))',
    'hour': "(EXTRACT(EPOCH FROM DATE_TRUNC('hour', {b}) - DATE_TRUNC('hour', {a})) / 3600)",
    'minute': "(EXTRACT(EPOCH FROM DATE_TRUNC('minute', {b}) - DATE_TRUNC('minute', {a})) / 60)",
    'second': "EXTRACT(EPOCH FROM DATE_TRUNC('second', {b}) - DATE_TRUNC('second', {a}))",
}


def count_boundaries(tree):
    """Each DATEDIFF of tree as SQL Server counts it (BOUNDARIES)."""
    import sqlglot
    from sqlglot import exp
    for node in list(tree.find_all(exp.DateDiff)):
        template = BOUNDARIES.get(str(node.args.get('unit') or 'day').lower())
        if template is None:
            continue
        a = f'CAST({node.expression.sql(dialect="postgres")} AS TIMESTAMP)'
        b = f'CAST({node.this.sql(dialect="postgres")} AS TIMESTAMP)'
        node.replace(sqlglot.parse_one(f'CAST({template.format(a=a, b=b)} AS BIGINT)', read='postgres'))
    return tree


def effective(ident):
    """The name PostgreSQL reads: quoted as written, else folded."""
    return ident.this if ident.quoted else ident.this.lower()


def output_ident(select):
    """The identifier naming a select-list item's column, or None."""
    from sqlglot import exp
    if isinstance(select, exp.Alias):
        return select.args.get('alias')
    if isinstance(select, exp.Column) and isinstance(select.this, exp.Identifier):
        return select.this
    return None


def resolve(tree, catalog):
    """Names of tables and columns as the catalog spells them, matched
    without case as SQL Server matches them; a column whose spelling
    changed in a select list keeps its name as written (folded) by an
    alias.  Returns the type category (B boolean, S string, ...) of the
    column nodes whose type it knows, by their ids."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    for table in list(tree.find_all(exp.Table)):
        db = table.args.get('db')
        if not isinstance(db, exp.Identifier) or not isinstance(table.this, exp.Identifier):
            continue
        found = catalog.relation(effective(db), effective(table.this))
        if found is not None:
            table.set('db', exp.Identifier(this=found[0], quoted=True))
            table.set('this', exp.Identifier(this=found[1], quoted=True))

    kinds = {}
    outputs_of = {}         # id(scope expression) -> {name: category}, or None when unknown

    def table_columns(table):
        db = table.args.get('db')
        if not isinstance(db, exp.Identifier) or not isinstance(table.this, exp.Identifier):
            return None
        cols = catalog.columns(effective(db), effective(table.this))
        return None if cols is None else dict(cols)

    for scope in traverse_scope(tree):
        sources = {}
        for name, (_, source) in scope.selected_sources.items():
            if isinstance(source, exp.Table):
                sources[name.lower()] = table_columns(source)
            else:
                sources[name.lower()] = outputs_of.get(id(source.expression))
        # (scope.columns leaves out ORDER BY's output names)
        for column in list(scope.columns):
            ident = column.this
            if not isinstance(ident, exp.Identifier):
                continue
            qualifier = column.args.get('table')
            if isinstance(qualifier, exp.Identifier):
                known = [sources.get(qualifier.this.lower())] if qualifier.this.lower() in sources else []
            else:
                known = list(sources.values())
            known = [k for k in known if k is not None]
            name = effective(ident)
            exact = [k for k in known if name in k]
            if exact:
                kinds[id(column)] = exact[0][name]
                continue
            matches = {c: b for k in known for c, b in k.items() if c.lower() == ident.this.lower()}
            if len(matches) > 1:
                raise Skip(f'column {ident.this} is ambiguous: it matches '
                           + ' and '.join(f'"{c}"' for c in sorted(matches))
                           + ' (SQL Server compares names without case; write the one meant in double quotes)')
            if not matches:
                continue
            spelling, kind = next(iter(matches.items()))
            kinds[id(column)] = kind
            written = ident.this
            column.set('this', exp.Identifier(this=spelling, quoted=True))
            if column.parent is scope.expression and column.arg_key == 'expressions':
                # the output column keeps the name as written, as in SQL Server
                alias = exp.Alias(this=column.copy(), alias=exp.Identifier(this=written.lower(), quoted=True))
                kinds[id(alias.this)] = kind
                column.replace(alias)
        outputs = {}
        # read again: a column of the list may have become an alias
        for select in (scope.expression.selects if hasattr(scope.expression, 'selects') else []):
            if isinstance(select, exp.Star) or (isinstance(select, exp.Column) and isinstance(select.this, exp.Star)):
                for cols in sources.values():
                    if cols is None:
                        outputs = None
                        break
                    outputs.update(cols)
                if outputs is None:
                    break
                continue
            ident = output_ident(select)
            if ident is not None:
                inner = select.this if isinstance(select, exp.Alias) else select
                outputs[effective(ident)] = kind_of(inner, kinds)
        outputs_of[id(scope.expression)] = outputs
    return kinds


def kind_of(node, kinds):
    """The type category of an expression, when known: of a column from
    the catalog (kinds), of a cast from its type, of a string literal or
    a concatenation; None otherwise."""
    from sqlglot import exp
    while isinstance(node, exp.Paren):
        node = node.this
    if id(node) in kinds:
        return kinds[id(node)]
    if isinstance(node, exp.Cast):
        to = node.args['to'].this
        T = exp.DataType.Type
        if to == T.BOOLEAN:
            return 'B'
        if to in (T.CHAR, T.NCHAR, T.VARCHAR, T.NVARCHAR, T.TEXT):
            return 'S'
        return None
    if isinstance(node, exp.Literal):
        return 'S' if node.is_string else 'N'
    if isinstance(node, (exp.DPipe, exp.Upper, exp.Lower, exp.Trim, exp.Substring, exp.Concat, exp.TimeToStr)):
        return 'S'
    if isinstance(node, exp.Anonymous) and str(node.this).upper() in STRING_FUNCTIONS:
        return 'S'
    if isinstance(node, exp.Coalesce):
        return kind_of(node.this, kinds)
    return None


# T-SQL functions of strings that give a string
STRING_FUNCTIONS = {'LEFT', 'RIGHT', 'REPLACE', 'LTRIM', 'RTRIM', 'REVERSE', 'REPLICATE', 'STUFF', 'FORMAT',
                    'TO_CHAR', 'CONCAT_WS', 'SPACE', 'CHAR', 'NCHAR', 'QUOTENAME'}


def make_concatenation(tree, kinds):
    """T-SQL's + of two strings (a string literal, a string column, a cast
    to a string type, a concatenation) is PostgreSQL's ||; with a number on
    either side it stays +, as SQL Server adds then."""
    from sqlglot import exp
    adds = list(tree.find_all(exp.Add))
    for node in reversed(adds):     # the innermost first: a + b + c is (a + b) + c
        if kind_of(node.this, kinds) == 'S' and kind_of(node.expression, kinds) == 'S':
            node.replace(exp.DPipe(this=node.this.copy(), expression=node.expression.copy()))


def make_boolean(tree, kinds):
    """A SQL Server bit is a boolean here (tds_fdw brings it over so):
    compared with 0 or 1, or defaulted to them (ISNULL(flag, 0)), the
    number is false or true; cast to a number other than int (which
    PostgreSQL casts a boolean to) through int; in arithmetic, an int."""
    from sqlglot import exp

    def is_bool(node):
        return kind_of(node, kinds) == 'B'       # ISNULL(flag, 0) is a bit too

    def zero_one(node):
        return isinstance(node, exp.Literal) and not node.is_string and node.this in ('0', '1')

    def as_boolean(literal):
        literal.replace(exp.Boolean(this=literal.this == '1'))

    for node in list(tree.find_all(exp.EQ, exp.NEQ)):
        for a, b in ((node.this, node.expression), (node.expression, node.this)):
            if is_bool(a) and zero_one(b):
                as_boolean(b)
    for node in list(tree.find_all(exp.In)):
        if is_bool(node.this) and node.expressions and all(zero_one(e) for e in node.expressions):
            for e in list(node.expressions):
                as_boolean(e)
    for node in list(tree.find_all(exp.Coalesce)):
        if is_bool(node.this):
            for e in list(node.expressions):
                if zero_one(e):
                    as_boolean(e)
    for node in list(tree.find_all(exp.Cast)):
        to = node.args['to']
        if is_bool(node.this) and to.this in (exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT,
                                              exp.DataType.Type.BIGINT, exp.DataType.Type.DECIMAL,
                                              exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE):
            node.set('this', exp.Cast(this=node.this.copy(), to=exp.DataType.build('int')))
    for node in list(tree.find_all(exp.Add, exp.Sub, exp.Mul, exp.Div)):
        for key in ('this', 'expression'):
            operand = node.args.get(key)
            if operand is not None and is_bool(operand):
                node.set(key, exp.Cast(this=operand.copy(), to=exp.DataType.build('int')))
