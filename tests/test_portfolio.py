"""`mlcourse portfolio`: the figures a learner reached, and nothing else, on a page."""

from __future__ import annotations

import base64
import json
import math
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from conftest import REPO
from mlcourse import layout, results
from mlcourse.portfolio import NotAWorkspace, OutError, build, collect
from mlcourse.portfolio.bullets import TemplateError, bullets, fields, fill, skipped
from mlcourse.portfolio.cli import portfolio
from mlcourse.portfolio.numbers import format_figure, quoted_numbers, significant, unbacked
from mlcourse.portfolio.page import render
from mlcourse.portfolio.plots import comparison_png, plotted
from mlcourse.portfolio.readme import project_readme
from mlcourse.portfolio.registry import PROJECTS, Metric, Project, by_key


def make_workspace(folder: Path, notebooks: tuple[str, ...] = ()) -> Path:
    """A workspace marker (as `mlcourse start` writes it) and empty notebook files."""
    layout.marker(folder).mkdir(parents=True, exist_ok=True)
    layout.manifest_path(folder).write_text(json.dumps({"files": {}}))
    for rel in notebooks:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("{}")
    return folder


def record(ws: Path, project: str, metric: str, value, unit: str = "", label: str = "") -> None:
    assert results.record(project, metric, value, unit=unit, label=label, workspace=ws)


@pytest.fixture
def ws(tmp_path) -> Path:
    """Housing done, sentiment half done, an unknown project, the rest not started."""
    ws = make_workspace(tmp_path / "ws", ("02_frameworks/housing_end_to_end.ipynb",))
    record(ws, "housing_end_to_end", "test_rmse", 51_302.0, "$", "a first run")
    record(ws, "housing_end_to_end", "test_rmse", 44_870.3, "$", "RMSE on the 4,128 test districts")
    record(ws, "housing_end_to_end", "baseline_rmse", 115_392.8, "$", "always the mean")
    record(ws, "housing_end_to_end", "test_size", 4128, "", "districts in the test set")
    record(ws, "sentiment_api", "test_accuracy", 0.8417, "", "held-out sentences")
    record(ws, "kaggle_workflow", "public_lb", 0.7712, "", "public leaderboard")
    return ws


# -- numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (0.9132, "", "0.91"),
        (2312.4, "req/s", "2,300 req/s"),
        (44_870.3, "$", "$44,900"),
        (-1_234.5, "$", "-$1,230"),
        (4.712, "ms", "4.7 ms"),
        (0.0937, "ms", "0.094 ms"),
        (9.96, "ms", "10 ms"),
        (0.0996, "", "0.10"),
        (0.9, "", "0.90"),
        (4128.0, "", "4,128"),
        (0, "", "0"),
        (0.0, "ms", "0 ms"),
        (999_740.0, "$", "$1,000,000"),
        (91.26, "%", "91.3%"),
        (3.2, "GB", "3.20 GB"),
    ],
)
def test_format_figure(value, unit, text):
    assert format_figure(value, unit) == text


def test_format_figure_refuses_what_is_not_a_figure():
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            format_figure(bad, "ms")
    with pytest.raises(ValueError, match="digits"):
        significant(1.0, 0)


def test_quoted_numbers_and_their_rounding_intervals():
    text = "p99 7.3 ms at 2,300 req/s, NDCG@10 0.18, 5-fold CV, $42,800, 91%, v1.2, 300 users."
    quoted = {q.text: (q.value, q.half_width) for q in quoted_numbers(text)}
    assert list(quoted) == ["7.3", "2,300", "0.18", "$42,800", "91%", "300"]
    assert quoted["2,300"] == (2300.0, 50.0)
    assert quoted["$42,800"] == (42_800.0, 50.0)
    assert quoted["91%"] == pytest.approx((0.91, 0.005))
    assert quoted["7.3"] == pytest.approx((7.3, 0.05))
    assert quoted_numbers("0 errors")[0].half_width == 0.5


def test_unbacked_numbers():
    assert unbacked("accuracy 0.91 at 2,300 req/s", [0.9132, 2312.4]) == []
    assert unbacked("accuracy 0.91 at 2,300 req/s and 7 ms", [0.9132, 2312.4]) == ["7"]
    assert unbacked("2,300", [2350.0]) == []  # exactly half a unit: inclusive
    assert unbacked("2,300", [2350.01]) == ["2,300"]


# -- the registry ----------------------------------------------------------------


def test_registry_is_consistent_and_holds_no_number_of_its_own():
    keys = [p.key for p in PROJECTS]
    assert len(keys) == len(set(keys))
    for project in PROJECTS:
        names = {m.name for m in project.metrics}
        assert set(project.required) <= names, project.key
        assert set(project.plot) <= names, project.key
        assert project.notebook.endswith(f"/{project.key}.ipynb")
        assert (REPO / "course" / project.notebook).exists() or project.key == "take_home_project"
        prose = [project.title, project.summary, *project.next_steps, *project.bullets]
        prose += [m.title for m in project.metrics]
        for text in prose:
            assert quoted_numbers(text) == [], (project.key, text)
        for template in project.bullets:
            assert set(fields(template)) <= names, (project.key, template)


def test_every_registry_notebook_records_the_figures_its_project_requires():
    for project in PROJECTS:
        path = REPO / "course" / project.notebook
        if not path.exists():
            continue  # a project whose notebook is on its way (the take-home)
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        for name in project.required:
            assert f'"{name}"' in source, (project.key, name)
        assert f'"{project.key}"' in source


# -- bullets ---------------------------------------------------------------------


def figure(metric: str, value: float, unit: str = "", project: str = "p") -> results.Figure:
    return results.Figure(project, metric, value, unit)


def test_fill_writes_recorded_figures_and_nothing_when_one_is_missing():
    figures = {"p99_ms": figure("p99_ms", 7.34, "ms"), "acc": figure("acc", 0.9132)}
    assert fill("p99 {p99_ms}, accuracy {acc}, p99 again {p99_ms}.", figures) == (
        "p99 7.3 ms, accuracy 0.91, p99 again 7.3 ms."
    )
    assert fill("{p99_ms} at {requests_per_second}", figures) is None
    assert fill("No figure at all.", figures) == "No figure at all."


def test_fill_refuses_a_template_that_quotes_its_own_number():
    figures = {"acc": figure("acc", 0.9132)}
    with pytest.raises(TemplateError, match="20"):
        fill("Accuracy {acc} on 20 users.", figures)
    with pytest.raises(TemplateError, match="bare figure name"):
        fill("Accuracy {acc:.3f}.", figures)
    with pytest.raises(TemplateError, match="not a template"):
        fill("Accuracy {acc.", figures)
    # a percentage and a negative amount are still backed by their figure
    assert (
        fill(
            "{share} of {loss}",
            {"share": figure("share", 91.26, "%"), "loss": figure("loss", -1234.5, "$")},
        )
        == "91.3% of -$1,230"
    )


def test_bullets_of_a_project_skip_the_templates_with_a_missing_figure(ws):
    housing = collect(ws).projects[0]
    written = bullets(housing)
    assert len(written) == 1 and "$44,900" in written[0] and "$115,000" in written[0]
    assert [missing for _, missing in skipped(housing)] == [["cv_rmse"]]


# -- collect ---------------------------------------------------------------------


def test_collect_lists_done_and_not_done_projects_from_the_latest_figures(ws):
    collection = collect(ws)
    status = {r.project.key: r for r in collection.projects}
    assert [r.project.key for r in collection.done] == ["housing_end_to_end", "kaggle_workflow"]
    assert status["housing_end_to_end"].figures["test_rmse"].value == 44_870.3  # latest wins
    assert status["housing_end_to_end"].notebook_present
    assert status["sentiment_api"].missing == ["p99_ms"] and status["sentiment_api"].started
    assert not status["vision_web_app"].started and not status["vision_web_app"].notebook_present
    unknown = status["kaggle_workflow"].project
    assert unknown.generic and unknown.title == "Kaggle workflow" and unknown.bullets == ()
    assert list(status) == [p.key for p in PROJECTS] + ["kaggle_workflow"]


def test_collect_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    with pytest.raises(NotAWorkspace, match="mlcourse start"):
        collect(tmp_path)


def test_a_damaged_results_file_is_read_around_and_reported(ws):
    with open(results.results_path(ws), "ab") as handle:
        handle.write(b'{"project": "sentiment_api", "metr\n')
        handle.write(b"\n")
        handle.write(b'{"project": "sentiment_api", "metric": "p99_ms", "value": "fast"}\n')
        handle.write(b"\xff\xfe\n")
        handle.write(b"[1, 2]\n")
        handle.write(
            b'{"project": "sentiment_api", "metric": "p99_ms", "value": 4.7, "unit": "ms"}'
        )
    collection = collect(ws)
    assert [(d.line, d.reason) for d in collection.damaged] == [
        (7, "not JSON"),
        (9, "the value 'fast' is not a number"),
        (10, "not UTF-8 text"),
        (11, "not a JSON object"),
    ]
    sentiment = {r.project.key: r for r in collection.projects}["sentiment_api"]
    assert sentiment.done and sentiment.figures["p99_ms"].value == 4.7


# -- the page, the READMEs, the plots -----------------------------------------------


class PageText(HTMLParser):
    """The page's figures (<data>), labels, and the rest of its visible text."""

    SKIP = {"code", "pre", "footer", "style", "title", "script"}

    def __init__(self):
        super().__init__()
        self.data: list[tuple[float, str]] = []
        self.labels: list[str] = []
        self.free: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
            return
        if tag in ("meta", "br"):
            return
        if "href" in attrs:
            self.links.append(attrs["href"])
        self._stack.append((tag, attrs))
        self._buffer.append("")

    def handle_endtag(self, tag):
        if not self._stack:
            return
        open_tag, attrs = self._stack.pop()
        text = self._buffer.pop()
        if open_tag == "data":
            self.data.append((float(attrs["value"]), text))
        elif "label" in attrs.get("class", "").split():
            self.labels.append(text)
        elif any(t in self.SKIP for t, _ in self._stack) or open_tag in self.SKIP:
            pass
        else:
            self.free.append(text)

    def handle_data(self, data):
        if self._buffer:
            self._buffer[-1] += data


def page_text(html: str) -> PageText:
    parser = PageText()
    parser.feed(html)
    return parser


def test_the_page_shows_recorded_figures_only_and_lists_what_is_not_done(ws):
    collection = collect(ws)
    html = render(collection, note="Example figures.")
    page = page_text(html)
    recorded = {fig.value for fig in results.scan(ws).figures.values()}
    assert page.data and all(value in recorded for value, _ in page.data)
    for value, text in page.data:
        assert unbacked(text, [value, abs(value)]) == [], text
    assert "$44,900" in [text for _, text in page.data]
    for text in page.free:
        assert unbacked(text, recorded) == [], text
    labels = {fig.label for fig in results.scan(ws).figures.values()}
    assert page.labels and set(page.labels) <= labels
    assert 'id="not-done"' in html and "A digit recognition web app" in html
    assert 'data-project="sentiment_api"' in html and "Recorded so far" in html
    assert "Example figures." in html
    # self-contained: no script, no stylesheet link, nothing fetched
    assert "<script" not in html and "<link" not in html
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert page.images and all(link.startswith("#") for link in page.links)
    assert base64.b64decode(page.images[0].split(",", 1)[1])[:4] == b"\x89PNG"


def test_a_page_with_no_finished_project_says_so(tmp_path):
    html = render(collect(make_workspace(tmp_path)))
    assert "No finished project yet" in html and 'id="not-done"' in html


def test_plots_compare_only_recorded_figures_of_one_unit(ws):
    housing = collect(ws).projects[0]
    assert plotted(housing) == ["baseline_rmse", "test_rmse"]
    assert comparison_png(housing)[:4] == b"\x89PNG"
    sentiment = {r.project.key: r for r in collect(ws).projects}["sentiment_api"]
    assert plotted(sentiment) == [] and comparison_png(sentiment) is None
    mixed = Project(
        "m", "Mixed", "", "", (), (Metric("a", "a"), Metric("b", "b")), ("a",), plot=("a", "b")
    )
    from mlcourse.portfolio.collect import ProjectResult

    result = ProjectResult(mixed, {"a": figure("a", 1.0, "ms"), "b": figure("b", 2.0, "$")}, False)
    assert plotted(result) == []


def test_readme_gives_figures_labels_units_reproduction_and_next_steps(ws):
    housing = collect(ws).projects[0]
    text = project_readme(housing, with_plot=True)
    assert text.startswith("# California housing prices, end to end")
    assert (
        "| test RMSE of the final model | **$44,900** | RMSE on the 4,128 test districts |" in text
    )
    assert "| held-out districts | **4,128** | districts in the test set |" in text
    assert "`02_frameworks/housing_end_to_end.ipynb`" in text and "`mlcourse portfolio`" in text
    assert "![California housing prices, end to end: the figures compared](figures.png)" in text
    assert "## What's next" in text
    recommender = by_key()["recommender_engine"]
    assert "mlcourse recommender serve" in " ".join(recommender.commands)


def test_build_writes_the_page_the_readmes_and_the_bullets(ws, tmp_path):
    steps = []
    built = build(ws, tmp_path / "out", on_step=steps.append)
    assert built.page == tmp_path / "out" / "index.html" and built.page.exists()
    assert sorted(built.readmes) == ["housing_end_to_end", "kaggle_workflow"]
    assert (tmp_path / "out" / "housing_end_to_end" / "figures.png").exists()
    assert not (tmp_path / "out" / "kaggle_workflow" / "figures.png").exists()
    assert not (tmp_path / "out" / "sentiment_api").exists()  # not done: no README
    text = built.bullets_path.read_text()
    assert "$44,900" in text and "A sentiment analysis API: a bullet waits for" in text
    assert "Titanic" not in text  # not started: listed on the page, not here
    assert any("index.html" in s for s in steps)
    default = build(ws)
    assert default.out == ws / "portfolio"


def test_build_refuses_an_out_that_is_a_file(ws, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutError, match="is a file"):
        build(ws, tmp_path / "file")
    with pytest.raises(OutError, match="is a file"):
        build(ws, tmp_path / "file" / "below")


# -- the command -----------------------------------------------------------------


def test_cli_builds_the_portfolio_and_prints_a_table(ws, tmp_path):
    out = tmp_path / "site"
    result = CliRunner().invoke(portfolio, ["--workspace", str(ws), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Your projects" in result.output and "2 of 7 projects done" in result.output
    assert "not done (missing p99_ms)" in result.output
    assert (out / "index.html").exists()


def test_cli_finds_the_workspace_around_the_current_folder(ws, monkeypatch):
    monkeypatch.chdir(ws / "02_frameworks")
    result = CliRunner().invoke(portfolio, [])
    assert result.exit_code == 0, result.output
    assert (ws / "portfolio" / "index.html").exists()


def test_cli_not_a_workspace_exits_2_with_the_start_hint(tmp_path):
    result = CliRunner().invoke(portfolio, ["--workspace", str(tmp_path)])
    assert result.exit_code == 2
    assert "not an mlcourse workspace" in result.output and "mlcourse start" in result.output


def test_cli_out_that_is_a_file_exits_2(ws, tmp_path):
    (tmp_path / "taken").write_text("x")
    result = CliRunner().invoke(
        portfolio, ["--workspace", str(ws), "--out", str(tmp_path / "taken")]
    )
    assert result.exit_code == 2 and "is a file" in result.output


def test_cli_reports_a_damaged_line_and_carries_on(ws, tmp_path):
    with open(results.results_path(ws), "a") as handle:
        handle.write("{torn\n")
    result = CliRunner().invoke(portfolio, ["--workspace", str(ws), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "skipped 1 damaged line(s)" in result.output
    assert "  line 7: not JSON" in result.output


def test_cli_help_has_an_example():
    result = CliRunner().invoke(portfolio, ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "mlcourse portfolio --workspace" in result.output


# -- real results, from the project notebooks themselves ---------------------------------

#: The two fastest project notebooks that record figures (about 20 s each on a quiet machine).
REAL = ("03_specialize/sentiment_api.ipynb", "02_frameworks/titanic_classifiers.ipynb")


@pytest.mark.slow
def test_real_results_every_number_on_the_page_is_one_a_notebook_recorded(tmp_path):
    """Run the SOURCE notebooks (solutions) in a workspace; check the page against them."""
    from mlcourse.notebook import read_notebook
    from mlcourse.release import student_version
    from mlcourse.workspace import sync

    started = time.perf_counter()
    ws = tmp_path / "mlcourse-work"
    files = {
        rel: (
            nbformat.writes(student_version(read_notebook(REPO / "course" / rel))) + "\n"
        ).encode()
        for rel in REAL
    }
    sync(ws, files)  # what `mlcourse start` does, for these two notebooks
    for rel in REAL:
        nb = nbformat.read(REPO / "course" / rel, as_version=4)
        cwd = ws / Path(rel).parent
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        ).execute()
    scan = results.scan(ws)
    assert scan.damaged == []
    got = {key: fig for key, fig in scan.figures.items()}
    expected = {
        ("sentiment_api", "test_accuracy"),
        ("sentiment_api", "p50_ms"),
        ("sentiment_api", "p99_ms"),
        ("sentiment_api", "batch_ms_per_text"),
        ("titanic_classifiers", "cv_accuracy"),
        ("titanic_classifiers", "baseline_accuracy"),
    }
    assert set(got) == expected
    assert 0.75 < got[("sentiment_api", "test_accuracy")].value < 0.95
    assert 0 < got[("sentiment_api", "p50_ms")].value <= got[("sentiment_api", "p99_ms")].value
    assert 0.78 < got[("titanic_classifiers", "cv_accuracy")].value < 0.9
    assert got[("titanic_classifiers", "baseline_accuracy")].value == pytest.approx(
        0.7868, abs=1e-4
    )

    built = build(ws, tmp_path / "portfolio")
    assert sorted(built.readmes) == ["sentiment_api", "titanic_classifiers"]
    html = built.page.read_text()
    page = page_text(html)
    values = [fig.value for fig in got.values()]
    # every figure on the page is a recorded value, printed as its rounding
    shown = {}
    for value, text in page.data:
        assert value in values, value
        assert unbacked(text, [value]) == [], (value, text)
        shown[value] = text
    for (project, metric), fig in got.items():
        assert shown[fig.value] == format_figure(fig.value, fig.unit), (project, metric)
    # every other number on the page (the bullets, the headings) is backed by one
    for text in page.free:
        assert unbacked(text, values) == [], text
    assert set(page.labels) == {fig.label for fig in got.values()}
    # the bullets, each against its own project's figures only
    for key, written in built.bullets.items():
        own = [fig.value for (project, _), fig in got.items() if project == key]
        assert written, key
        for text in written:
            assert quoted_numbers(text), text
            assert unbacked(text, own) == [], (key, text)
    assert "p99" in built.bullets["sentiment_api"][0]
    assert len(built.bullets["sentiment_api"]) == 2  # the throughput bullet waits for its figure
    for key, readme in built.readmes.items():
        rows = [
            line
            for line in readme.read_text().splitlines()
            if line.startswith("| ") and "**" in line
        ]
        assert len(rows) == sum(1 for project, _ in got if project == key)
    not_done = [r.project.key for r in built.collection.not_done]
    assert "vision_web_app" in not_done and "housing_end_to_end" in not_done
    seconds = time.perf_counter() - started
    print(f"real-results portfolio test: {seconds:.1f} s for {', '.join(REAL)}")
