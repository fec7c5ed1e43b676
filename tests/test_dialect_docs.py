"""Each dialect's ``docs`` links are cited where the module relies on them.

A dialect class keeps the vendor documentation behind its choices in ``docs`` (key -> URL);
the module cites a link as ``docs["key"]`` in a comment next to the choice it justifies. A key
cited nowhere has lost its reason to be there; a citation without a key points nowhere.
"""

from __future__ import annotations

import inspect
import re

import pytest

from snowgen.dialects.registry import DIALECTS

CITATION = re.compile(r'docs\["(\w+)"\]')


def citation_problems(source: str, docs: dict[str, str]) -> tuple[list[str], list[str]]:
    """(keys of ``docs`` that ``source`` never cites, keys ``source`` cites that ``docs`` lacks)."""
    cited = set(CITATION.findall(source))
    return sorted(set(docs) - cited), sorted(cited - set(docs))


def _module_source(name: str) -> str:
    return inspect.getsource(inspect.getmodule(DIALECTS[name]))


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_docs_key_is_cited_in_the_module(name):
    uncited, _ = citation_problems(_module_source(name), DIALECTS[name].docs)
    assert uncited == [], f"{name}: docs keys cited nowhere in the module: {uncited}"


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_citation_names_a_docs_key(name):
    _, missing = citation_problems(_module_source(name), DIALECTS[name].docs)
    assert missing == [], f"{name}: cited but not in docs: {missing}"


@pytest.mark.parametrize("name", list(DIALECTS))
def test_docs_urls_are_https_without_whitespace(name):
    docs = DIALECTS[name].docs
    assert docs, f"{name} has no docs"
    bad = {key: url for key, url in docs.items() if not url.startswith("https://") or re.search(r"\s", url)}
    assert bad == {}, f"{name}: malformed URLs: {bad}"


def test_checker_reports_uncited_and_missing_keys():
    planted = """
class Planted:
    docs = {"kept": "https://example.com/kept", "orphan": "https://example.com/orphan"}
    flag = True  # docs["kept"]
    other = False  # docs["ghost"]
"""
    docs = {"kept": "https://example.com/kept", "orphan": "https://example.com/orphan"}
    assert citation_problems(planted, docs) == (["orphan"], ["ghost"])
