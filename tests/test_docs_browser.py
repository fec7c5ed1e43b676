"""The docs site of snowplow_web in a real browser: headless Chromium (Debian's chromium and
chromium-driver, installed by scripts/setup-engines) opens index.html from disk (file://) and
the test reads the DOM: every model listed, the lineage of known columns, the SQL switcher
showing each dialect's SQL. A screenshot is kept in test-artifacts/docs-site.png."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from engines.base import REPO_ROOT, REQUIRE_ENV, SETUP_HINT, engines_required

from snowgen import api
from snowgen.dialects import NAMES

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = REPO_ROOT / "test-artifacts" / "docs-site.png"


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return f"{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver; {SETUP_HINT})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    loaded = api.load_project(REPO_ROOT / "model_specs" / "snowplow_web")
    folder = api.write_docs(tmp_path_factory.mktemp("docs") / "site", api.docs_site(loaded))
    plan, _ = api.lineage(loaded)
    return folder, sorted(plan.models)


@pytest.fixture(scope="module")
def browser(site):
    problem = _missing()
    if problem is not None:
        if engines_required():
            pytest.fail(f"{problem} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.get((site[0] / "index.html").as_uri())
    yield driver
    driver.quit()


def by_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_every_model_is_listed_and_drawn(browser, site):
    listed = [a.text for a in by_css(browser, "#model-list a")]
    drawn = sorted(g.get_attribute("data-name") for g in by_css(browser, "#dag g.node.model"))
    assert (listed, drawn) == (site[1], site[1])


LINEAGE = [
    ("snowplow_web_page_views", "page_view_id", ["context:web_page.id"]),
    ("snowplow_web_sessions", "domain_sessionid", ["source:events.domain_sessionid"]),
]


@pytest.mark.parametrize(("model", "column", "expected"), LINEAGE, ids=[f"{m}.{c}" for m, c, _ in LINEAGE])
def test_lineage_of_a_known_column(browser, model, column, expected):
    items = by_css(browser, f"#column-{model}-{column} td.origins li")
    assert [li.get_attribute("data-ref") for li in items] == expected


def test_switcher_shows_each_dialects_sql(browser):
    from selenium.webdriver.support.ui import Select

    choice = Select(by_css(browser, "#dialect-switch")[0])
    assert [o.get_attribute("value") for o in choice.options] == list(NAMES)
    shown = {}
    for dialect in NAMES:
        choice.select_by_value(dialect)
        blocks = [b for b in by_css(browser, "#model-snowplow_web_page_views pre.sql") if b.is_displayed()]
        shown[dialect] = [(b.get_attribute("data-dialect"), "snowplow_web_page_views" in b.text) for b in blocks]
    assert shown == {dialect: [(dialect, True)] for dialect in NAMES}


def test_screenshot_is_kept(browser):
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_site_needs_nothing_beside_its_folder(site):
    copy = site[0].parent / "moved"
    shutil.copytree(site[0], copy)
    page = (copy / "index.html").read_text(encoding="utf-8")
    assert ("http://" in page.replace('xmlns="http://www.w3.org/2000/svg"', ""), "https://" in page) == (False, False)
