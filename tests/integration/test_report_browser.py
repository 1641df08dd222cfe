"""Every report in a real browser: Debian's Chromium, driven headless by Playwright. For each scenario (the
runs this session made, and a run of any scenario no other test ran) and one check of each kind: the page
loads without console errors, every step card with a drawing of its own has a picture that is not blank
(and the others a table of their facts), every drawer draws, every link resolves, and a full-page
screenshot is saved beside the page under reports/."""
import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from orchestrator import pictures, report, scenarios
from tests.integration.conftest import CLASSES, RESULTS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.fail("the browser tests need Debian's chromium (apt-get install chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(lab):
    """[(Result, page path)]: one saved page per scenario (and per exercise checked), the latest run."""
    latest = {(result.kind, result.name): result for result in RESULTS}
    for name in scenarios.available():
        if ("scenario", name) not in latest:
            latest[("scenario", name)] = scenarios.run(name, lab)
    return [(result, report.save_result(result)) for _, result in sorted(latest.items())]


def check_page(browser, page_path, result):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    cards = page.locator("section.step")
    assert cards.count() == len(result.steps)
    for index, step in enumerate(result.steps):
        card = cards.nth(index)
        assert card.get_attribute("data-key") == step.key
        if pictures.for_step(result.name, step) is None:  # no drawing of its own: its facts, as a table
            assert not step.facts or card.locator("table.facts tr").count() >= 1, step.key
            continue
        picture = card.locator("figure.picture svg, figure.picture img").first
        box = picture.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 40, (step.key, box)
        drawn = picture.evaluate("e => e.tagName === 'IMG' ? e.naturalWidth : "
                                 "e.querySelectorAll('path, rect, text, use, line, polyline').length")
        assert drawn > 3, f"{step.key}: the picture is blank"
        assert card.locator("figure.picture [role=img], figure.picture img[alt]").count() == 1
    for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
        url = urlparse(href)
        assert url.scheme == "file" and Path(unquote(url.path)).exists(), f"broken link {href}"
    page.screenshot(path=str(page_path.parent / "screenshot.png"), full_page=True)
    page.close()
    assert errors == [], errors


def test_every_report_in_a_real_browser(browser, pages):
    assert {result.name for result, _ in pages if result.kind == "scenario"} == set(scenarios.available())
    for result, page_path in pages:
        check_page(browser, page_path, result)
        assert (page_path.parent / "screenshot.png").stat().st_size > 10_000


def test_every_step_with_a_drawing_of_its_own_got_it(pages):
    """A renamed fact must not quietly cost a lesson its picture: every drawer of a step that ran draws from
    its facts, passed or failed (a check's drawer may have nothing to draw for an echo that did not fail)."""
    for result, _page in pages:
        drawers = pictures.drawers(result.name)
        for step in result.steps:
            if step.key in drawers:
                picture, problem = pictures.drawing(result.name, step)
                assert not problem, problem
                assert picture is not None or result.kind == "check", (result.name, step.key)


def test_the_list_of_runs_links_every_page(browser, pages):
    index = report.REPORTS / "index.html"
    page = browser.new_page()
    page.goto(index.as_uri())
    listed = set(page.locator("table.runs a").evaluate_all("links => links.map(a => a.href)"))
    page.close()
    assert {path.as_uri() for _, path in pages} <= listed


def test_every_class_page_in_a_real_browser(browser, lab):
    """Each class graded this session: the matrix has a row per student and a column per step, every cell
    links to that step's card on the student's own page, every link resolves, the similar pairs show two
    programs side by side with the shared code marked."""
    assert CLASSES, "the grading tests ran before this one"
    for folder in CLASSES:
        data = json.loads((folder / "class.json").read_text())
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((folder / "index.html").as_uri())
        assert page.locator("table.matrix tbody tr").count() == len(data["students"])
        steps = page.locator("table.matrix thead th[data-key]").count()
        graded = [s for s in data["students"] if not s.get("error")]
        assert page.locator("td.cell a").count() == steps * len(graded)
        for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
            url = urlparse(href)
            assert url.scheme == "file" and Path(unquote(url.path)).exists(), f"broken link {href}"
        cell = page.locator("td.cell.ko a").first
        if cell.count():
            key = cell.get_attribute("href").split("#")[1]
            cell.click()
            assert page.locator(f"section.step#{key}.is-failed").count() == 1, "a failed cell opens its failed step"
            page.go_back()
        for link in page.locator("#similar a").evaluate_all("links => links.map(a => a.href)"):
            pair = browser.new_page(viewport={"width": 1200, "height": 900})
            pair.goto(link)
            assert pair.locator(".side-by-side section").count() == 2 and pair.locator("mark").count() > 0
            pair.close()
        page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
        page.close()
        assert errors == [], errors
