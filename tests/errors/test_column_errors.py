"""Columns checked at compile time (snowgen.plan.column_check): a column a body reads must be
a column of its inputs where their columns are known (SG250), an unqualified one of exactly
one of them (SG251), qualified by a known alias (SG252); a source without declared columns is
a warning (SG253). Every failure exits 2 and writes nothing (the ``proj.fail`` rule)."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")

PROJECT = """\
project: shop
vars:
  amount_column: amout
  amount_sql: o.amout * 2
sources:
  orders:
    schema: raw
    table: orders
    columns:
      id: bigint
      customer_id: bigint
      amount: decimal(18,2)
      country: string
  customers:
    schema: raw
    table: customers
    columns: {id: bigint, name: string}
  clicks:
    schema: raw
    table: clicks
"""

ORDERS_BY_COUNTRY = """\
name: orders_by_country
materialization: table
sql: |
  select o.country, sum(o.amount) as revenue
  from orders as o
  group by o.country
"""


def model(name: str, *lines: str, extra: str = "materialization: table\n") -> tuple[str, str]:
    return f"models/{name}.yml", f"name: {name}\n{extra}sql: |\n" + "".join(f"  {line}\n" for line in lines)


@pytest.fixture
def shop(proj):
    proj.write("snowgen.yml", PROJECT)
    proj.remove("models/page_views.yml")
    proj.write("models/orders_by_country.yml", ORDERS_BY_COUNTRY)
    return proj


CASES = {
    "source column": (
        model("x", "select o.country, sum(o.amout) as revenue", "from orders as o", "group by o.country"),
        "models/x.yml:4:27: SG250 unknown column 'amout' of 'o' (did you mean 'amount'?)\n"
        " 4 |   select o.country, sum(o.amout) as revenue\n"
        "   |                           ^\n",
    ),
    "upstream model column": (
        model("x", "select revenu", "from orders_by_country"),
        "models/x.yml:4:10: SG250 unknown column 'revenu' (did you mean 'revenue'?)\n"
        " 4 |   select revenu\n"
        "   |          ^\n",
    ),
    "cte column": (
        model("x", "with t as (select id, amount from orders)", "select t.amt", "from t"),
        "models/x.yml:5:12: SG250 unknown column 'amt' of 't' (did you mean 'amount'?)\n"
        " 5 |   select t.amt\n"
        "   |            ^\n",
    ),
    "column after star expansion": (
        model("x", "with t as (select * from orders)", "select t.id, t.countyr", "from t"),
        "models/x.yml:5:18: SG250 unknown column 'countyr' of 't' (did you mean 'country'?)\n"
        " 5 |   select t.id, t.countyr\n"
        "   |                  ^\n",
    ),
    "subquery column": (
        model("x", "select q.total", "from (select o.id, o.amount as amt from orders as o) as q"),
        "models/x.yml:4:12: SG250 unknown column 'total' of 'q'\n 4 |   select q.total\n   |            ^\n",
    ),
    "column from a var": (
        model("x", "select {{ ident(var('amount_column')) }}", "from orders"),
        "models/x.yml:4:10: SG250 unknown column 'amout' (did you mean 'amount'?)\n"
        " 4 |   select {{ ident(var('amount_column')) }}\n"
        "   |          ^\n",
    ),
    "column in an expression from a var": (
        model("x", "select {{ sql(var('amount_sql')) }} as doubled", "from orders as o"),
        "models/x.yml:4:10: SG250 unknown column 'amout' of 'o' (did you mean 'amount'?)\n"
        " 4 |   select {{ sql(var('amount_sql')) }} as doubled\n"
        "   |          ^\n",
    ),
    "after Jinja lines that render to nothing": (
        model("x", "{#- a comment #}", "{%- set limit = 10 %}", "select o.id,", "  o.amout", "from orders as o"),
        "models/x.yml:7:7: SG250 unknown column 'amout' of 'o' (did you mean 'amount'?)\n"
        " 7 |     o.amout\n"
        "   |       ^\n",
    ),
    "outer column of a correlated subquery": (
        model(
            "x",
            "select o.id",
            "from orders as o",
            "where exists (select 1 from customers as c where c.id = o.customr_id)",
        ),
        "models/x.yml:6:61: SG250 unknown column 'customr_id' of 'o' (did you mean 'customer_id'?)\n"
        " 6 |   where exists (select 1 from customers as c where c.id = o.customr_id)\n"
        "   |                                                             ^\n",
    ),
    "ambiguous": (
        model("x", "select id, c.name", "from orders as o", "join customers as c on c.id = o.customer_id"),
        "models/x.yml:4:10: SG251 ambiguous column 'id': 'c' and 'o' both have it; qualify it\n"
        " 4 |   select id, c.name\n"
        "   |          ^\n",
    ),
    "unknown alias": (
        model("x", "select x.id", "from orders as o"),
        "models/x.yml:4:10: SG252 unknown table alias 'x'; the query reads o\n 4 |   select x.id\n   |          ^\n",
    ),
    "unique_key still checked (SG207)": (
        model(
            "x", "select o.id, o.amount", "from orders as o", extra="materialization: incremental\nunique_key: idd\n"
        ),
        "models/x.yml:3:13: SG207 column 'idd' is not an output column of model 'x' (did you mean 'id'?)\n"
        " 3 | unique_key: idd\n"
        "   |             ^\n",
    ),
}


@pytest.mark.parametrize(("spec", "expected"), list(CASES.values()), ids=list(CASES))
def test_column_errors(shop, spec, expected):
    shop.write(*spec)
    assert shop.fail(*COMPILE) == expected


def test_resolved_columns_compile_clean(shop):
    """USING and NATURAL joins, aliases of the SELECT list, correlated subqueries, a LATERAL
    subquery, a table function and a source without declared columns are no error."""
    shop.write(*model(
        "x",
        "select id, o.amount as amt, u.anything",
        "from orders as o join customers using (id)",
        "left join clicks as u on u.order_id = o.id",
        "where exists (select 1 from customers as c where c.id = o.customer_id)",
        "order by amt",
    ))  # fmt: skip
    shop.write(*model(
        "y",
        "select c.name, l.top, n.id, g.n",
        "from customers as c",
        "cross join lateral (select max(o.amount) as top from orders as o where o.customer_id = c.id) as l",
        "natural join (select o.id from orders as o) as n",
        "cross join generate_series(1, 3) as g(n)",
    ))  # fmt: skip
    result = shop.run(*COMPILE)
    assert result.exit_code == 0, result.output


def test_a_source_without_columns_warns_once(shop):
    for name in ("a", "b"):
        shop.write(*model(name, "select k.order_id, k.nothing_checked", "from clicks as k"))
    result = shop.run(*COMPILE)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "snowgen: warning: snowgen.yml:18:3: SG253 source 'clicks' declares no columns: "
        "the columns models read from it are not checked\n"
    )
