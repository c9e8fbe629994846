"""The site of the executed series (bash scripts/build_site.sh [--quick]): every page is there,
no page shows an error, every image loads and has alt text, the index shows the gallery.

scripts/test.sh builds the site from the quick run first and sets LCL_REQUIRE_SITE=1, so there a
missing site fails; elsewhere the site checks are skipped until the site is built.
"""

import base64
import io
import json
import os
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402

from helpers.tensorflow_logs import LOG_LINE  # noqa: E402

NO_ALT_TEXT = "No description has been provided for this image"  # nbconvert's stand-in


class Page(HTMLParser):
    """The images (their attributes) and the classes of the elements of one HTML page."""

    def __init__(self, text):
        super().__init__()
        self.images, self.classes, self.links = [], set(), set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.classes.update((attrs.get("class") or "").split())
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.add(attrs["href"])


def problems(page_path):
    """What is wrong with one page: error outputs, images that do not load or lack alt text."""
    page = Page(page_path.read_text())
    found = []
    if "output_error" in page.classes:
        found.append(f"{page_path.name}: shows an error output")
    for number, image in enumerate(page.images, 1):
        source = image.get("src") or ""
        where = f"{page_path.name}, image {number}"
        if not (image.get("alt") or "").strip() or image.get("alt") == NO_ALT_TEXT:
            found.append(f"{where}: has no alt text")
        if source.startswith(("https://", "http://")):
            continue  # the Colab and Binder badges: another site's, not loaded offline
        try:
            if source.startswith("data:image/png;base64,"):
                data = base64.b64decode(source.split(",", 1)[1], validate=True)
            else:
                data = (page_path.parent / source).read_bytes()
            matplotlib.image.imread(io.BytesIO(data), format="png")  # decodes every pixel
        except Exception as error:  # noqa: BLE001 - any failure means the image does not load
            found.append(f"{where}: does not load ({type(error).__name__}: {error})")
    return found


def test_the_checks_find_an_error_output_a_broken_image_and_missing_alt_text(tmp_path):
    png = io.BytesIO()
    matplotlib.image.imsave(png, [[0.0, 1.0]], format="png")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0", outputs=[
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                               traceback=["ZeroDivisionError: division by zero"]),
        nbformat.v4.new_output("display_data", data={
            "image/png": base64.b64encode(png.getvalue()).decode()}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgoAAAA"},
                               metadata={"image/png": {"alt": "a curve"}})])])
    page = tmp_path / "page.html"
    page.write_text(build_site.export_page(notebook, "Broken"))
    found = problems(page)
    assert found == ["page.html: shows an error output", "page.html, image 1: has no alt text",
                     f"page.html, image 2: does not load {found[2].split('load ', 1)[1]}"]


@pytest.fixture(scope="module")
def site():
    manifest = SITE / "site.json"
    if not manifest.exists():
        if os.environ.get("LCL_REQUIRE_SITE") == "1":
            pytest.fail(f"no site in {SITE}: bash scripts/build_site.sh --quick did not build it")
        pytest.skip("the site is not built: run bash scripts/build_site.sh --quick")
    return json.loads(manifest.read_text())


def test_every_notebook_has_its_page_and_the_index_links_to_it(site):
    assert site["missing"] == [], f"not executed or failed: {site['missing']}"
    index = Page((SITE / "index.html").read_text())
    for notebook in NOTEBOOKS:
        assert (SITE / f"{notebook.stem}.html").is_file(), notebook.stem
        assert f"{notebook.stem}.html" in index.links, notebook.stem


@pytest.mark.parametrize("name", ["index"] + [path.stem for path in NOTEBOOKS])
def test_page_shows_no_error_and_every_image_loads_with_alt_text(site, name):
    assert problems(SITE / f"{name}.html") == []


def test_executed_notebooks_have_no_error_output_and_every_figure_has_alt_text(site):
    """Every notebook, as its kernel showed it: no error, no TensorFlow C++ log line (which
    JupyterLab shows as a pink box: the kernel forwards what TensorFlow writes to its stderr), every
    figure with alt text. The browser tests look at some of them in JupyterLab as well."""
    for notebook in NOTEBOOKS:
        executed = nbformat.read(Path(site["executed_dir"]) / notebook.name, as_version=4)
        outputs = [output for cell in executed.cells if cell.cell_type == "code"
                   for output in cell.outputs]
        assert not [output for output in outputs if output.output_type == "error"], notebook.stem
        log_lines = [output.text for output in outputs if output.output_type == "stream"
                     and LOG_LINE.search(output.text)]
        assert not log_lines, f"{notebook.stem} shows TensorFlow's C++ log lines: {log_lines}"
        for output in outputs:
            if "image/png" in output.get("data", {}):
                assert output.metadata["image/png"]["alt"].strip(), notebook.stem


def test_index_shows_the_pattern_gallery_and_the_run_times(site):
    text = (SITE / "index.html").read_text()
    (gallery,) = [image for image in Page(text).images if image["src"] == site["gallery"]]
    assert "diagnose(): overfitting" in gallery["alt"]
    table = json.loads(Path(site["table"]).read_text())
    for row in table["notebooks"]:
        assert build_site.format_seconds(row["wall_seconds"]) in text, row["notebook"]
