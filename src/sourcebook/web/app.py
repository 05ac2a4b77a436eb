"""The FastAPI app: runs list, run page with live progress and turn timeline, the report with clickable
citations, the evidence browser, the form that starts a run, and downloads. Server-rendered Jinja2 pages
with a little plain JavaScript; everything a document, a model or a user wrote is escaped."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from sourcebook import api
from sourcebook.errors import SourcebookError
from sourcebook.web.jobs import Jobs
from sourcebook.web.passages import passage_view
from sourcebook.web.security import Csrf, PathError, confined, host_of, is_loopback, same_token
from sourcebook.web.timeline import event_line, timeline
from sourcebook.web.uploads import UploadLimits, save_uploads

HERE = Path(__file__).parent
SESSION_COOKIE = "sb_session"
TOKEN_COOKIE = "sb_token"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
DOWNLOADS = ("report.md", "report.html", "report.docx", "compliance.json")
_RUN_ID = re.compile(r"^[^/\\\x00]{1,200}$")


@dataclass
class WebConfig:
    """How the app is served: where runs live, the access token (required off loopback), upload limits."""

    runs_dir: Path
    token: str | None = None
    loopback: bool = True
    limits: UploadLimits = field(default_factory=UploadLimits)
    uploads_dir: Path | None = None   # default <runs_dir>/.uploads


def _md() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def create_app(config: WebConfig) -> FastAPI:
    """Build the app for ``config``."""
    app = FastAPI(title="sourcebook", docs_url=None, redoc_url=None, openapi_url=None)
    runs_dir = Path(config.runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    uploads_dir = Path(config.uploads_dir or runs_dir / ".uploads")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    templates = Jinja2Templates(env=env)
    csrf = Csrf()
    jobs = Jobs(runs_dir)
    stores: dict[str, Any] = {}
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # -- middleware: Host, token, session cookie, headers ------------------------------------------------------
    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = host_of(request.headers.get("host", ""))
        if config.loopback and not is_loopback(host):
            return Response("bad Host header", status_code=400, media_type="text/plain")
        if config.token:
            offered = request.query_params.get("token")
            if offered is not None and same_token(offered, config.token):
                resp: Response = RedirectResponse(str(request.url.remove_query_params("token")), 303)
                resp.set_cookie(TOKEN_COOKIE, config.token, httponly=True, samesite="strict")
                return resp
            auth = request.headers.get("authorization", "")
            given = request.cookies.get(TOKEN_COOKIE) or (auth[7:] if auth.lower().startswith("bearer ") else None)
            if not same_token(given, config.token):
                return Response("access token required (open the address printed by sourcebook web)",
                                status_code=401, media_type="text/plain")
        session = request.cookies.get(SESSION_COOKIE)
        fresh = not session or not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", session)
        request.state.session = secrets.token_urlsafe(24) if fresh else session
        try:
            resp = await call_next(request)
        except SourcebookError as e:
            resp = HTMLResponse(f"<p>{Markup.escape(str(e))}</p>", status_code=400)
        if fresh:
            resp.set_cookie(SESSION_COOKIE, request.state.session, httponly=True, samesite="strict")
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["X-Frame-Options"] = "DENY"
        return resp

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("csrf", csrf.token_for(request.state.session))
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def not_found(request: Request, what: str) -> HTMLResponse:
        return page(request, "error.html", 404, message=f"{what}: not found")

    def run_path(rid: str) -> Path:
        if not _RUN_ID.match(rid) or rid.startswith("."):
            raise PathError(f"{rid!r}: not a run")
        p = confined(runs_dir, rid)
        if p.parent != runs_dir.resolve() or not (p / "request.json").is_file():
            raise PathError(f"{rid!r}: not a run")
        return p

    def store_of(run_dir: Path) -> Any:
        folder = json.loads((run_dir / "request.json").read_text(encoding="utf-8"))["folder"]
        if folder not in stores:
            stores[folder] = api.store_for(folder)
        return stores[folder]

    # -- runs ----------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def runs_list(request: Request) -> HTMLResponse:
        return page(request, "runs.html", runs=api.list_runs(runs_dir))

    @app.get("/runs/{rid}", response_class=HTMLResponse)
    def run_page(request: Request, rid: str) -> HTMLResponse:
        try:
            rd = run_path(rid)
        except PathError:
            return not_found(request, "run")
        info = api.show_run(rd)
        from sourcebook.records.trace import read_trace

        files = [f for f in DOWNLOADS if (rd / f).is_file()]
        return page(request, "run.html", rid=rid, info=info, items=timeline(read_trace(rd / "trace.jsonl")),
                    files=files, has_report=(rd / "report.md").is_file())

    @app.get("/runs/{rid}/events")
    async def run_events(request: Request, rid: str) -> Response:
        try:
            rd = run_path(rid)
        except PathError:
            return Response("not found", status_code=404)

        async def stream() -> Any:
            from sourcebook.records.run_record import read_run_info

            offset, buf = 0, b""
            while True:
                trace = rd / "trace.jsonl"
                if trace.exists():
                    with trace.open("rb") as fh:
                        fh.seek(offset)
                        data = fh.read()
                    offset += len(data)
                    buf += data
                    *lines, buf = buf.split(b"\n")
                    for raw in lines:
                        try:
                            e = json.loads(raw)
                        except ValueError:
                            continue
                        yield f"event: trace\ndata: {json.dumps(event_line(e), ensure_ascii=False)}\n\n"
                info = read_run_info(rd)
                status = info.get("status")
                tokens = (info.get("tokens") or {}).get("total", 0)
                yield f"event: status\ndata: {json.dumps({'status': status, 'tokens': tokens})}\n\n"
                if status != "running" or await request.is_disconnected():
                    return
                await asyncio.sleep(0.3)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # -- report and citations -------------------------------------------------------------------------------
    @app.get("/runs/{rid}/report", response_class=HTMLResponse)
    def report_page(request: Request, rid: str) -> HTMLResponse:
        try:
            rd = run_path(rid)
        except PathError:
            return not_found(request, "run")
        md_path = rd / "report.md"
        if not md_path.is_file():
            return not_found(request, "report")
        refs = _references(rd)
        html = _md().render(md_path.read_text(encoding="utf-8"))

        def cite(m: re.Match[str]) -> str:
            n = m.group(1)
            if n not in refs:
                return m.group(0)
            return f'<a class="cite" href="#" data-ref="{n}" role="button">[{n}]</a>'

        body = Markup(re.sub(r"\[(\d{1,4})\]", cite, html))
        return page(request, "report.html", rid=rid, body=body, info=api.show_run(rd),
                    files=[f for f in DOWNLOADS if (rd / f).is_file()])

    @app.get("/runs/{rid}/cite/{n}", response_class=HTMLResponse)
    def cite_fragment(request: Request, rid: str, n: str, claim: str = "") -> HTMLResponse:
        try:
            rd = run_path(rid)
        except PathError:
            return not_found(request, "run")
        ref = _references(rd).get(n)
        if ref is None:
            return not_found(request, f"citation [{n}]")
        store = store_of(rd)
        views = [v for v in (passage_view(store, pid, claim[:2000], f"/runs/{rid}/media/{pid}", rd)
                             for pid in ref.get("passage_ids") or []) if v is not None]
        return page(request, "cite.html", rid=rid, ref=ref, views=views, claim=claim[:2000])

    # -- evidence -------------------------------------------------------------------------------------------
    @app.get("/runs/{rid}/evidence", response_class=HTMLResponse)
    def evidence(request: Request, rid: str, q: str = "", kind: str = "", file: str = "") -> HTMLResponse:
        try:
            rd = run_path(rid)
        except PathError:
            return not_found(request, "run")
        store = store_of(rd)
        sources = store.sources()
        hits = []
        if q.strip():
            hits = api.search(store.folder, q[:500], k=30, kinds=[kind] if kind else None,
                              sources=[file] if file else None, store=store)
        return page(request, "evidence.html", rid=rid, q=q, kind=kind, file=file, hits=hits, sources=sources,
                    kinds=sorted({s.kind for s in sources}))

    @app.get("/runs/{rid}/passage/{pid}", response_class=HTMLResponse)
    def passage_page(request: Request, rid: str, pid: str, claim: str = "") -> HTMLResponse:
        try:
            rd = run_path(rid)
        except PathError:
            return not_found(request, "run")
        view = passage_view(store_of(rd), pid, claim[:2000], f"/runs/{rid}/media/{pid}", rd, neighbours=2)
        if view is None:
            return not_found(request, "passage")
        return page(request, "passage.html", rid=rid, v=view)

    @app.get("/runs/{rid}/media/{pid}")
    def media(request: Request, rid: str, pid: str) -> Response:
        try:
            rd = run_path(rid)
        except PathError:
            return Response("not found", status_code=404)
        store = store_of(rd)
        p = store.get_passage(pid)
        if p is None:
            return Response("not found", status_code=404)
        path = _media_file(rd, store, p)
        if path is None:
            return Response("not found", status_code=404)
        return FileResponse(path)

    @app.get("/runs/{rid}/files/{name:path}")
    def download(request: Request, rid: str, name: str) -> Response:
        try:
            rd = run_path(rid)
            path = confined(rd, name)
        except PathError:
            return Response("not found", status_code=404)
        if not path.is_file() or path.name.startswith("."):
            return Response("not found", status_code=404)
        return FileResponse(path, filename=path.name if name in DOWNLOADS else None)

    # -- starting a run ---------------------------------------------------------------------------------------
    @app.get("/new", response_class=HTMLResponse)
    def new_form(request: Request) -> HTMLResponse:
        return page(request, "new.html", error=None, form={})

    @app.post("/runs")
    async def start(request: Request) -> Response:
        length = int(request.headers.get("content-length") or 0)
        if length > config.limits.max_bytes + 1024**2:
            return page(request, "new.html", 413, error=f"the upload is larger than {config.limits.max_bytes:,} "
                        "bytes", form={})
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1].rstrip("/").lower() != request.headers.get("host", "").lower():
            return page(request, "error.html", 403, message="cross-origin form post refused")
        try:
            form = await request.form(max_files=config.limits.max_files + 1, max_fields=50)
        except Exception as e:  # malformed multipart, too many parts
            return page(request, "new.html", 400, error=f"the form could not be read: {e}", form={})
        if not csrf.valid(request.cookies.get(SESSION_COOKIE), str(form.get("csrf") or "")):
            return page(request, "error.html", 403, message="the form's CSRF token is missing or wrong; reload the form")
        values = {k: str(form.get(k) or "") for k in ("request", "folder", "model", "base_url")}
        no_llm = form.get("no_llm") is not None or not values["model"].strip()
        uploads = [f for f in form.getlist("files") if hasattr(f, "filename") and f.filename]
        try:
            if not values["request"].strip():
                raise api.InputError("no request: the request is empty")
            if uploads:
                folder = save_uploads([(f.filename, f.file) for f in uploads], uploads_dir, config.limits)
            elif values["folder"].strip():
                folder = api.check_folder(Path(values["folder"].strip()).expanduser())
            else:
                raise api.InputError("give a folder on the server or upload files")
            settings = api.make_settings(values["model"].strip() or None, values["base_url"].strip() or None,
                                         no_llm=no_llm)
            rid = jobs.start(folder.resolve(), values["request"], settings)
        except SourcebookError as e:
            return page(request, "new.html", 400, error=str(e), form=values)
        finally:
            for f in uploads:
                await f.close()
        return RedirectResponse(f"/runs/{rid}", status_code=303)

    return app


def _references(rd: Path) -> dict[str, dict[str, Any]]:
    try:
        refs = json.loads((rd / "references.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {str(r.get("number")): r for r in refs if isinstance(r, dict)}


def _media_file(rd: Path, store: Any, p: Any) -> Path | None:
    """The keyframe (run's evidence/ copy, else the media cache) or image file of passage ``p``."""
    from sourcebook.config import get_settings

    loc = p.loc or {}
    if loc.get("keyframe"):
        for cand in sorted((rd / "evidence").glob(f"{p.id}.*")) if (rd / "evidence").is_dir() else []:
            try:
                return confined(rd / "evidence", cand.name)
            except PathError:
                pass
        frame = Path(str(loc["keyframe"])).resolve()
        cache = Path(getattr(store.settings, "cache_dir", None) or get_settings().cache_dir).resolve()
        if frame.is_file() and frame.is_relative_to(cache):
            return frame
        return None
    if p.kind == "image":
        try:
            path = confined(store.folder, p.source)
        except PathError:
            return None
        return path if path.is_file() else None
    return None
