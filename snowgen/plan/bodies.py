"""Planning SQL bodies: parsed and resolved, or planned from remembered facts.

With a memo (snowgen.plan.facts), a body whose key and lookups are unchanged is not parsed:
the model's ``query`` is :data:`~snowgen.plan.data.UNPARSED` and its facts are the
remembered ones. :func:`with_bodies` parses such bodies when steps built from them need
them, to the same tree planning would have made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlglot import exp

from snowgen.plan.column_check import BodyText, KnownTypes, check_columns
from snowgen.plan.data import UNPARSED, BodyFacts, BodyInputs, ModelPlan, Plan
from snowgen.plan.facts import BodyMemo, DigestMemo, Recorded, body_key, known_holds, lookups_hold, tables_read
from snowgen.plan.fingerprint import digest, fingerprint
from snowgen.plan.references import resolve_tables
from snowgen.plan.sqlbody import parse_body
from snowgen.plan.stars import body_output_columns, drop_positions_of, expand_stars


class BodyPlanner:
    """Plans each body of one compile (``memo`` None: parses every one)."""

    def __init__(self, memo: BodyMemo | None, variables: Mapping[str, Any]):
        self.memo = memo
        self.vars_digest = digest(fingerprint(variables)) if memo is not None else ""
        self.digests = DigestMemo()
        self.rendered: dict[str, str] = {}  # model -> its body as rendered (for error positions)

    def plan_body(self, text: str, inputs: BodyInputs) -> tuple[Any, BodyFacts, BodyInputs]:
        """The body's query (UNPARSED when remembered facts hold), its facts so far (without
        the output, which needs the columns of what it reads: :meth:`output`), and its inputs."""
        if self.memo is not None:
            key = body_key(text, inputs.context, self.vars_digest, inputs.model, inputs.instance, inputs.for_each)
            inputs = replace(inputs, memo_key=key)
            facts = self.memo.facts(key)
            if facts is not None and lookups_hold(facts.relations, inputs.relations, self.digests):
                return UNPARSED, facts, inputs
        query, facts = self._parse(text, inputs)
        return query, facts, inputs

    def _parse(self, text: str, inputs: BodyInputs) -> tuple[exp.Query, BodyFacts]:
        relations = Recorded(inputs.relations) if self.memo is not None else inputs.relations
        query, depends, self.rendered[inputs.model] = _resolved(text, inputs, relations)
        looked_up = relations.digests(self.digests) if isinstance(relations, Recorded) else {}
        return query, BodyFacts(depends, tables_read(query), None, looked_up, {})

    def output(
        self, model: ModelPlan, known: Mapping[tuple[str, str], tuple[str, ...]], types: KnownTypes
    ) -> ModelPlan:
        """The model with its body's output columns and their types in its facts: stars
        expanded and columns checked with ``known`` and ``types`` (the columns of every
        table planned before it); remembered if what it looked up there is unchanged."""
        assert model.body is not None and model.facts is not None
        if model.query is UNPARSED:
            if known_holds(model.facts, known, types):
                return model
            query, facts = self._parse(model.spec.sql, model.body)
            model = replace(model, query=query, facts=facts)
        recorded = Recorded(known) if self.memo is not None else known
        recorded_types = Recorded(types) if self.memo is not None else types
        expand_stars(model.query, recorded)
        output = body_output_columns(model.query)
        text = BodyText(self.rendered[model.name], model.spec.sql)
        output_types = check_columns(model.query, text, model.body.context, recorded, recorded_types)
        facts = replace(model.facts, output=output, output_types=output_types if output is not None else None)
        if isinstance(recorded, Recorded):
            facts = replace(facts, known=recorded.found(), known_types=recorded_types.found())
        return replace(model, facts=facts)

    def remember(self, models: Mapping[str, ModelPlan]) -> None:
        """Keep the facts of every body parsed in this compile (once planning succeeded)."""
        if self.memo is None:
            return
        for model in models.values():
            if model.body is not None and model.facts is not None and model.query is not UNPARSED:
                assert model.body.memo_key is not None
                self.memo.remember(model.body.memo_key, model.facts)


def with_bodies(plan: Plan, names: Iterable[str]) -> Plan:
    """``plan`` with the bodies of the models ``names`` parsed (those still UNPARSED), to the
    tree planning makes: resolved against the same relations, stars expanded with the columns
    their facts record (which held when they were planned), positions dropped."""
    wanted = [name for name in dict.fromkeys(names) if plan.models[name].query is UNPARSED]
    if not wanted:
        return plan
    models = dict(plan.models)
    for name in wanted:
        model = models[name]
        assert model.body is not None and model.facts is not None
        query, _, _ = _resolved(model.spec.sql, model.body, model.body.relations)
        expand_stars(query, _ColumnsAsPlanned(model.facts.known))
        drop_positions_of(query)
        models[name] = replace(model, query=query)
    return replace(plan, models=models)


def _resolved(text: str, inputs: BodyInputs, relations: Mapping[str, Any]) -> tuple[exp.Query, tuple[str, ...], str]:
    """The body parsed, its table names resolved through ``relations``; the models it reads;
    and the rendered text it was parsed from."""
    parsed = parse_body(text, inputs.context)
    depends = resolve_tables(parsed, inputs.context, relations, inputs.model, inputs.instance, inputs.for_each)
    return parsed.query, depends, parsed.text


class _ColumnsAsPlanned(Mapping[tuple[str, str], tuple[str, ...]]):
    """The columns a body's stars expanded with when it was planned."""

    def __init__(self, known: Mapping[tuple[str, str], tuple[str, ...] | None]):
        self.known = known

    def __getitem__(self, key: tuple[str, str]) -> tuple[str, ...]:
        if key not in self.known:  # the same text parses the same way, so it looks up the same tables
            raise AssertionError(f"a body parsed again looked up {key}, which planning did not")
        value = self.known[key]
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self):
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)
