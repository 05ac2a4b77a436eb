"""Web app safety against a real uvicorn server: Host and token rules, CSRF, path confinement (traversal,
symlinks), upload limits (size, file count, zip bombs, zip paths), escaping of hostile strings."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import httpx
import pytest

from sourcebook import api
from sourcebook.errors import InputError
from sourcebook.web.app import WebConfig
from sourcebook.web.cli import web_config
from sourcebook.web.security import PathError, confined, is_loopback
from sourcebook.web.uploads import UploadLimits, extract_zip, safe_name, save_uploads
from tests.docgen import make_zip_bomb
from tests.webserver import serve

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE_NAME = '<img src=x onerror=alert(1)>.md'


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_LLM__MODEL", "")


@pytest.fixture()
def run(env, tmp_path: Path) -> Path:
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / HOSTILE_NAME).write_text(f"# {HOSTILE}\n\nCommunity batteries cut the evening peak by 18 percent. "
                                          f"{HOSTILE}\n", encoding="utf-8")
    out = api.run(folder, f"Report on community batteries {HOSTILE}", runs_dir=tmp_path / "runs",
                  settings=api.make_settings(no_llm=True))
    return out.run_dir.path


def _csrf(client: httpx.Client, base: str) -> str:
    form = client.get(f"{base}/new")
    assert form.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)


# -- pure functions ---------------------------------------------------------------------------------------------
def test_confined_rejects_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.txt").write_text("ok")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    (root / "dirlink").symlink_to(tmp_path)
    assert confined(root, "sub/ok.txt") == (root / "sub" / "ok.txt").resolve()
    for bad in ("../secret.txt", "sub/../../secret.txt", "/etc/passwd", "link", "dirlink/secret.txt", "", "a\x00b",
                "C:/Windows"):
        with pytest.raises(PathError):
            confined(root, bad)


def test_loopback_detection() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.com", "127.0.0.1.evil.com"):
        assert not is_loopback(host), host


def test_web_config_requires_a_token_off_loopback(tmp_path: Path) -> None:
    config, url = web_config("127.0.0.1", 8000, tmp_path, None)
    assert config.token is None and config.loopback and url == "http://127.0.0.1:8000/"
    config, url = web_config("0.0.0.0", 8000, tmp_path, None)
    assert config.token and len(config.token) >= 24 and not config.loopback and url.endswith(f"?token={config.token}")
    config, _ = web_config("::", 9000, tmp_path, "fixed-token-value")
    assert config.token == "fixed-token-value"


def test_safe_names_and_zip_limits(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\x\\..\\evil.txt") == "evil.txt"
    assert safe_name('a<b>"c".md') == "a_b__c_.md"
    for bad in ("..", ".", "", "/"):
        with pytest.raises(InputError):
            safe_name(bad)
    limits = UploadLimits(max_zip_bytes=10 * 1024**2, max_zip_members=5)
    bomb = make_zip_bomb(tmp_path / "bomb.zip", size=8 * 1024**2)
    with pytest.raises(InputError, match="bomb.zip: compression ratio .* zip bomb"):
        extract_zip(bomb, tmp_path / "x", limits)
    big = make_zip_bomb(tmp_path / "big.zip", size=20 * 1024**2)
    with pytest.raises(InputError, match="big.zip: expands to"):
        extract_zip(big, tmp_path / "y", limits)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(6):
            z.writestr(f"f{i}.txt", "x")
    with pytest.raises(InputError, match="6 files in the zip; at most 5"):
        extract_zip(many, tmp_path / "z", limits)
    for member in ("../evil.txt", "/abs.txt", "a/../../evil.txt"):
        z_path = tmp_path / "trav.zip"
        with zipfile.ZipFile(z_path, "w") as z:
            z.writestr(member, "pwned")
        with pytest.raises(InputError, match="leaves the folder"):
            extract_zip(z_path, tmp_path / "t", limits)
        assert not (tmp_path / "evil.txt").exists()
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as z:
        info = zipfile.ZipInfo("passwd")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    with pytest.raises(InputError, match="symbolic links"):
        extract_zip(link, tmp_path / "l", limits)
    # a failed upload leaves nothing behind
    with pytest.raises(InputError, match="exceeds 10 bytes"):
        save_uploads([("a.txt", io.BytesIO(b"0123456789abc"))], tmp_path / "up", UploadLimits(max_bytes=10))
    assert list((tmp_path / "up").iterdir()) == []


# -- the running server ------------------------------------------------------------------------------------------
def test_host_header_and_token(run: Path, tmp_path: Path) -> None:
    with serve(WebConfig(runs_dir=run.parent)) as base, httpx.Client() as c:
        assert c.get(f"{base}/").status_code == 200
        assert c.get(f"{base}/", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding
    with serve(WebConfig(runs_dir=run.parent, token="t0ken-abcdefghijklmnop", loopback=False)) as base:
        with httpx.Client() as c:
            assert c.get(f"{base}/").status_code == 401
            assert c.get(f"{base}/?token=wrong").status_code == 401
            assert c.get(f"{base}/runs/{run.name}/files/report.md").status_code == 401
            assert c.get(f"{base}/", headers={"Authorization": "Bearer t0ken-abcdefghijklmnop"}).status_code == 200
        with httpx.Client(follow_redirects=True) as c:
            r = c.get(f"{base}/?token=t0ken-abcdefghijklmnop")
            assert r.status_code == 200 and "token=" not in str(r.url)
            assert c.get(f"{base}/runs/{run.name}/files/report.md").status_code == 200  # the cookie carries it


def test_file_serving_is_confined(run: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("TOP-SECRET")
    (run / "evil").symlink_to(tmp_path / "outside.txt")
    (run / "evidence" / "evil.jpg").symlink_to(tmp_path / "outside.txt")
    (run.parent / "linked-run").symlink_to(tmp_path / "task")  # a run-looking symlink to elsewhere
    with serve(WebConfig(runs_dir=run.parent)) as base, httpx.Client() as c:
        assert c.get(f"{base}/runs/{run.name}/files/report.md").status_code == 200
        assert c.get(f"{base}/runs/{run.name}/files/evidence").status_code == 404
        for bad in (f"/runs/{run.name}/files/evil", f"/runs/{run.name}/files/evidence/evil.jpg",
                    f"/runs/{run.name}/files/..%2F..%2Foutside.txt", f"/runs/{run.name}/files/%2Fetc%2Fpasswd",
                    f"/runs/{run.name}/files/../../outside.txt", "/runs/..%2Foutside.txt/files/x",
                    "/runs/linked-run/report", "/runs/.uploads/report", f"/runs/{run.name}/media/..%2F..",
                    f"/runs/{run.name}/passage/nope", "/static/..%2F..%2F..%2Fapi.py"):
            r = c.get(base + bad)
            assert r.status_code == 404, bad
            assert "TOP-SECRET" not in r.text and "root:" not in r.text


def test_hostile_strings_are_escaped(run: Path) -> None:
    with serve(WebConfig(runs_dir=run.parent)) as base, httpx.Client() as c:
        refs = (run / "references.json").read_text(encoding="utf-8")
        assert "passage_ids" in refs
        pages = [f"/runs/{run.name}", f"/runs/{run.name}/report", f"/runs/{run.name}/cite/1?claim={HOSTILE}",
                 f"/runs/{run.name}/evidence?q=batteries", f"/runs/{run.name}/evidence?q={HOSTILE}", "/"]
        for url in pages:
            r = c.get(base + url)
            assert r.status_code == 200, url
            assert "<script>alert" not in r.text and "<img src=x" not in r.text, url
            assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "&lt;script&gt;alert" in c.get(f"{base}/runs/{run.name}/evidence?q=batteries").text


def test_form_needs_csrf_and_enforces_upload_limits(env, tmp_path: Path) -> None:
    limits = UploadLimits(max_files=3, max_bytes=64 * 1024, max_zip_bytes=16 * 1024**2)
    runs = tmp_path / "runs"
    with serve(WebConfig(runs_dir=runs, limits=limits)) as base, httpx.Client() as c:
        files = [("files", ("a.md", b"# A\n\nBatteries.\n", "text/markdown"))]
        data = {"request": "Report on batteries", "no_llm": "1"}
        r = c.post(f"{base}/runs", data=data, files=files)
        assert r.status_code == 403 and "CSRF" in r.text
        token = _csrf(c, base)
        r = c.post(f"{base}/runs", data={**data, "csrf": "0" * 64}, files=files)
        assert r.status_code == 403
        other = httpx.Client()
        foreign = _csrf(other, base)  # a token of another session does not fit this one
        other.close()
        r = c.post(f"{base}/runs", data={**data, "csrf": foreign}, files=files)
        assert r.status_code == 403
        r = c.post(f"{base}/runs", data={**data, "csrf": token}, files=files,
                   headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "cross-origin" in r.text
        # limits: too many files, too many bytes, a zip bomb, a zip leaving the folder
        many = [("files", (f"f{i}.md", b"x", "text/plain")) for i in range(4)]
        r = c.post(f"{base}/runs", data={**data, "csrf": token}, files=many)
        assert r.status_code == 400 and "4 files uploaded; at most 3" in r.text
        big = [("files", ("big.txt", b"x" * (80 * 1024), "text/plain"))]
        r = c.post(f"{base}/runs", data={**data, "csrf": token}, files=big)
        assert r.status_code == 400 and "big.txt: the upload exceeds 65,536 bytes" in r.text
        huge = [("files", ("huge.txt", b"x" * (2 * 1024**2), "text/plain"))]
        r = c.post(f"{base}/runs", data={**data, "csrf": token}, files=huge)
        assert r.status_code == 413
        bomb = make_zip_bomb(tmp_path / "bomb.zip", size=8 * 1024**2)
        r = c.post(f"{base}/runs", data={**data, "csrf": token},
                   files=[("files", ("bomb.zip", bomb.read_bytes(), "application/zip"))])
        assert r.status_code == 400 and "bomb.zip" in r.text and "zip bomb" in r.text
        trav = io.BytesIO()
        with zipfile.ZipFile(trav, "w") as z:
            z.writestr("../../escape.md", "# x")
        r = c.post(f"{base}/runs", data={**data, "csrf": token},
                   files=[("files", ("t.zip", trav.getvalue(), "application/zip"))])
        assert r.status_code == 400 and "leaves the folder" in r.text
        assert not list(runs.glob("*/escape.md")) and not (tmp_path / "escape.md").exists()
        r = c.post(f"{base}/runs", data={"request": "x", "csrf": token, "folder": str(tmp_path / "absent")})
        assert r.status_code == 400 and "absent: no such folder" in r.text
        r = c.post(f"{base}/runs", data={"request": " ", "csrf": token, "folder": str(tmp_path)})
        assert r.status_code == 400 and "the request is empty" in r.text
        assert not [p for p in runs.iterdir() if not p.name.startswith(".")]  # no run started by any of these
        assert list((runs / ".uploads").iterdir()) == [] if (runs / ".uploads").exists() else True
        # and a good upload with a zip starts a run
        good = io.BytesIO()
        with zipfile.ZipFile(good, "w") as z:
            z.writestr("docs/notes.md", "# Notes\n\nCommunity batteries cut the evening peak by 18 percent.\n")
        r = c.post(f"{base}/runs", data={**data, "csrf": token},
                   files=[("files", ("pack.zip", good.getvalue(), "application/zip"))])
        assert r.status_code == 303 and r.headers["location"].startswith("/runs/")
        folder = next((runs / ".uploads").iterdir())
        assert (folder / "pack" / "docs" / "notes.md").is_file()
