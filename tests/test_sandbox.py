"""The sandboxed Python worker: computing, state, errors as text, charts with provenance, and escape attempts
that must be blocked or limited while the session keeps working."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from sourcebook.sandbox import Limits, PythonSandbox
from sourcebook.sandbox.isolation import bwrap_problem

PROJECT = Path(__file__).resolve().parents[1]
needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")

LIMITS = Limits(cpu_s=60, memory_mb=1536, processes=24, file_mb=8, tmp_mb=32, timeout_s=30.0,
                max_output_chars=4000)


def _data(tmp: Path) -> Path:
    data = tmp / "data"
    data.mkdir()
    lines = ["日期,城市,确诊"] + [f"2022-04-{d:02d},{'上海' if d % 2 else '北京'},{d * 10 + (d % 3)}"
                                   for d in range(1, 31)]
    (data / "cases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for p in (tmp, data):
        p.chmod(0o755)
    (data / "cases.csv").chmod(0o644)
    return data


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandbox")
    data = _data(tmp)
    sb = PythonSandbox(data, tmp / "out", LIMITS)
    yield sb
    sb.close()


def test_computes_keeps_state_and_returns_values(box):
    r = box.run(f"import pandas as pd\ndf = pd.read_csv('{box.data_path}/cases.csv')\ntotal = int(df['确诊'].sum())\n"
                "print('rows', len(df))\ntotal")
    assert r.ok, r.error
    expected = sum(d * 10 + (d % 3) for d in range(1, 31))
    assert r.value == str(expected)
    assert "rows 30" in r.stdout
    r2 = box.run("total * 2")
    assert r2.value == str(2 * expected), "state must persist between calls"


def test_errors_come_back_as_text(box):
    r = box.run("x = 1\nundefined_name + x")
    assert not r.ok
    assert "NameError" in r.error and "undefined_name" in r.error and "<cell" in r.error
    assert "worker.py" not in r.error
    r = box.run("def f(:\n  pass")
    assert not r.ok and "SyntaxError" in r.error
    assert box.run("x + 1").value == "2", "a failed cell keeps the state of the lines that ran"
    r = box.run("import sys\nsys.exit(3)")
    assert not r.ok and "SystemExit: 3" in r.error and box.run("x").value == "1"


def test_saved_chart_has_provenance(box):
    code = ("import matplotlib.pyplot as plt\n"
            f"d = pd.read_csv('{box.data_path}/cases.csv', parse_dates=['日期'])\n"
            "fig, ax = plt.subplots()\nax.plot(d['日期'], d['确诊'], label='确诊')\nax.set_title('四月确诊')\n"
            "fig.savefig('trend.png')")
    r = box.run(code)
    assert r.ok, r.error
    png = Path(box.out_dir) / "trend.png"
    assert str(png) in r.files and png.read_bytes()[:4] == b"\x89PNG"
    (fig,) = r.figures
    assert fig["path"] == str(png)
    assert fig["code"] == code
    assert fig["inputs"][0]["file"] == "cases.csv" and "确诊" in fig["inputs"][0]["columns"]
    assert "四月确诊" in fig["summary"]
    assert "max 300 at 2022-04-30" in fig["summary"] and "first 11" in fig["summary"]


@needs_bwrap
def test_sees_no_secrets_and_runs_unprivileged(box):
    code = (
        "import os\nout = {}\n"
        f"for p in ['/etc/shadow', '/root/.ssh/id_rsa', os.path.expanduser('~/.ssh/id_rsa'), "
        f"'{PROJECT}/.env', '{PROJECT}/pyproject.toml', '{PROJECT}/src/sourcebook/config.py']:\n"
        "    try:\n        open(p).read(); out[p] = 'READ'\n"
        "    except OSError as e:\n        out[p] = type(e).__name__\n"
        "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
        "(out, os.getuid(), caps, sorted(k for k in os.environ if 'KEY' in k or 'TOKEN' in k))")
    os.environ["SOURCEBOOK_TEST_API_KEY"] = "sk-should-not-leak"
    try:
        r = box.run(code)
    finally:
        del os.environ["SOURCEBOOK_TEST_API_KEY"]
    assert r.ok, r.error
    assert "READ" not in r.value
    out, uid, caps, keys = eval(r.value)  # noqa: S307 - our own repr
    assert uid != 0 and caps == "0000000000000000" and keys == []


@needs_bwrap
def test_writes_outside_the_output_dir_fail(box, tmp_path):
    target = tmp_path / "escaped.txt"
    code = ("res = []\n"
            f"for p in ['{box.data_path}/new.csv', '{target}', '/usr/evil', '/etc/passwd']:\n"
            "    try:\n        open(p, 'w').write('x'); res.append('WROTE ' + p)\n"
            "    except OSError as e:\n        res.append(type(e).__name__)\nres")
    r = box.run(code)
    assert r.ok, r.error
    assert "WROTE" not in r.value
    assert not target.exists() and not (box.data_dir / "new.csv").exists()


@needs_bwrap
def test_no_network_even_to_loopback(box):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(3)
    port = srv.getsockname()[1]
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(_accept(srv)))
    t.start()
    r = box.run(f"import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect_ex(('127.0.0.1', {port}))")
    t.join()
    srv.close()
    assert r.ok, r.error
    assert r.value != "0", "the sandbox reached a port on the host's loopback"
    assert got == [None]


def _accept(srv: socket.socket) -> object:
    try:
        conn, _ = srv.accept()
        conn.close()
        return "connected"
    except TimeoutError:
        return None


@needs_bwrap
def test_fork_bomb_is_limited(box):
    code = ("import os, time\nkids = 0\ntry:\n    while kids < 2000:\n        pid = os.fork()\n"
            "        if pid == 0:\n            time.sleep(4)\n            os._exit(0)\n        kids += 1\n"
            "except OSError as e:\n    print('refused', type(e).__name__)\nkids")
    r = box.run(code)
    assert r.ok, r.error
    assert "refused" in r.stdout and int(r.value) < LIMITS.processes
    assert box.run("1 + 1").value == "2"


def test_memory_is_limited(box):
    r = box.run("b = bytearray(10 * 2**30)")
    assert not r.ok and "MemoryError" in r.error
    assert box.run("total > 0").value == "True", "the session survives a refused allocation"


def test_output_is_truncated(box):
    r = box.run("chunk = 'x' * 2**20\nfor _ in range(1024):\n    print(chunk)")
    assert r.ok, r.error
    assert len(r.stdout) < LIMITS.max_output_chars + 200 and "truncated" in r.stdout
    r = box.run("import os\nchunk = b'y' * 2**20\nn = 0\ntry:\n    for _ in range(1024):\n"
                "        os.write(1, chunk); n += 1\nexcept OSError as e:\n    print(type(e).__name__)\nn")
    assert r.ok, r.error
    assert int(r.value) <= LIMITS.file_mb, "raw writes to fd 1 are capped by the file size limit"
    assert len(r.stdout) < LIMITS.max_output_chars + 200


def test_infinite_loop_times_out_and_session_restarts(box):
    r = box.run("while True:\n    pass", timeout_s=2)
    assert not r.ok and "longer than 2 s" in r.error and "restarted" in r.error
    r = box.run("'alive'")
    assert r.ok and r.value == "'alive'" and r.restarted
    assert box.run("'total' in dir()").value == "False", "state is lost after a restart, and it says so"


def test_reduced_isolation_is_recorded(tmp_path, monkeypatch):
    data = _data(tmp_path)
    empty = tmp_path / "nobin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    bwrap_problem.cache_clear()
    try:
        sb = PythonSandbox(data, tmp_path / "out", LIMITS)
        try:
            assert sb.isolation == "reduced"
            assert "reduced isolation" in sb.description and "not installed" in sb.description
            r = sb.run("import os\n(os.getcwd(), sorted(os.environ))")
            assert r.ok, r.error
            cwd, env = eval(r.value)  # noqa: S307
            assert cwd == str(sb.out_dir) and not any("KEY" in k for k in env)
        finally:
            sb.close()
    finally:
        bwrap_problem.cache_clear()


@pytest.mark.slow
def test_chinese_chart_reads_back_with_ocr(box):
    from sourcebook.media.ocr import ocr_text

    r = box.run("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(8, 5), dpi=120)\n"
                "ax.bar(['北京', '上海', '广州'], [3, 5, 2])\nax.set_title('各城市确诊病例', fontsize=26)\n"
                "ax.set_xlabel('城市名称', fontsize=22)\nax.set_ylabel('病例数量', fontsize=22)\n"
                "fig.tight_layout()\nfig.savefig('zh.png')")
    assert r.ok, r.error
    text = ocr_text(Path(box.out_dir) / "zh.png").replace(" ", "")
    for words in ("各城市确诊病例", "城市名称", "北京", "上海"):
        assert words in text, f"{words!r} not read back from the chart (OCR: {text!r})"


@needs_bwrap
@pytest.mark.skipif(os.getuid() != 0, reason="only root runs the worker as another user")
def test_unreadable_task_files_are_named(tmp_path):
    data = _data(tmp_path)
    secret = data / "private.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    secret.chmod(0o600)
    sb = PythonSandbox(data, tmp_path / "out", LIMITS)
    try:
        assert sb.warnings == ["private.csv: not readable by the sandbox user (mode 600)"]
        r = sb.run(f"open('{sb.data_path}/private.csv').read()")
        assert not r.ok and "PermissionError" in r.error
    finally:
        sb.close()


def test_cpu_seconds_are_limited(tmp_path):
    data = _data(tmp_path)
    limits = Limits(cpu_s=4, memory_mb=1536, processes=24, file_mb=8, tmp_mb=32, timeout_s=60.0)
    sb = PythonSandbox(data, tmp_path / "out", limits)
    try:
        r = sb.run("while True:\n    pass")
        assert not r.ok and "CPU time limit" in r.error and "restarted" in r.error
        assert sb.run("6 * 7").value == "42"
    finally:
        sb.close()
