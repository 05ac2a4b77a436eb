"""Tool registry: schemas from typed functions, validation, deadlines, errors as text, folder confinement,
and the rag/reader tools over a real ingested folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.tools.builtin import build_registry
from sourcebook.tools.reader import parse_ranges
from sourcebook.tools.registry import ToolError, ToolRegistry, confine_path, parse_docstring, schema_for


def make_task_folder(root: Path) -> Path:
    """A small task folder: markdown, text and a 4-page PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder = root / "task"
    folder.mkdir(parents=True)
    (folder / "notes.md").write_text(
        "# 社区储能\n\n社区储能电站可以平滑屋顶光伏的出力波动。2023年试点项目装机容量为5兆瓦，"
        "覆盖约1200户居民。\n\n## 经济性\n\n储能电池的度电成本在三年内下降了约40%。\n",
        encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "field.txt").write_text(
        "Field survey: rooftop solar with community batteries reduced the evening peak load by 18 percent "
        "in the pilot district. Residents reported fewer outages during the winter storms.", encoding="utf-8")
    c = canvas.Canvas(str(folder / "paper.pdf"), pagesize=A4)
    for i, topic in enumerate(["grid frequency", "battery chemistry", "tariff design", "maintenance"], 1):
        c.drawString(72, 760, f"Page {i}: a study of {topic} for neighbourhood energy storage.")
        c.drawString(72, 740, f"The {topic} results were measured over twelve months in {2019 + i}.")
        c.showPage()
    c.save()
    return folder


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("reg")
    folder = make_task_folder(root)
    settings = get_settings(cache_dir=root / "cache", search={"dense": False})
    report = ingest_folder(folder, settings)
    reg = build_registry(report.store, folder, settings, mount_external=False)
    yield folder, report.store, reg
    reg.close()


# -- schemas ------------------------------------------------------------------------------------------------
def sample(query: str, k: int = 10, pages: str | None = None, diverse: bool = True) -> str:
    """Find things.

    Args:
        query: what to look for.
        k: how many results.
        pages: a range like "3-5".
    """
    return f"{query}|{k}|{pages}|{diverse}"


def test_schema_from_type_hints_and_docstring() -> None:
    desc, schema, validate = schema_for(sample)
    assert desc == "Find things."
    assert schema["type"] == "object"
    assert schema["required"] == ["query"]
    assert schema["properties"]["k"]["type"] == "integer"
    assert schema["properties"]["k"]["default"] == 10
    assert schema["properties"]["query"]["description"] == "what to look for."
    assert schema["properties"]["diverse"]["type"] == "boolean"
    assert "title" not in json.dumps(schema)
    assert validate({"query": "x", "k": "5"}) == {"query": "x", "k": 5, "pages": None, "diverse": True}


def test_parse_docstring_multiline_args() -> None:
    desc, args = parse_docstring("Top line.\n\nMore.\n\nArgs:\n    a: first\n        continued\n    b: second\n\n"
                                 "Returns:\n    nothing")
    assert desc == "Top line.\n\nMore."
    assert args == {"a": "first continued", "b": "second"}


def test_registry_call_validation_errors_and_timeouts() -> None:
    reg = ToolRegistry()

    def slow(seconds: float) -> str:
        """Sleep."""
        time.sleep(seconds)
        return "woke"

    def broken(x: int) -> str:
        """Fail."""
        raise RuntimeError(f"bad {x}")

    reg.add(sample, "tool-test")
    reg.add(slow, "tool-test", timeout_s=0.3)
    reg.add(broken, "tool-test")
    try:
        ok = reg.call("tool-test", "sample", {"query": "q", "k": 3})
        assert ok.ok and ok.text == "q|3|None|True"
        bad = reg.call("tool-test", "sample", {"k": "many"})
        assert not bad.ok and "query" in bad.error and "k" in bad.error
        t0 = time.perf_counter()
        late = reg.call("tool-test", "slow", {"seconds": 3})
        assert time.perf_counter() - t0 < 1.5
        assert not late.ok and "timed out" in late.error
        err = reg.call("tool-test", "broken", {"x": 7})
        assert not err.ok and "RuntimeError: bad 7" in err.text
        unknown = reg.call("tool-test", "nope", {})
        assert not unknown.ok and "unknown tool" in unknown.error
        # a model that forgets the server still reaches a uniquely named tool
        assert reg.call("", "sample", {"query": "z"}).text.startswith("z|")
        specs = {(s.server, s.name) for s in reg.specs()}
        assert ("tool-test", "slow") in specs
    finally:
        reg.close()


# -- confinement --------------------------------------------------------------------------------------------
def test_confine_path_rejects_escapes(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, folder / "link.txt")
    assert confine_path(folder, "a.txt")[1] == "a.txt"
    assert confine_path(folder, "./a.txt")[1] == "a.txt"
    assert confine_path(folder, str(folder / "a.txt"))[1] == "a.txt"
    for bad in ("../secret.txt", "sub/../../secret.txt", str(outside), "/etc/passwd", "link.txt", ""):
        with pytest.raises(ToolError):
            confine_path(folder, bad)


def test_reader_refuses_paths_outside(task) -> None:
    folder, _store, reg = task
    for bad in ("../cache", "/etc/passwd", "../../x"):
        r = reg.call("tool-reader", "read_file", {"path": bad})
        assert not r.ok and ("not allowed" in r.error or "outside" in r.error)


# -- tools over a real store --------------------------------------------------------------------------------
def test_builtin_servers_present(task) -> None:
    _folder, _store, reg = task
    servers = reg.servers()
    assert servers["tool-rag"] == ["rag_search", "rag_get_context", "rag_document_stats"]
    assert servers["tool-reader"] == ["read_file", "convert_to_markdown"]
    assert "tool-reasoning" not in servers  # no reasoning model configured


def test_rag_search_returns_ids_labels_locators(task) -> None:
    _folder, store, reg = task
    r = reg.call("tool-rag", "rag_search", {"query": "储能 装机容量", "k": 5})
    assert r.ok, r.text
    data = json.loads(r.text)
    assert data["hits"], r.text
    top = data["hits"][0]
    assert top["source"] == "notes.md"
    assert top["label"].startswith("[notes.md")
    assert "locator" in top and top["passage_id"] in r.passage_ids
    assert store.get_passage(top["passage_id"]) is not None
    ctx = reg.call("tool-rag", "rag_get_context", {"passage_id": top["passage_id"], "window": 1})
    assert ctx.ok and top["passage_id"] in ctx.passage_ids
    missing = reg.call("tool-rag", "rag_get_context", {"passage_id": "nope"})
    assert not missing.ok and "no passage" in missing.error
    stats = json.loads(reg.call("tool-rag", "rag_document_stats", {}).text)
    assert stats["files"] == 3 and {s["path"] for s in stats["sources"]} == {"notes.md", "paper.pdf",
                                                                             "sub/field.txt"}


def test_read_file_pages_and_markdown(task) -> None:
    _folder, _store, reg = task
    whole = reg.call("tool-reader", "read_file", {"path": "paper.pdf"})
    assert whole.ok and "battery chemistry" in whole.text and "maintenance" in whole.text
    part = reg.call("tool-reader", "read_file", {"path": "paper.pdf", "pages": "2-3"})
    assert part.ok, part.text
    assert "battery chemistry" in part.text and "tariff design" in part.text
    assert "grid frequency" not in part.text and "maintenance" not in part.text
    assert "p. 2" in part.text and part.passage_ids
    none = reg.call("tool-reader", "read_file", {"path": "paper.pdf", "pages": "9"})
    assert not none.ok and "available: 1-4" in none.error
    md = reg.call("tool-reader", "convert_to_markdown", {"path": "paper.pdf", "pages": "4"})
    assert md.ok and md.text.startswith("# ") and "maintenance" in md.text and "tariff" not in md.text
    nested = reg.call("tool-reader", "read_file", {"path": "sub/field.txt"})
    assert nested.ok and "18 percent" in nested.text
    bare = reg.call("tool-reader", "read_file", {"path": "field.txt"})  # unique bare name resolves
    assert bare.ok and "18 percent" in bare.text
    missing = reg.call("tool-reader", "read_file", {"path": "nothing.pdf"})
    assert not missing.ok and "notes.md" in missing.error


def test_parse_ranges() -> None:
    assert parse_ranges("3-5") == [(3, 5)]
    assert parse_ranges("1, 4-6") == [(1, 1), (4, 6)]
    assert parse_ranges("5-3") == [(3, 5)]
    assert parse_ranges(None) is None and parse_ranges(" ") is None
    assert parse_ranges("Sheet1") == []
