"""The web app in a real browser: headless Chromium (Playwright) against a real uvicorn server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from sourcebook import api
from sourcebook.web.app import WebConfig
from tests import mediagen as mg
from tests.test_tools_registry import make_task_folder
from tests.webserver import browser_or_skip, screenshot_dir, serve

pytestmark = pytest.mark.slow
XSS_NAME = '<img src=x onerror="window.__xss=1">.md'
XSS_TEXT = ('Battery pilots <script>window.__xss=2</script> cut the evening peak by 18 percent. '
            '<img src=x onerror="window.__xss=3"> Storage costs fell by 40 percent in three years.')


@pytest.fixture(scope="module")
def browser():
    pw, b = browser_or_skip()
    yield b
    b.close()
    pw.stop()


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_LLM__MODEL", "")


def _page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return ctx, page, dialogs


def test_upload_run_watch_live_and_open_a_citation(env, browser, tmp_path: Path,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    shots = screenshot_dir(tmp_path_factory)
    folder = make_task_folder(tmp_path / "src")
    files = [str(folder / "notes.md"), str(folder / "sub" / "field.txt"), str(folder / "paper.pdf")]
    with serve(WebConfig(runs_dir=tmp_path / "runs")) as base:
        ctx, page, dialogs = _page(browser)
        page.goto(f"{base}/new")
        page.fill("#request", "Write a short report on community battery storage: the pilot results and costs.")
        page.set_input_files("#files", files)
        page.check("#no_llm")
        page.click("#start")
        page.wait_for_url(f"{base}/runs/*")
        # the run page opens while the run goes and follows it live (server-sent events)
        assert page.get_attribute("#summary", "data-status") == "running"
        page.wait_for_selector("#progress li", timeout=60_000)
        page.screenshot(path=str(shots / "run-live.png"), full_page=True)
        page.wait_for_selector("#report-link", timeout=180_000)  # the page reloads once the run is done
        assert page.inner_text("#status") == "done"
        live = page.evaluate("document.querySelectorAll('.timeline .stage').length")
        assert live >= 2
        page.screenshot(path=str(shots / "run-done.png"), full_page=True)
        # the uploaded files became the run's task folder
        (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
        assert page.url.endswith("/runs/" + quote(run_dir.name))
        info = api.show_run(run_dir)
        assert info["status"] == "done" and Path(info["folder"]).parent == (tmp_path / "runs" / ".uploads")
        assert sorted(p.name for p in Path(info["folder"]).iterdir()) == ["field.txt", "notes.md", "paper.pdf"]

        page.click("#report-link")
        page.wait_for_selector("a.cite")
        cites = page.locator("a.cite")
        assert cites.count() >= 1
        cites.first.click()
        mark = page.wait_for_selector("#cite-panel mark.aligned", timeout=30_000)
        assert mark.is_visible() and len(mark.inner_text().strip()) > 5
        claim = page.inner_text("#cite-panel .claim")
        assert claim.startswith("claim") and len(claim) > 10
        assert page.locator("#cite-panel .verdict").count() >= 1
        assert page.locator("a.cite.active").count() == 1
        page.screenshot(path=str(shots / "report-citation.png"), full_page=True)
        # downloads of the report files
        for name in ("report.md", "report.html", "report.docx", "compliance.json"):
            assert page.locator(f"a.download[href$='/files/{name}']").count() == 1
        resp = page.request.get(page.locator("a.download[href$='/files/compliance.json']").get_attribute("href")
                                .replace("/runs", f"{base}/runs", 1))
        assert resp.status == 200 and "checks" in resp.json()
        assert not dialogs
        ctx.close()


def test_evidence_browser_finds_a_video_passage_and_shows_its_keyframe(
        env, browser, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    shots = screenshot_dir(tmp_path_factory)
    folder = tmp_path / "media"
    folder.mkdir()
    frames = [(mg.slide("WIND FARM OUTPUT\nrose 27 percent in 2024"), 3.0),
              (mg.slide("SOLAR ROOFTOPS\nthree thousand homes", bg=(230, 240, 255)), 3.0)]
    mg.write_video(folder / "briefing.mp4", frames)
    (folder / "notes.md").write_text("# Notes\n\nThe briefing video covers wind and solar output.\n",
                                     encoding="utf-8")
    with serve(WebConfig(runs_dir=tmp_path / "runs")) as base:
        ctx, page, dialogs = _page(browser)
        # a server-side folder this time
        page.goto(f"{base}/new")
        page.fill("#request", "Summarise the wind farm output.")
        page.fill("#folder", str(folder))
        page.click("#start")
        page.wait_for_url(f"{base}/runs/*")
        page.wait_for_selector("#report-link", timeout=240_000)
        page.click("text=evidence browser")
        page.fill("#q", "rose 27 percent")
        page.select_option("#kind", "video")
        page.click("button[type=submit]")
        hit = page.wait_for_selector(".hit.kind-video a.hit-link")
        assert "briefing.mp4" in hit.inner_text()
        hit.click()
        img = page.wait_for_selector("img.media")
        page.wait_for_function("document.querySelector('img.media').complete")
        width = page.evaluate("document.querySelector('img.media').naturalWidth")
        assert width > 100  # the keyframe really loaded
        text = page.inner_text(".passage-text")
        assert "WIND" in text.upper()
        assert "00:0" in page.inner_text(".passage-head")  # the timestamp of the scene
        assert img.get_attribute("src").endswith("/media/" + page.get_attribute(".passage", "data-pid"))
        page.screenshot(path=str(shots / "evidence-video.png"), full_page=True)
        assert not dialogs
        ctx.close()


def test_xss_and_traversal_attempts_fail_in_the_browser(env, browser, tmp_path: Path,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    shots = screenshot_dir(tmp_path_factory)
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / XSS_NAME).write_text(f"# <b>bold</b> title <script>window.__xss=4</script>\n\n{XSS_TEXT}\n",
                                   encoding="utf-8")
    request = 'Report on battery pilots <img src=x onerror="window.__xss=5"> and costs.'
    out = api.run(folder, request, runs_dir=tmp_path / "runs", settings=api.make_settings(no_llm=True))
    rid = out.run_dir.path.name
    (out.run_dir.path / "leak").symlink_to("/etc/hostname")
    with serve(WebConfig(runs_dir=tmp_path / "runs")) as base:
        ctx, page, dialogs = _page(browser)
        for url in ("/", f"/runs/{rid}", f"/runs/{rid}/report", f"/runs/{rid}/evidence?q=battery+pilots"
                    "&file=" + XSS_NAME.replace('"', "%22")):
            page.goto(base + url)
            assert page.evaluate("window.__xss") is None, url
        page.goto(f"{base}/runs/{rid}/report")
        page.locator("a.cite").first.click()
        page.wait_for_selector("#cite-panel .passage")
        panel = page.inner_text("#cite-panel")
        assert "<script>window.__xss" in panel or "<img src=x" in panel  # shown as text, not run
        assert page.evaluate("window.__xss") is None and page.evaluate("document.scripts.length") == 1
        page.goto(f"{base}/runs/{rid}/evidence?q=battery")
        assert XSS_NAME in page.inner_text(".hits")
        assert page.evaluate("window.__xss") is None
        page.screenshot(path=str(shots / "xss-escaped.png"), full_page=True)
        for bad in (f"/runs/{rid}/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd", f"/runs/{rid}/files/leak",
                    "/runs/..%2F..%2F..%2Fetc/files/passwd", f"/runs/{rid}/files/%2Fetc%2Fpasswd",
                    "/static/..%2F..%2Fapi.py"):
            resp = page.goto(base + bad)
            assert resp.status == 404, bad
            assert "root:" not in page.content()
        assert not dialogs
        ctx.close()


def test_timeline_of_a_model_run(env, browser, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from sourcebook.llm.scripted import ScriptedServer

    shots = screenshot_dir(tmp_path_factory)
    folder = make_task_folder(tmp_path / "src")
    turns = [{"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "<b>储能</b>"}}]},
             {"tool_calls": [{"server": "tool-reader", "name": "read_file", "arguments": {"path": "absent.pdf"}}]},
             {"text": "储能总结：社区储能电站可以平滑屋顶光伏的出力波动。"}]
    with ScriptedServer(turns) as srv:
        settings = api.make_settings("scripted", srv.openai_base_url)
        out = api.run(folder, "总结社区储能", runs_dir=tmp_path / "runs", settings=settings, build_report=False)
        served = list(srv.served)
    info = api.show_run(out.run_dir.path)
    assert info["tokens"]["total"] == sum(s.prompt_tokens + s.completion_tokens for s in served)
    with serve(WebConfig(runs_dir=tmp_path / "runs")) as base:
        ctx, page, dialogs = _page(browser)
        page.goto(f"{base}/runs/{quote(out.run_dir.path.name)}")
        assert page.locator(".turn").count() == 3
        heads = page.locator(".turn-head").all_inner_texts()
        assert all("prompt +" in h and "completion tokens" in h for h in heads)
        assert f"{info['tokens']['total']:,}" == page.inner_text("#tokens")
        bad = page.locator("details.call.error")
        assert bad.count() == 1 and "absent.pdf" in bad.inner_text()
        assert bad.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(221, 0, 0)"
        first = page.locator("details.call").first
        assert not first.locator(".args").is_visible()  # collapsed until opened
        first.locator("summary").click()
        assert first.locator(".args").is_visible() and "<b>储能</b>" in first.locator(".args").inner_text()
        assert "passage_id" in first.locator(".result").inner_text()
        assert page.locator("tr.has-errors").count() == 1
        page.screenshot(path=str(shots / "timeline.png"), full_page=True)
        assert not dialogs
        ctx.close()
