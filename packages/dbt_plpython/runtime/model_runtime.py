"""dbt_plpython: the Python side of a Python model running inside PostgreSQL.

The materializations wrap the compiled model, this file and a call of `_dbt_plpython_write` in
one `DO ... LANGUAGE plpython3u` block (macros/plpython_model_block.sql), so everything here
shares one namespace with the model's code: the public names are `Frame` and `PlpythonSession`,
every other name starts with `_dbt_plpython_` so it cannot clash with a model's own names.

This file is embedded into macros/runtime_sources.sql by scripts/embed_runtime.py (dbt's Jinja
cannot read files); a test checks that the two are in sync.

What a model receives (README.md "What a model receives"):
  dbt.ref(...) / dbt.source(...)  -> Frame: an ordered dict of column name -> numpy array
                                      (numbers -> float64/int64, booleans -> bool, others -> object)
  session.sql(query)               -> Frame of any query; session.execute(sql) runs a statement
  session.plpy                     -> the raw plpy module
What it may return: a Frame/dict of equal-length columns, a list of row dicts, or None (no rows).
"""

import datetime as _dbt_plpython_datetime
import decimal as _dbt_plpython_decimal
import json as _dbt_plpython_json
import math as _dbt_plpython_math

import numpy as _dbt_plpython_np
import plpy  # PL/Python's own module: importable inside the server only

_DBT_PLPYTHON_NUMERIC_OIDS = {20: "int", 21: "int", 23: "int", 26: "int", 700: "float", 701: "float", 1700: "float"}
_DBT_PLPYTHON_BOOL_OID = 16


class Frame(dict):
    """Column-oriented result: column name -> numpy array, in select order."""

    @property
    def columns(self):
        return list(self.keys())

    @property
    def num_rows(self):
        return len(next(iter(self.values()))) if self else 0


def _dbt_plpython_to_array(values, oid):
    np = _dbt_plpython_np
    kind = _DBT_PLPYTHON_NUMERIC_OIDS.get(oid)
    if kind == "int" and all(v is not None for v in values):
        return np.array(values, dtype=np.int64)
    if kind is not None:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if oid == _DBT_PLPYTHON_BOOL_OID and all(v is not None for v in values):
        return np.array(values, dtype=bool)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _dbt_plpython_query_frame(query, batch_rows=50000):
    """Run `query` and return its columns as a Frame, fetching in batches."""
    query = query.strip().rstrip(";")  # wrapped below: no trailing ';', a trailing comment ends at \n
    shape = plpy.execute(f"select * from (\n{query}\n) as dbt_plpython_q limit 0")
    names, oids = shape.colnames(), shape.coltypes()
    columns = {name: [] for name in names}
    cursor = plpy.cursor(query)
    while True:
        rows = cursor.fetch(batch_rows)
        if not rows:
            break
        for name in names:
            columns[name].extend(row[name] for row in rows)
    return Frame((name, _dbt_plpython_to_array(columns[name], oid)) for name, oid in zip(names, oids))


def _dbt_plpython_module(name, path, source):
    """Import a Python function file's source (dbt `functions` resource) as a module; tracebacks
    name the file."""
    import types

    module = types.ModuleType(name)
    module.__file__ = path
    exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 (the project's own function file)
    return module


def _dbt_plpython_load(relation_name):
    """dbt's load function behind dbt.ref / dbt.source."""
    return _dbt_plpython_query_frame("select * from " + relation_name)


class PlpythonSession:
    """The `session` argument of a Python model running inside PostgreSQL."""

    plpy = plpy

    @staticmethod
    def sql(query):
        return _dbt_plpython_query_frame(query)

    @staticmethod
    def execute(statement):
        return plpy.execute(statement)

    @staticmethod
    def relation_exists(relation_name):
        return plpy.execute(f"select to_regclass({plpy.quote_literal(relation_name)}) is not null as e")[0]["e"]


def _dbt_plpython_columns(result):
    """Normalise a model's return value into (ordered column names, dict of python lists)."""
    np = _dbt_plpython_np
    if result is None:
        return [], {}
    if isinstance(result, dict):
        names = [str(n) for n in result]
        cols = {
            str(n): (v.tolist() if isinstance(v, np.ndarray) and v.ndim == 1 else list(v)) for n, v in result.items()
        }
    elif isinstance(result, (list, tuple)):
        names = []
        for row in result:
            for n in row:
                if n not in names:
                    names.append(n)
        cols = {n: [row.get(n) for row in result] for n in names}
    else:
        raise TypeError(
            f"a Python model must return a dict of columns, a list of row dicts or None, got {type(result).__name__}"
        )
    lengths = {n: len(c) for n, c in cols.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns of unequal length returned by the model: {lengths}")
    return names, cols


def _dbt_plpython_clean(v):
    np = _dbt_plpython_np
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, np.ndarray):  # a cell of a 2-D array column
        return v.tolist()
    if isinstance(v, float) and _dbt_plpython_math.isnan(v):
        return None
    return v


def _dbt_plpython_is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _dbt_plpython_infer_type(values):
    dt = _dbt_plpython_datetime
    seen = [v for v in values if v is not None]
    if not seen:
        return "text"
    if all(isinstance(v, bool) for v in seen):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in seen):
        return "bigint"
    if all(_dbt_plpython_is_number(v) for v in seen):
        return "double precision"
    if all(isinstance(v, _dbt_plpython_decimal.Decimal) for v in seen):
        return "numeric"
    if all(isinstance(v, str) for v in seen):
        return "text"
    if all(isinstance(v, dt.datetime) for v in seen):
        return "timestamptz" if any(v.tzinfo is not None for v in seen) else "timestamp"
    if all(isinstance(v, dt.date) for v in seen):
        return "date"
    if all(isinstance(v, (list, tuple)) and all(x is None or _dbt_plpython_is_number(x) for x in v) for v in seen):
        return "double precision[]"
    if all(isinstance(v, (dict, list, tuple)) for v in seen):
        return "jsonb"
    raise TypeError(f"cannot choose a column type for values like {seen[0]!r}: set column_types in the model's config")


def _dbt_plpython_array_item(x):
    """One element of a PostgreSQL array literal (ints stay exact, so bigint[] works too)."""
    np = _dbt_plpython_np
    if x is None:
        return "NULL"
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return '"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dbt_plpython_param(value, sql_type):
    """Convert one value for the unnest() parameter of its column."""
    if value is None:
        return None
    t = sql_type.lower()
    if t in ("json", "jsonb"):
        return _dbt_plpython_json.dumps(value, sort_keys=False, allow_nan=False)
    if t.endswith("[]"):
        return "{" + ",".join(_dbt_plpython_array_item(x) for x in value) + "}"
    if isinstance(value, (_dbt_plpython_datetime.date, _dbt_plpython_datetime.datetime)):
        return value.isoformat()
    if t in ("text", "varchar", "character varying") and not isinstance(value, str):
        return str(value)
    return value


def _dbt_plpython_transport_type(sql_type):
    """The element type a column travels as in the unnest() parameter: json, arrays and date/time
    values go as text (their literal) and are cast to the column's type in SQL."""
    t = sql_type.lower()
    if t in ("json", "jsonb") or t.endswith("[]") or t.startswith(("timestamp", "date", "time", "interval")):
        return "text"
    return sql_type


def _dbt_plpython_write(result, target, column_types, batch_rows=100000):
    """Create `target` (a fully quoted relation name) and insert the model's rows into it."""
    names, cols = _dbt_plpython_columns(result)
    column_types = dict(column_types or {})
    if not names:
        names = list(column_types.keys())
        cols = {n: [] for n in names}
    if not names:
        raise ValueError(
            "the model returned no columns and no column_types are configured: cannot create an empty table"
        )
    for n in cols:
        cols[n] = [_dbt_plpython_clean(v) for v in cols[n]]
    types = {n: column_types.get(n) or _dbt_plpython_infer_type(cols[n]) for n in names}
    quoted = [plpy.quote_ident(n) for n in names]
    definitions = ", ".join(f"{q} {types[n]}" for q, n in zip(quoted, names))
    plpy.execute(f"create table {target} ({definitions})")
    transport = {n: _dbt_plpython_transport_type(types[n]).replace("[]", "") for n in names}
    casts = ", ".join(f"u.c{i}::{types[n]}" for i, n in enumerate(names))
    params = ", ".join(f"${i + 1}::{transport[n]}[]" for i, n in enumerate(names))
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    plan = plpy.prepare(
        f"insert into {target} ({', '.join(quoted)}) select {casts} from unnest({params}) as u({aliases})",
        [f"{transport[n]}[]" for n in names],
    )
    total = len(cols[names[0]])
    for start in range(0, total, batch_rows):
        plpy.execute(
            plan, [[_dbt_plpython_param(v, types[n]) for v in cols[n][start : start + batch_rows]] for n in names]
        )
    return total
