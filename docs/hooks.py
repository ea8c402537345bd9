"""mkdocs hooks: the pages' generated parts, read from the repository at build time.

Markers a page may hold (each on a line of its own):

* ``<!-- config: jaxrl.deep.dqn.DQNConfig -->``: the config's fields as a table (field,
  default, compiled or swept, the docstring's text), read by :mod:`jaxrl.cli.schema`,
  the parser of ``jaxrl train ALGO --help``, and the defaults from the class itself.
* ``<!-- presets: dqn -->``: the learner's presets (:data:`jaxrl.presets.PRESETS`), each
  with the fields where it differs from the learner's defaults.
* ``<!-- include: benchmarks/RESULTS.md shift=1 -->``: a file of the repository, its
  headings moved down ``shift`` levels, its relative links rewritten for the site
  (images copied in under ``assets/``, other files shown as their repository path).
* ``<!-- gpu: table -->``: the GPU figures' table of ``benchmarks/report.py``, from the
  merged JSON of a ``benchmarks/run_all.py --gpu`` run in ``benchmarks/results/``
  (every figure marked "not rerun" where there is none).

Tutorial pages missing from ``docs/`` are left out of the navigation (another part of
the site writes them), so that the strict build does not depend on them.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import math
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!--\s*(config|presets|include|gpu):\s*(\S+)\s*(.*?)\s*-->\s*$", re.M)
FENCE = re.compile(r"(^```.*?^```[ \t]*$)", re.M | re.S)
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
#: Where included images go in the site.
ASSETS = "assets"
OPTIONAL = "tutorial/"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Drop the navigation's tutorial pages that are not written yet."""
    docs = Path(config["docs_dir"])

    def keep(item: Any) -> Any:
        if isinstance(item, str):
            return None if item.startswith(OPTIONAL) and not (docs / item).exists() else item
        if isinstance(item, dict):
            out = {}
            for title, value in item.items():
                kept = keep(value)
                if kept not in (None, []):
                    out[title] = kept
            return out or None
        if isinstance(item, list):
            return [k for k in (keep(i) for i in item) if k is not None]
        return item

    if config["nav"]:
        config["nav"] = keep(config["nav"])
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Copy into the site the images that included files show."""
    for source in _included_images():
        uri = f"{ASSETS}/{source}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(ROOT / source)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each marker of the page by what it names (outside fenced code blocks)."""

    def expand(match: re.Match[str]) -> str:
        kind, what, options = match.groups()
        if kind == "config":
            return config_table(what)
        if kind == "presets":
            return presets_table(what)
        if kind == "gpu":
            return gpu_table()
        shift = int(dict(_options(options)).get("shift", "0"))
        return include(what, page.file.src_uri, shift)

    parts = FENCE.split(markdown)  # the fenced code blocks at odd indices, left alone
    return "".join(part if i % 2 else MARKER.sub(expand, part) for i, part in enumerate(parts))


# -- configs ---------------------------------------------------------------------------


def config_table(path: str) -> str:
    """A markdown table of the config class at ``path`` (``module.Class``)."""
    from jaxrl.cli import schema

    module, name = path.rsplit(".", 1)
    fields = schema.fields(module, name)
    defaults = _defaults(getattr(importlib.import_module(module), name)())
    rows = ["| field | default | kind | what |", "|---|---|---|---|"]
    for field in fields.values():
        kind = "compiled" if field.static else "swept"
        rows.append(f"| `{field.name}` | {_code(defaults[field.name])} | {kind} | "
                    f"{_cell(field.help)} |")
    note = ("*compiled*: a static field (a size, count, name or switch), one program per "
            "value; *swept*: a pytree leaf, which a sweep varies inside one program.")
    return "\n".join(rows) + "\n\n" + note + "\n"


def presets_table(algo: str) -> str:
    """A markdown table of ``algo``'s presets: environment, what it is, the fields it
    changes from the learner's defaults."""
    from jaxrl import presets

    learner = presets.LEARNERS[algo]
    module = learner.load()
    base = _defaults(learner.default_config())
    rows = ["| `--env` | preset | fields changed from the defaults |", "|---|---|---|"]
    for (name, env), (text, build) in presets.PRESETS.items():
        if name != algo:
            continue
        changed = {k: v for k, v in _defaults(build(module)).items() if v != base[k]}
        shown = ", ".join(f"`{k}={_value(v)}`" for k, v in changed.items()) or "none"
        rows.append(f"| `{env}` | {_cell(text)} | {shown} |")
    return ("\n".join(rows) + f"\n\n`jaxrl train {algo} --env ENV` starts from the preset of "
            "ENV; an environment with no preset starts from the defaults with `env` set.\n")


def _defaults(config: Any) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def _value(value: Any) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        text = f"{value:g}"
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return ",".join(f"{k}={_value(v)}" for k, v in value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) if value else "()"
    return str(value)


def _code(value: Any) -> str:
    return f"`{_value(value)}`"


def _cell(text: str) -> str:
    """Docstring text for a table cell: reST roles and double backticks as markdown."""
    text = re.sub(r":\w+:`~?([\w.]+)`", r"`\1`", text)
    return text.replace("``", "`").replace("|", "\\|")


# -- benchmarks ------------------------------------------------------------------------


def gpu_table() -> str:
    """``benchmarks/report.py``'s GPU table from the newest GPU run's merged JSON."""
    spec = importlib.util.spec_from_file_location("jaxrl_bench_report",
                                                  ROOT / "benchmarks" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    runs = []
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        device = data.get("device") if isinstance(data, dict) else None
        if isinstance(device, dict) and device.get("backend") == "gpu" and \
                "benchmarks" in data and "device_slug" in data:
            runs.append((str(data.get("date", "")), path, data))
    if not runs:
        return report.gpu_table(None)
    _, path, merged = max(runs, key=lambda run: run[0])
    return report.gpu_table(merged, str(path.relative_to(ROOT)))


# -- included files --------------------------------------------------------------------


def _options(text: str) -> list[tuple[str, str]]:
    return [tuple(part.split("=", 1)) for part in text.split() if "=" in part]


def include(path: str, page_uri: str, shift: int = 0) -> str:
    """The repository file ``path`` as markdown for the page ``page_uri``."""
    source = ROOT / path
    text = source.read_text()
    if shift:
        text = re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + shift) + " ", text,
                      flags=re.M)
    here = posixpath.dirname(path)
    page_dir = posixpath.dirname(page_uri)

    def link(match: re.Match[str]) -> str:
        bang, label, target = match.groups()
        if "://" in target or target.startswith(("#", "mailto:")):
            return match.group(0)
        repo_path = posixpath.normpath(posixpath.join(here, target.split("#")[0]))
        if bang and not (ROOT / repo_path).exists():
            return f"*(the figure `{repo_path}` is not in the repository)*"
        if bang:
            asset = posixpath.relpath(f"{ASSETS}/{repo_path}", page_dir or ".")
            return f"![{label}]({asset})"
        docs_page = _docs_page(repo_path)
        if docs_page:
            return f"[{label}]({posixpath.relpath(docs_page, page_dir or '.')})"
        return f"{label} (`{repo_path}`)" if label.strip("`") != repo_path else f"`{repo_path}`"

    return LINK.sub(link, text)


def _docs_page(repo_path: str) -> str | None:
    """The site page that includes a repository file, where one does."""
    return {"ARCHITECTURE.md": "architecture.md", "CHANGELOG.md": "changelog.md",
            "benchmarks/RESULTS.md": "benchmarks.md"}.get(repo_path)


def _included_images() -> list[str]:
    """The repository paths of the images that the included files show."""
    out = []
    for path in ("benchmarks/RESULTS.md", "ARCHITECTURE.md", "CHANGELOG.md"):
        source = ROOT / path
        if not source.exists():
            continue
        for bang, _, target in LINK.findall(source.read_text()):
            if bang and "://" not in target:
                image = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
                if (ROOT / image).exists():
                    out.append(image)
    return out
