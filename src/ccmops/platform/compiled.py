"""Querysets compiled once and run many times with new values.

Django builds and compiles a queryset's SQL on every evaluation. For the few reads that run on every request
of a busy path (locking a timer on each heartbeat and stop) that costs more Python than the query costs the
database: the timer's lock with its practice and patient took about 2 ms to build and compile, against half a
millisecond to run. A `Compiled` query keeps the SQL, its parameters and the compiler's description of the
columns from one compilation, and turns each row into model instances (related objects included) the way
Django's own model iterable does, with the same converters.

The values that change between runs are given at compile time as sentinels: values no real row can hold. Each
sentinel must occur once among the query's parameters, and each is compared for equality: an integer beyond
64 bits matches no row (the ORM answers so too; the driver would raise).

A query runs through `ccmops.platform.pipeline.together` (on PostgreSQL its values are bound on the server, so the
statement is prepared once it repeats), or gives its SQL (`statement`) to a caller that sends it with others
and turns the rows into instances (`instances`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.db import connections
from django.db.models.query import get_related_populators

from ccmops.platform.pipeline import together


class Compiled:
    def __init__(self, queryset, **sentinels):
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        sql, params = compiler.as_sql()
        params = list(params)
        self.sql = sql
        self.params = params
        self.positions = {}
        for name, value in sentinels.items():
            if params.count(value) != 1:
                raise ValueError(f"{name}: the sentinel {value!r} must occur once among the parameters {params!r}")
            self.positions[name] = params.index(value)
        select = compiler.select
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        self.compiler = compiler
        self.model = None
        if compiler.klass_info is not None:  # a queryset of model instances (not .values()/.values_list())
            self.model = compiler.klass_info["model"]
            fields = compiler.klass_info["select_fields"]
            self.own = slice(fields[0], fields[-1] + 1)
            self.init_list = [column[0].target.attname for column in select[self.own]]
            self.populators = get_related_populators(compiler.klass_info, select, self.db)
            self.annotations = dict(compiler.annotation_col_map or {})

    def statement(self, **values) -> tuple[str, list] | None:
        """The SQL and parameters for these values (to send with others, `ccmops.platform.pipeline.together`); None when
        a value cannot match any row."""
        params = list(self.params)
        for name, value in values.items():
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                return None  # no 64-bit column holds it: nothing matches (as the ORM's lookups answer)
            params[self.positions[name]] = value
        return self.sql, params

    def convert(self, found: list) -> list[tuple]:
        """Rows as a cursor reads them, converted as the ORM converts them."""
        if self.converters:
            return [tuple(r) for r in self.compiler.apply_converters(found, self.converters)]
        return found

    def rows(self, **values) -> list[tuple]:
        """The rows, converted as the ORM converts them (for .values_list() querysets: their tuples)."""
        return self.convert(self._read(values))

    def instances(self, found: list) -> list:
        """The model instances, with their related objects, of rows as a cursor reads them."""
        out = []
        for row in self.convert(found):
            obj = self.model.from_db(self.db, self.init_list, row[self.own])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            out.append(obj)
        return out

    def first(self, **values):
        """The first row's model instance, with its related objects; None when there is no row."""
        found = self.instances(self._read(values)[:1])
        return found[0] if found else None

    def _read(self, values: dict) -> list:
        statement = self.statement(**values)
        return together(statement)[0] if statement is not None else []


_compiled: dict[tuple, Compiled] = {}


def compiled(key: Hashable, build: Callable[[], Compiled]) -> Compiled:
    """The query `build` compiles, compiled once per process and database vendor: `key` names the query and
    whatever its shape depends on (the related objects it selects, a setting it reads)."""
    full = (connections["default"].vendor, key)
    if full not in _compiled:
        _compiled[full] = build()
    return _compiled[full]
