"""The JQL subset the simulator understands.

Grammar (case-insensitive keywords):
  query   := [expr] [ORDER BY field [ASC|DESC] {, field [ASC|DESC]}]
  expr    := term {OR term};  term := factor {AND factor}
  factor  := '(' expr ')' | NOT factor | clause
  clause  := field (=|!=|>|>=|<|<=) value | field [NOT] IN '(' value {, value} ')'
  field   := project | key | issuekey | id | updated | created
Date literals "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd", "yyyy-MM-dd" are
read in the searching user's time zone with minute resolution, as Jira does; a
relative "-15m" / "-2h" / "-1d" / "-1w" is relative to now.
Anything else raises JqlError, which the server turns into Jira's 400 shape.
"""
import datetime
import re
import time
from zoneinfo import ZoneInfo



class JqlError(Exception):
    pass


_TOKEN = re.compile(r'''\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|>=|<=|=|>|<|\(|\)|,)
  | (?P<word>[^\s"'(),=!<>]+)
)''', re.X)

_FIELDS = {'project', 'key', 'issuekey', 'id', 'updated', 'created', 'updateddate', 'createddate'}
_ORDERABLE = {'created', 'key', 'issuekey', 'updated', 'id'}


def tokenize(s):
    out = []
    pos = 0
    s = s.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise JqlError("Error in the JQL Query: the character '%s' is a reserved JQL "
                           "character (at position %d)." % (s[pos], pos))
        pos = m.end()
        if m.group('str') is not None:
            v = m.group('str')[1:-1]
            out.append(('str', re.sub(r'\\(.)', r'\1', v)))
        elif m.group('op') is not None:
            out.append(('op', m.group('op')))
        else:
            out.append(('word', m.group('word')))
    return out


def parse_date(lit, tz, now_ms=None):
    """A JQL date literal -> epoch ms, read in the user's zone (minute resolution)."""
    lit = lit.strip()
    m = re.fullmatch(r'-?(\d+)([mhdw])', lit)
    if m:
        n = int(m.group(1)) * {'m': 60, 'h': 3600, 'd': 86400, 'w': 604800}[m.group(2)]
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        return now - n * 1000 if lit.startswith('-') else now + n * 1000
    for fmt in ('%Y/%m/%d %H:%M', '%Y-%m-%d %H:%M', '%Y/%m/%d', '%Y-%m-%d'):
        try:
            dt = datetime.datetime.strptime(lit, fmt)
        except ValueError:
            continue
        dt = dt.replace(tzinfo=ZoneInfo(tz))
        return int(dt.timestamp()) * 1000
    raise JqlError("Date value '%s' for field 'updated' is invalid. Valid formats include: "
                   "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a "
                   "period format e.g. '-5d', '4w 2d'." % lit)


class Query:
    def __init__(self, pred, order, bounded):
        self.pred = pred          # Entry -> bool
        self.order = order        # [(field, desc)]
        self.bounded = bounded

    def sort_key(self, field):
        return {
            'created': lambda e: (e.created, e.id),
            'updated': lambda e: (e.updated, e.id),
            'id': lambda e: e.id,
            'key': lambda e: (e.project, e.num),
            'issuekey': lambda e: (e.project, e.num),
        }[field]

    def run(self, entries):
        res = [e for e in entries if self.pred(e)]
        order = self.order or [('id', False)]  # documented default: id ascending
        for field, desc in reversed(order):    # stable sorts, last key first
            res.sort(key=self.sort_key(field), reverse=desc)
        return res


class _Parser:
    def __init__(self, toks, tz, known_projects):
        self.t = toks
        self.i = 0
        self.tz = tz
        self.known_projects = known_projects

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def kw(self, word):
        k, v = self.peek()
        if k == 'word' and v.lower() == word:
            self.i += 1
            return True
        return False

    def expect_op(self, op):
        k, v = self.peek()
        if k != 'op' or v != op:
            raise JqlError("Error in the JQL Query: Expecting '%s' but got '%s'." % (op, v))
        self.i += 1

    def value(self):
        k, v = self.peek()
        if k in ('str', 'word') and not (k == 'word' and v.lower() in ('and', 'or', 'order')):
            self.i += 1
            return v
        raise JqlError("Error in the JQL Query: Expecting either a value, list or function "
                       "but got '%s'." % (v if v is not None else 'end of query'))

    def expr(self):
        p = self.term()
        while self.kw('or'):
            a, b = p, self.term()
            p = (lambda a, b: lambda e: a(e) or b(e))(a, b)
        return p

    def term(self):
        p = self.factor()
        while self.kw('and'):
            a, b = p, self.factor()
            p = (lambda a, b: lambda e: a(e) and b(e))(a, b)
        return p

    def factor(self):
        k, v = self.peek()
        if k == 'op' and v == '(':
            self.i += 1
            p = self.expr()
            self.expect_op(')')
            return p
        if self.kw('not'):
            p = self.factor()
            return lambda e: not p(e)
        return self.clause()

    def clause(self):
        k, field = self.peek()
        if k not in ('word', 'str'):
            raise JqlError("Error in the JQL Query: Expecting a field name but got '%s'." % field)
        self.i += 1
        f = field.lower()
        if f not in _FIELDS:
            raise JqlError("Field '%s' does not exist or you do not have permission to view it."
                           % field)
        f = {'issuekey': 'key', 'updateddate': 'updated', 'createddate': 'created'}.get(f, f)
        neg = self.kw('not')
        if self.kw('in'):
            self.expect_op('(')
            vals = [self.value()]
            while self.peek() == ('op', ','):
                self.i += 1
                vals.append(self.value())
            self.expect_op(')')
            op = 'not in' if neg else 'in'
        elif neg:
            raise JqlError("Error in the JQL Query: Expecting 'in' after 'not'.")
        else:
            k, op = self.peek()
            if k != 'op' or op not in ('=', '!=', '>', '>=', '<', '<='):
                raise JqlError("Error in the JQL Query: Expecting operator but got '%s'." % op)
            self.i += 1
            vals = [self.value()]
        return self.compile(f, op, vals)

    def compile(self, f, op, vals):
        if f in ('updated', 'created'):
            if op in ('in', 'not in'):
                raise JqlError("The operator '%s' is not supported by the '%s' field." % (op, f))
            t = parse_date(vals[0], self.tz)
            get = (lambda e: e.updated) if f == 'updated' else (lambda e: e.created)
            cmp = {'=': lambda a: a == t, '!=': lambda a: a != t, '>': lambda a: a > t,
                   '>=': lambda a: a >= t, '<': lambda a: a < t, '<=': lambda a: a <= t}[op]
            return lambda e: cmp(get(e))
        if op not in ('=', '!=', 'in', 'not in'):
            raise JqlError("The operator '%s' is not supported by the '%s' field." % (op, f))
        if f == 'project':
            want = set()
            for v in vals:
                if self.known_projects is not None and v.upper() not in self.known_projects:
                    raise JqlError("The value '%s' does not exist for the field 'project'." % v)
                want.add(v.upper())
            get = lambda e: e.project.upper()
        elif f == 'key':
            want = {v.upper() for v in vals}
            get = lambda e: e.key.upper()
        else:
            try:
                want = {int(v) for v in vals}
            except ValueError:
                raise JqlError("The value '%s' is not valid for the field 'id'." % vals[0])
            get = lambda e: e.id
        if op in ('=', 'in'):
            return lambda e: get(e) in want
        return lambda e: get(e) not in want


def parse(jql, tz='UTC', known_projects=None):
    toks = tokenize(jql or '')
    # split off ORDER BY
    where, order = toks, []
    for i in range(len(toks) - 1):
        if toks[i][0] == 'word' and toks[i][1].lower() == 'order' \
                and toks[i + 1][0] == 'word' and toks[i + 1][1].lower() == 'by':
            where, rest = toks[:i], toks[i + 2:]
            order = _parse_order(rest)
            break
    pred = lambda e: True
    bounded = False
    if where:
        p = _Parser(where, tz, known_projects)
        pred = p.expr()
        if p.i != len(where):
            raise JqlError("Error in the JQL Query: Expecting either 'OR' or 'AND' but got '%s'."
                           % where[p.i][1])
        bounded = True
    return Query(pred, order, bounded)


def _parse_order(toks):
    out = []
    i = 0
    if not toks:
        raise JqlError("Error in the JQL Query: Expecting a field name after 'order by'.")
    while i < len(toks):
        k, v = toks[i]
        if k not in ('word', 'str') or v.lower() not in _ORDERABLE:
            raise JqlError("Not able to sort using field '%s'." % v)
        f = v.lower()
        i += 1
        desc = False
        if i < len(toks) and toks[i][0] == 'word' and toks[i][1].lower() in ('asc', 'desc'):
            desc = toks[i][1].lower() == 'desc'
            i += 1
        out.append((f, desc))
        if i < len(toks):
            if toks[i] != ('op', ','):
                raise JqlError("Error in the JQL Query: Expecting ',' but got '%s'." % toks[i][1])
            i += 1
    return out

