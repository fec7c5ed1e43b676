"""Schedulers that run a compiled plan themselves: :mod:`snowgen.integrations.airflow` (a DAG,
one task per step; ``pip install 'snowgen[airflow]'``) and :mod:`snowgen.integrations.dagster`
(an asset per model table; ``pip install 'snowgen[dagster]'``), both over
:mod:`snowgen.integrations.plan`, which reads a plan without importing either."""
