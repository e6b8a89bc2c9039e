"""``mlcourse site``: built offline from the student versions, with no solution in it.

The build uses the executions of the student versions that the gate saved
(``tests/test_course.py`` runs first) and executes what it does not find. A
browser test opens the built site on a local HTTP server: the plan, a notebook
page with maths and figures, the search, and the Binder link. Screenshots go to
``test-artifacts/site/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest

from conftest import REPO
from mlcourse import site

ARTIFACTS = REPO / "test-artifacts" / "site"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "_site"
    index = site.build(out)
    assert index.exists()
    return out


def test_every_notebook_has_a_page_and_a_download(built):
    for rel in site.course_notebooks():
        page = built / (rel.removesuffix(".ipynb") + ".html")
        assert page.exists(), rel
        assert (built / "notebooks" / rel).exists(), rel
        text = page.read_text()
        assert "Launch in Binder" in text and site.BINDER.format(rel=rel) in text.replace(
            "&amp;", "&"
        )


def test_no_solution_or_hidden_test_reaches_the_site(built):
    assert site.scan_site(built) == []
    for page in built.rglob("*.html"):
        text = page.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, page


def test_a_planted_solution_line_makes_the_scan_fail(built, tmp_path):
    planted = tmp_path / "planted"
    shutil.copytree(built, planted)
    page = planted / "01_foundations" / "linear_algebra.html"
    line = "energy = np.cumsum(np.asarray(s, dtype=float) ** 2)"
    page.write_text(page.read_text().replace("</body>", f"<p>{line}</p></body>"))
    hits = site.scan_site(planted)
    assert hits and "rank_for_energy" in hits[0]


def test_the_site_needs_no_network(built):
    """Nothing a page loads comes from another host: scripts, styles, images, frames
    and CSS url()s are all local. Links a reader may follow (Binder, a data set's
    home page, a paper) are anchors, not loads, and are fine."""
    pages = list(built.rglob("*.html"))
    assert len(pages) > 20
    loads = re.compile(
        r'<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc="(https?://[^"]+)"'
        r'|<link\b[^>]*\bhref="(https?://[^"]+)"'
        r"|url\(\s*['\"]?(https?://[^)'\"]+)"
    )
    for page in pages:
        text = page.read_text()
        for match in loads.finditer(text):
            url = next(g for g in match.groups() if g)
            raise AssertionError(f"{page} loads {url}")
    for css in built.rglob("*.css"):
        hit = re.search(r"url\(\s*['\"]?(https?://[^)'\"]+)", css.read_text(errors="replace"))
        assert not hit, f"{css} loads {hit and hit.group(1)}"
    mathjax = built / "_static" / "mathjax" / "MathJax.js"
    assert mathjax.exists()


@pytest.mark.browser
def test_the_site_in_a_browser(built):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                ],
            )
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            foreign: list[str] = []
            page.on(
                "request",
                lambda req: (
                    None
                    if req.url.startswith((base, "data:", "blob:", "about:"))
                    else foreign.append(req.url)
                ),
            )
            expect = sync_api.expect
            expect.set_options(timeout=30_000)
            # the plan
            page.goto(f"{base}/index.html")
            expect(page.get_by_role("heading", name=re.compile("The plan"))).to_be_visible()
            expect(page.locator("table").first).to_contain_text("Foundations")
            page.screenshot(path=str(ARTIFACTS / "1_plan.png"))
            # a notebook page: maths rendered, figures shown, the Binder link
            page.goto(f"{base}/01_foundations/linear_algebra.html")
            maths = page.locator(".MathJax_CHTML:visible, .MathJax:visible, mjx-container:visible")
            expect(maths.first).to_be_visible()
            assert page.locator(".MathJax_Error").count() == 0
            expect(page.locator("img").first).to_be_visible()
            binder = page.locator("a.mlcourse-binder").first
            href = binder.get_attribute("href")
            assert href == site.BINDER.format(rel="01_foundations/linear_algebra.ipynb")
            download = page.locator("a.mlcourse-download").first.get_attribute("href")
            assert download.endswith("notebooks/01_foundations/linear_algebra.ipynb")
            page.screenshot(path=str(ARTIFACTS / "2_notebook_page.png"), full_page=False)
            # search finds a term
            page.goto(f"{base}/search.html?q=eigenvector")
            results = page.locator("#search-results a, ul.search a")
            expect(results.first).to_be_visible()
            assert any("linear_algebra" in (a.get_attribute("href") or "") for a in results.all())
            page.screenshot(path=str(ARTIFACTS / "3_search.png"))
            browser.close()
            assert not foreign, f"the site fetched from other hosts: {foreign[:5]}"
    finally:
        server.shutdown()


def test_a_page_shows_widgets_as_text_and_drops_tracebacks():
    """A progress-bar widget would make the page load require.js from a CDN."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    cell = nbformat.v4.new_code_cell("encode(texts)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={site.WIDGET_MIME: {"model_id": "x"}, "text/plain": "Batches: 100%"},
        ),
        nbformat.v4.new_output("display_data", data={site.WIDGET_MIME: {"model_id": "y"}}),
        nbformat.v4.new_output("error", ename="NotImplementedError", evalue="", traceback=[]),
        nbformat.v4.new_output("stream", name="stdout", text="done\n"),
    ]
    nb.cells.append(cell)
    page = site.tidy(nb)
    assert "widgets" not in page.metadata
    outs = page.cells[0].outputs
    assert [o.output_type for o in outs] == ["display_data", "stream"]
    assert dict(outs[0].data) == {"text/plain": "Batches: 100%"}
    assert site.WIDGET_MIME in nb.cells[0].outputs[0].data  # the original is untouched
