"""Build the static site of the executed series: one HTML page per notebook and an index.

Usage: ``python scripts/build_site.py EXECUTED_DIR TABLE_JSON [SITE_DIR]`` (``bash
scripts/build_site.sh`` runs the notebooks first, then this). ``EXECUTED_DIR`` holds the executed
notebooks and ``TABLE_JSON`` their run times, both from ``benchmarks/notebook_table.py``; the
site goes to ``build/site/`` by default. Pages are nbconvert's HTML with its "classic" template:
it writes each image's ``alt`` from the output's metadata, where the kernel put the figure's
description (``helpers/alt_text.py``), and marks error outputs with the class ``output_error``.
The index lists the notebooks with their run times and shows the pattern gallery that notebook 12
saves. ``tests/test_site.py`` checks the result.
"""

import html
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GALLERY = ROOT / "build" / "pattern_gallery.png"  # where notebook 12 saves it (helpers.environment)
GALLERY_NOTEBOOK = "12_pattern_gallery"


def title_of(notebook):
    """The notebook's first heading, without the '#'."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("the notebook has no '# ' title in a markdown cell")


def export_page(notebook, title):
    """Return the notebook as one standalone HTML page (images embedded as data URIs)."""
    exporter = HTMLExporter(template_name="classic")
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    # Links between notebooks point at their pages.
    return re.sub(r'href="(?:\.\./notebooks/|\./)?(\d\d_[\w]+)\.ipynb"', r'href="\1.html"', body)


def gallery_alt_text(notebook):
    """The alt text of the figure shown by the cell that saves the gallery (the same figure)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and ".savefig(" in cell.source:
            for output in cell.outputs:
                alt = output.get("metadata", {}).get("image/png", {}).get("alt")
                if alt:
                    return alt
    raise ValueError(f"{GALLERY_NOTEBOOK}: no figure with alt text in a cell that saves one")


def format_seconds(seconds):
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def index_page(rows, missing, table, gallery_alt):
    machine = table["machine"]
    loads = [table["load_average_before"][0], table["load_average_after"][0]]
    loads += [row["load_average_before"] for row in table["notebooks"] if "load_average_before" in row]
    items = "\n".join(
        f'<tr><td><a href="{row["page"]}">{html.escape(row["title"])}</a></td>'
        f'<td>{row["run_time"]}</td><td>{row["peak_memory"]}</td></tr>' for row in rows)
    items += "".join(f"\n<tr><td>{name}</td><td colspan=2><strong>failed or not run</strong>"
                     f"</td></tr>" for name in missing)
    gallery = (f'<figure><img src="{GALLERY.name}" alt="{html.escape(gallery_alt)}" '
               f'style="max-width:100%"><figcaption>Every pattern, made on purpose and named by '
               f'<code>diagnose()</code> (from <a href="{GALLERY_NOTEBOOK}.html">notebook 12</a>)'
               f'</figcaption></figure>' if gallery_alt else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Loss Curves Lab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.5}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
</style></head>
<body>
<h1>Loss Curves Lab</h1>
<p>A series of notebooks that teaches you to read the training and validation loss of a deep
learning run, by making every pattern happen with a real CNN on the real Fashion-MNIST. Each page
below is a notebook as it ran, outputs and figures included.</p>
{gallery}
<h2>The notebooks</h2>
<p>Executed in <strong>{table["mode"]} mode</strong> on {table["measured_at"]}, one after another
in fresh kernels, on {machine["cpus"]} CPUs ({html.escape(machine["cpu"])}), with the load average
between {min(loads):g} and {max(loads):g} (above {machine["cpus"]}, other work slowed the run down);
run time and kernel peak memory as measured in that run.</p>
<table><thead><tr><th>Notebook</th><th>Run time</th><th>Kernel peak memory</th></tr></thead>
<tbody>
{items}
</tbody></table>
</body>
</html>
"""


def main(executed_dir, table_path, site_dir=ROOT / "build" / "site"):
    """Write the site; return the names of the notebooks that could not be included."""
    executed_dir, site_dir = Path(executed_dir), Path(site_dir)
    table = json.loads(Path(table_path).read_text())
    measured = {row["notebook"]: row for row in table["notebooks"]}
    if site_dir.exists():
        shutil.rmtree(site_dir)
    site_dir.mkdir(parents=True)
    rows, missing, gallery_alt = [], [], None
    for source in NOTEBOOKS:
        executed = executed_dir / source.name
        row = measured.get(source.stem)
        if not executed.exists() or row is None or not row["ok"]:
            missing.append(source.stem)
            continue
        notebook = nbformat.read(executed, as_version=4)
        title = title_of(notebook)
        (site_dir / f"{source.stem}.html").write_text(export_page(notebook, title))
        rows.append({"notebook": source.stem, "page": f"{source.stem}.html", "title": title,
                     "run_time": format_seconds(row["wall_seconds"]),
                     "peak_memory": f"{row['peak_rss_mb']} MB"})
        if source.stem == GALLERY_NOTEBOOK:
            gallery_alt = gallery_alt_text(notebook)
            shutil.copy(GALLERY, site_dir / GALLERY.name)
    (site_dir / "index.html").write_text(index_page(rows, missing, table, gallery_alt))
    manifest = {"mode": table["mode"], "executed_dir": str(executed_dir.resolve()),
                "table": str(Path(table_path).resolve()),
                "pages": [row["page"] for row in rows], "missing": missing,
                "gallery": GALLERY.name if gallery_alt else None}
    (site_dir / "site.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"site: {len(rows)} notebook pages and index.html in {site_dir}")
    if missing:
        print(f"site: not executed or failed, so left out: {', '.join(missing)}", file=sys.stderr)
    return missing


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__.splitlines()[2])
    sys.exit(1 if main(*sys.argv[1:]) else 0)
