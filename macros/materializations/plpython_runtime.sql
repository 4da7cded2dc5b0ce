{#-
    The Python side of Python models on dbt-postgres. The compiled model code, this runtime and a
    call to it are wrapped in one `DO ... LANGUAGE plpython3u` block, so the model runs inside
    PostgreSQL, in the same transaction as the rest of the materialization.

    What a model receives (see docs/python_models.md):
      dbt.ref(...) / dbt.source(...)  -> Frame: an ordered dict of column name -> numpy array
                                          (numbers -> float64/int64, booleans -> bool, others -> object)
      session.sql(query)               -> Frame of any query; session.execute(sql) runs a statement
      session.plpy                     -> the raw plpy module
    What it may return: a Frame/dict of equal-length columns, a list of row dicts, or None (no rows).
-#}
{% macro plpython_runtime() -%}
# ---- shopseg Python-model runtime (macros/materializations/plpython_runtime.sql) ----
import json as _sj
import datetime as _sdt
import decimal as _sdec
import numpy as _snp

_SHOPSEG_NUMERIC_OIDS = {20: "int", 21: "int", 23: "int", 26: "int", 700: "float", 701: "float", 1700: "float"}
_SHOPSEG_BOOL_OID = 16


class Frame(dict):
    """Column-oriented result: column name -> numpy array, in select order."""

    @property
    def columns(self):
        return list(self.keys())

    def __len__rows__(self):
        return len(next(iter(self.values()))) if self else 0

    @property
    def num_rows(self):
        return self.__len__rows__()


def _shopseg_to_array(values, oid):
    kind = _SHOPSEG_NUMERIC_OIDS.get(oid)
    if kind == "int" and all(v is not None for v in values):
        return _snp.array(values, dtype=_snp.int64)
    if kind is not None:
        return _snp.array([_snp.nan if v is None else float(v) for v in values], dtype=_snp.float64)
    if oid == _SHOPSEG_BOOL_OID and all(v is not None for v in values):
        return _snp.array(values, dtype=bool)
    out = _snp.empty(len(values), dtype=object)
    out[:] = values
    return out


def _shopseg_query_frame(query, batch_rows=50000):
    """Run `query` and return its columns as a Frame, fetching in batches."""
    query = query.strip().rstrip(";")  # wrapped below: no trailing ';', a trailing comment ends at \n
    shape = plpy.execute("select * from (\n%s\n) as shopseg_q limit 0" % query)
    names, oids = shape.colnames(), shape.coltypes()
    columns = {name: [] for name in names}
    cursor = plpy.cursor(query)
    while True:
        rows = cursor.fetch(batch_rows)
        if not rows:
            break
        for name in names:
            columns[name].extend(row[name] for row in rows)
    return Frame((name, _shopseg_to_array(columns[name], oid)) for name, oid in zip(names, oids))


def _shopseg_module(name, path, source):
    """Import a python_udfs/ file's source as a module (tracebacks name the file)."""
    import types
    module = types.ModuleType(name)
    module.__file__ = path
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def _shopseg_load(relation_name):
    return _shopseg_query_frame("select * from " + relation_name)


class ShopsegSession:
    """The `session` argument of a Python model running inside PostgreSQL."""

    plpy = plpy

    @staticmethod
    def sql(query):
        return _shopseg_query_frame(query)

    @staticmethod
    def execute(statement):
        return plpy.execute(statement)

    @staticmethod
    def relation_exists(relation_name):
        return plpy.execute("select to_regclass(%s) is not null as e" % plpy.quote_literal(relation_name))[0]["e"]


def _shopseg_columns(result):
    """Normalise a model's return value into (ordered column names, dict of python lists)."""
    if result is None:
        return [], {}
    if isinstance(result, dict):
        names = [str(n) for n in result.keys()]
        cols = {str(n): (v.tolist() if isinstance(v, _snp.ndarray) and v.ndim == 1 else list(v)) for n, v in result.items()}
    elif isinstance(result, (list, tuple)):
        names = []
        for row in result:
            for n in row.keys():
                if n not in names:
                    names.append(n)
        cols = {n: [row.get(n) for row in result] for n in names}
    else:
        raise TypeError("a Python model must return a dict of columns, a list of row dicts or None, got %s" % type(result).__name__)
    lengths = {n: len(c) for n, c in cols.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("columns of unequal length returned by the model: %s" % lengths)
    return names, cols


def _shopseg_clean(v):
    if isinstance(v, _snp.generic):
        v = v.item()
    if isinstance(v, _snp.ndarray):  # a cell of a 2-D array column
        return v.tolist()
    if isinstance(v, float) and v != v:
        return None
    return v


def _shopseg_infer_type(values):
    seen = [v for v in values if v is not None]
    if not seen:
        return "text"
    if all(isinstance(v, bool) for v in seen):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in seen):
        return "bigint"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen):
        return "double precision"
    if all(isinstance(v, _sdec.Decimal) for v in seen):
        return "numeric"
    if all(isinstance(v, str) for v in seen):
        return "text"
    if all(isinstance(v, _sdt.datetime) for v in seen):
        return "timestamptz" if any(v.tzinfo is not None for v in seen) else "timestamp"
    if all(isinstance(v, _sdt.date) for v in seen):
        return "date"
    if all(isinstance(v, (list, tuple)) and all(x is None or isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) for v in seen):
        return "double precision[]"
    if all(isinstance(v, (dict, list, tuple)) for v in seen):
        return "jsonb"
    raise TypeError("cannot choose a column type for values like %r: set column_types in the model's config" % (seen[0],))


def _shopseg_array_item(x):
    """One element of a PostgreSQL array literal (ints stay exact, so bigint[] works too)."""
    if x is None:
        return "NULL"
    if isinstance(x, (bool, _snp.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, _snp.integer)):
        return str(int(x))
    if isinstance(x, (float, _snp.floating)):
        return repr(float(x))
    return '"' + str(x).replace('\\', '\\\\').replace('"', '\\"') + '"'


def _shopseg_param(value, sql_type):
    """Convert one value for the unnest() parameter of its column."""
    if value is None:
        return None
    t = sql_type.lower()
    if t in ("json", "jsonb"):
        return _sj.dumps(value, sort_keys=False, allow_nan=False)
    if t.endswith("[]"):
        return "{" + ",".join(_shopseg_array_item(x) for x in value) + "}"
    if isinstance(value, (_sdt.date, _sdt.datetime)):
        return value.isoformat()
    if t in ("text", "varchar", "character varying") and not isinstance(value, str):
        return str(value)
    return value


def _shopseg_write(result, target, column_types, batch_rows=100000):
    """Create `target` (a fully quoted relation name) and insert the model's rows into it."""
    names, cols = _shopseg_columns(result)
    column_types = dict(column_types or {})
    if not names:
        names = list(column_types.keys())
        cols = {n: [] for n in names}
    if not names:
        raise ValueError("the model returned no columns and no column_types are configured: cannot create an empty table")
    for n in cols:
        cols[n] = [_shopseg_clean(v) for v in cols[n]]
    types = {n: column_types.get(n) or _shopseg_infer_type(cols[n]) for n in names}
    quoted = [plpy.quote_ident(n) for n in names]
    plpy.execute("create table %s (%s)" % (target, ", ".join("%s %s" % (q, types[n]) for q, n in zip(quoted, names))))
    transport = {n: ("text" if types[n].lower() in ("json", "jsonb") or types[n].endswith("[]")
                     or types[n].lower().startswith(("timestamp", "date", "time", "interval"))
                     else types[n]) for n in names}
    plan = plpy.prepare(
        "insert into %s (%s) select %s from unnest(%s) as u(%s)" % (
            target, ", ".join(quoted),
            ", ".join("u.c%d::%s" % (i, types[n]) for i, n in enumerate(names)),
            ", ".join("$%d::%s[]" % (i + 1, transport[n].replace("[]", "")) for i, n in enumerate(names)),
            ", ".join("c%d" % i for i in range(len(names)))),
        ["%s[]" % transport[n].replace("[]", "") for n in names])
    total = len(cols[names[0]])
    for start in range(0, total, batch_rows):
        plpy.execute(plan, [[_shopseg_param(v, types[n]) for v in cols[n][start:start + batch_rows]] for n in names])
    return total
{%- endmacro %}


{#- The DO block that runs a compiled Python model and writes its result into `target_relation`. -#}
{% macro plpython_model_block(compiled_code, target_relation, column_types) -%}
    {%- set tag = 'shopseg_py' -%}
    {%- if ('$' ~ tag ~ '$') in compiled_code -%}
        {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ " contains the reserved delimiter $" ~ tag ~ "$") }}
    {%- endif -%}
{#- the model's code starts on the block's first line, so traceback line numbers are the .py file's -#}
do ${{ tag }}${{ compiled_code }}

{{ plpython_runtime() }}

{{ plpython_udf_modules(config.get('udf_modules') or []) }}

_shopseg_rows = _shopseg_write(
    model(dbtObj(_shopseg_load), ShopsegSession()),
    {{ tojson(target_relation.render()) }},
    {{ tojson(column_types or {}) }},
)
plpy.notice("shopseg: {{ model.name }} wrote %d rows" % _shopseg_rows)
${{ tag }}$ language plpython3u
{%- endmacro %}


{#-
    Python UDF files (python_udfs/) a model imports as modules: config udf_modules=['name', ...].
    The file's source is taken from dbt's `functions` resource, so the model runs exactly the code
    that is deployed as the UDF and tested by pytest; nothing is copied.
-#}
{% macro plpython_udf_modules(names) -%}
    {%- for name in names -%}
        {%- set found = [] -%}
        {%- for node in graph.functions.values() if node.name == name and node.language == 'python' -%}
            {%- do found.append(node) -%}
        {%- endfor -%}
        {%- if not found -%}
            {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ " imports udf module '" ~ name
                ~ "', but no Python function of that name is defined in python_udfs/") }}
        {%- endif %}
{{ name }} = _shopseg_module({{ tojson(name) }}, {{ tojson(found[0].original_file_path) }}, {{ tojson(found[0].raw_code) }})
    {%- endfor %}
{%- endmacro %}
