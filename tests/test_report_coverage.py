"""Every usable input file is cited, by construction: also when the length range is tight, and when a
file only quotes sentences another file states too."""

from __future__ import annotations

from pathlib import Path

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.report.citations import cited_ids
from sourcebook.report.pipeline import build_report
from tests.report_corpus import ZH_FILES, make_folder


def _run(tmp: Path, files: dict[str, str], request: str):
    settings = get_settings(cache_dir=tmp / "cache")
    ingest = ingest_folder(make_folder(tmp / "folder", files), settings)
    res = build_report(ingest.store, request, settings, tmp / "run")
    return ingest, res


def _cited_sources(ingest, res) -> set[str]:
    out = set()
    for sec in res.draft.sections:
        for pid in cited_ids(sec.body):
            p = ingest.store.get_passage(pid)
            if p is not None:
                out.add(p.source)
    return out


def _check(res, name):
    return next(c for c in res.checks if c.name == name)


def test_tight_length_still_cites_every_file(tmp_path):
    request = ("请根据提供的资料撰写一篇《城市交通简报》，包含以下部分：（1）现状；（2）问题；（3）参考资料。"
               "全文字数在260至360字之间，不要分点。")
    ingest, res = _run(tmp_path, ZH_FILES, request)
    assert _cited_sources(ingest, res) == set(ZH_FILES)
    assert _check(res, "inputs_cited").passed is True
    assert _check(res, "length").passed is True, _check(res, "length")


def test_file_quoting_another_is_cited(tmp_path):
    base = ZH_FILES["能源转型.md"]
    # the digest states nothing of its own: every sentence is a verbatim quotation of the main file
    quoted = "电网企业加快建设特高压输电通道，把西部的清洁电力送往东部负荷中心。储能电站的建设成本在五年内下降了近一半，使峰谷调节更加灵活。"
    files = {"能源转型.md": base, "摘录.md": quoted, "城市交通.md": ZH_FILES["城市交通.md"]}
    request = "请根据提供的资料撰写一篇关于能源转型与储能的报告，包含（1）背景；（2）分析；（3）参考资料。全文字数在300至500字之间。"
    ingest, res = _run(tmp_path, files, request)
    assert _cited_sources(ingest, res) == set(files)
    assert _check(res, "inputs_cited").passed is True
    assert _check(res, "claims_grounded").passed is True
