"""The portal's web application (FastAPI, Jinja2 templates with autoescape); `create_app` is what
`hzcarbon serve` runs under uvicorn (docs/portal.md)."""

import json
import re
import secrets
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware

from data_contracts import SOURCES
from data_contracts.model import published_tables, table_contract
from portal.accounts import Accounts, User, session_secret
from portal.audit import AuditLog
from portal.formatting import format_rows, markdown_html, num, table_columns
from portal.i18n import LANGUAGES, translator
from portal.ratelimit import LoginLimiter
from portal.releases import EXPORT_FORMATS, PAGE_SIZE, NotAvailable, Release, Warehouse, columns_of, export_bytes, labels_of, read_page
from portal.report import report_data, report_labels
from portal.uploads import UploadRefused, store_upload

HERE = Path(__file__).parent
DISTRICT_CODE = re.compile(r"^\d{6}$")
SESSION_HOURS = 8
UPLOAD_CHUNK = 1024 * 1024
REJECTED_ROWS_SHOWN = 500
# Scripts and styles only from the site itself (the report's data is a JSON block, not a script).
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "parquet": "application/vnd.apache.parquet", "duckdb": "application/octet-stream",
         "jsonl": "application/x-ndjson"}



def content_disposition(filename: str) -> str:
    """An attachment header for any file name: HTTP headers are latin-1, so a Chinese name (the
    district workbooks) goes in RFC 6266's filename*, with an ASCII fallback for old clients."""
    fallback = "".join(c for c in filename if c.isascii() and c not in '"\\') or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"

def raw_cells(raw: str | None) -> str:
    """A quarantined row's raw cells (JSON keyed by the header as written) as `header: value; …`."""
    try:
        cells = json.loads(raw or "{}")
    except ValueError:
        return raw or ""
    if not isinstance(cells, dict):
        return str(cells)
    return "; ".join(f"{str(k).strip()}: {'' if v is None else v}" for k, v in cells.items())


def short_name_zh(table: str) -> str:
    """The table's Chinese name (contract customProperty shortNameZh), or its name."""
    try:
        return table_contract(table).short_name_zh
    except (KeyError, FileNotFoundError):
        return table


def value_label(table: str, column: str, value, lang: str = "zh") -> str:
    """A coded value as the page shows it: its Chinese label (contract customProperty
    valueLabelsZh) in Chinese, the code itself in English."""
    if value is None:
        return ""
    labels = table_contract(table).column(column).value_labels_zh
    return labels.get(str(value), str(value)) if lang == "zh" else str(value)


class Refused(Exception):
    """A request the user may not make: 403, written to the audit log."""

    def __init__(self, action: str, target: str, reason: str) -> None:
        super().__init__(reason)
        self.action, self.target, self.reason = action, target, reason


class LoginNeeded(Exception):
    pass


class BadForm(Exception):
    pass


def create_app(warehouse: Path, landing: Path | None = None, root_path: str = "",
               upload_max_mb: float = 50, secure_cookies: bool = False) -> FastAPI:
    warehouse = Path(warehouse)
    store = Warehouse(warehouse)
    accounts = Accounts(warehouse)
    audit = AuditLog(warehouse)
    limiter = LoginLimiter()
    scratch = warehouse / "portal" / "scratch"
    upload_max = int(upload_max_mb * 1024 * 1024)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["cells"] = raw_cells
    env.filters["num"] = num
    env.filters["markdown"] = markdown_html
    env.globals["short_name_zh"] = short_name_zh
    env.globals["value_label"] = value_label
    templates = Jinja2Templates(env=env)

    app = FastAPI(root_path=root_path, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(warehouse), session_cookie="hzcarbon_session",
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    # --- request helpers ------------------------------------------------------------------

    def own_path(request: Request) -> str:
        """The request's path below the root path (what the routes and `next` links use)."""
        root, path = request.scope.get("root_path", ""), request.url.path
        return path[len(root):] or "/" if root and path.startswith(root) else path

    def client_ip(request: Request) -> str | None:
        return request.client.host if request.client else None

    def current_user(request: Request) -> User | None:
        name = request.session.get("user")
        if not name:
            return None
        user = accounts.get(name)
        if user is None or user.disabled or user.role != request.session.get("role"):
            request.session.clear()  # disabled or changed since login: log out
            return None
        return user

    def language(request: Request) -> str:
        wanted = request.query_params.get("lang")
        if wanted in LANGUAGES:
            request.session["lang"] = wanted
        return request.session.get("lang", "zh")

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(32)
        return request.session["csrf"]

    async def checked_form(request: Request, **limits):
        form = await request.form(**limits)
        sent, expected = form.get("csrf"), request.session.get("csrf")
        if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
            user = request.session.get("user")
            audit.write(user=user, action="csrf", target=request.url.path, outcome="refused", ip=client_ip(request))
            raise BadForm()
        return form

    def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
        lang = language(request)
        other = "en" if lang == "zh" else "zh"
        query = {**request.query_params, "lang": other}
        context.update(request=request, t=translator(lang), lang=lang, user=current_user(request),
                       csrf=csrf_token(request), root=request.scope.get("root_path", ""),
                       switch_lang_url=f"{request.scope.get('root_path', '')}{own_path(request)}?{urlencode(query)}")
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    def release_or_404(release_id: str | None) -> Release:
        return store.release(release_id or None)

    def audit_event(request: Request, user: User | None, action: str, target: str, outcome: str, **detail) -> None:
        audit.write(user=user.username if user else None, action=action, target=target, outcome=outcome,
                    ip=client_ip(request), **detail)

    def require_role(request: Request, action: str, target: str, allowed) -> User:
        user = current_user(request)
        if user is None:
            raise LoginNeeded()
        if not allowed(user):
            raise Refused(action, target, f"role {user.role} may not")
        return user

    def district_user(request: Request, code: str, action: str, target: str) -> User:
        return require_role(request, action, target, lambda u: u.role == f"district:{code}")

    def statistician(request: Request, action: str, target: str) -> User:
        return require_role(request, action, target, lambda u: u.role in ("statistician", "admin"))

    def download(request: Request, user: User | None, target: str, content: bytes | Path, filename: str, fmt: str):
        audit_event(request, user, "download", target, "ok")
        headers = {"Content-Disposition": content_disposition(filename)}
        if isinstance(content, Path):
            return FileResponse(content, media_type=MEDIA[fmt], headers=headers)
        return Response(content, media_type=MEDIA[fmt], headers=headers)

    # --- errors ---------------------------------------------------------------------------

    @app.exception_handler(NotAvailable)
    async def not_available(request: Request, exc: NotAvailable):
        return page(request, "message.html", 404, title_key="not_found", message=str(exc))

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        audit_event(request, current_user(request), exc.action, exc.target, "forbidden", reason=exc.reason)
        return page(request, "message.html", 403, title_key="forbidden", message="")

    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, exc: LoginNeeded):
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/login?{urlencode({'next': own_path(request)})}", status_code=303)

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, exc: BadForm):
        return page(request, "message.html", 403, title_key="forbidden", message=translator(language(request))("csrf_failed"))

    # --- public pages ---------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request):
        releases = store.releases()
        latest = store.latest_id()
        return page(request, "home.html", releases=releases, latest=latest)

    @app.get("/releases", response_class=HTMLResponse)
    async def releases(request: Request):
        return page(request, "releases.html", releases=store.releases(), latest=store.latest_id())

    @app.get("/tables", response_class=HTMLResponse)
    async def tables(request: Request, release: str | None = None):
        r = release_or_404(release)
        rows = [(name, r.manifest["tables"][name].get("rows")) for name in r.tables("open")]
        return page(request, "tables.html", release=r, tables=rows, layer="open", base="/tables")

    def table_page(request: Request, r: Release, name: str, layer: str, base: str, page_no: int,
                   sort: str | None, desc: bool):
        path = r.table_path(name, layer)
        columns = columns_of(path)
        sort = sort if sort in columns else None  # only a column of the file; anything else is ignored
        frame, total = read_page(path, page_no, sort, desc)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        suppressed = frame["suppressed"].to_list() if "suppressed" in frame.columns else [False] * frame.height
        cells = format_rows(frame.rows(), table_columns(name, columns), language(request))
        return page(request, "table.html", release=r, name=name, columns=columns, labels=labels_of(name),
                    rows=cells, suppressed=suppressed, total=total, page_no=page_no, pages=pages,
                    sort=sort, desc=desc, base=base, formats=EXPORT_FORMATS)

    @app.get("/tables/{name}", response_class=HTMLResponse)
    async def table(request: Request, name: str, release: str | None = None, page_no: int = 1,
                    sort: str | None = None, desc: bool = False):
        return table_page(request, release_or_404(release), name, "open", "/tables", max(page_no, 1), sort, desc)

    async def export(request: Request, r: Release, name: str, layer: str, fmt: str, user: User | None):
        if fmt not in EXPORT_FORMATS:
            raise NotAvailable(f"format {fmt!r}")
        path = r.table_path(name, layer)
        filename = f"{name}_{r.release_id}.{fmt}"
        target = f"{r.release_id}/{layer}/{name}.{fmt}"
        if fmt == "parquet":
            return download(request, user, target, path, filename, fmt)
        content = await run_in_threadpool(export_bytes, path, fmt, name)
        return download(request, user, target, content, filename, fmt)

    @app.get("/tables/{name}/download/{fmt}")
    async def table_download(request: Request, name: str, fmt: str, release: str | None = None):
        return await export(request, release_or_404(release), name, "open", fmt, current_user(request))

    @app.get("/dictionary", response_class=HTMLResponse)
    async def dictionary(request: Request):
        contracts = [table_contract(t) for t in published_tables()]
        return page(request, "dictionary.html", contracts=contracts)

    @lru_cache(maxsize=4)
    def cached_report(release_id: str, _manifest_mtime: float) -> dict:
        return report_data(store.release(release_id))

    @app.get("/report", response_class=HTMLResponse)
    async def report(request: Request, release: str | None = None):
        r = release_or_404(release)
        data = await run_in_threadpool(cached_report, r.release_id, (r.path / "manifest.json").stat().st_mtime)
        t = translator(language(request))
        labels = report_labels(t)
        return page(request, "report.html", release=r, data=data, labels=labels)

    # --- accounts -------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/"):
        return page(request, "login.html", next=next, error=None)

    def safe_next(target: str) -> str:
        """Only a path of this site (no scheme, no host, no `//`)."""
        return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request):
        form = await checked_form(request, max_files=0, max_fields=5)
        username, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
        ip = client_ip(request) or "?"
        keys = [f"user:{username}", f"ip:{ip}"]
        t = translator(language(request))
        wait = limiter.retry_after(keys)
        if wait > 0:
            audit.write(user=username, action="login", target="/login", outcome="throttled", ip=ip, retry_after=round(wait, 1))
            response = page(request, "login.html", 429, next=form.get("next", "/"),
                            error=t("login_locked", seconds=int(wait) + 1))
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = await run_in_threadpool(accounts.authenticate, username, password)
        if user is None:
            limiter.failed(keys)
            audit.write(user=username, action="login", target="/login", outcome="failed", ip=ip)
            return page(request, "login.html", 401, next=form.get("next", "/"), error=t("login_failed"))
        limiter.succeeded(keys[0])
        request.session.clear()  # a new session (and CSRF token) for the new identity
        request.session.update(user=user.username, role=user.role, csrf=secrets.token_urlsafe(32),
                               lang=language(request))
        audit.write(user=user.username, action="login", target="/login", outcome="ok", ip=ip, role=user.role)
        root = request.scope.get("root_path", "")
        landing_page = f"/district/{user.district}" if user.district else "/statistician" if user.role != "admin" else "/admin"
        next_page = safe_next(str(form.get("next", "/")))
        return RedirectResponse(root + (next_page if next_page != "/" else landing_page), status_code=303)

    @app.post("/logout")
    async def logout(request: Request):
        await checked_form(request, max_files=0, max_fields=2)
        user = request.session.get("user")
        request.session.clear()
        audit.write(user=user, action="logout", target="/logout", outcome="ok", ip=client_ip(request))
        return RedirectResponse(request.scope.get("root_path", "") + "/", status_code=303)

    # --- district area --------------------------------------------------------------------

    def recent_uploads(code: str) -> list[dict]:
        if landing is None:
            return []
        found = []
        for source in SOURCES:
            for sidecar in (landing / source / code).glob(".upload_*.json"):
                try:
                    found.append(json.loads(sidecar.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    continue
        return sorted(found, key=lambda u: u.get("uploaded_at", ""), reverse=True)[:20]

    def district_rejected_rows(r: Release | None, code: str) -> list[dict]:
        if r is None or "quarantine.parquet" not in r.district_files(code):
            return []
        import polars as pl

        frame = pl.read_parquet(r.district_file(code, "quarantine.parquet"))
        return (frame.sort("file", "sheet", "row_number", nulls_last=False)
                .select("file", "sheet", "row_number", "reason", "reason_zh", "raw").head(REJECTED_ROWS_SHOWN).to_dicts())

    def district_over_limit(r: Release | None, code: str) -> list[dict] | None:
        """The district's own firms over a product energy limit (its extract of over_limit_list);
        None when the release has no such table."""
        if r is None or "over_limit_list.parquet" not in r.district_files(code):
            return None
        import polars as pl

        frame = pl.read_parquet(r.district_file(code, "over_limit_list.parquet"))
        return frame.sort("year", "enterprise_name", "product_code", descending=[True, False, False]).to_dicts()

    @app.get("/district/{code}", response_class=HTMLResponse)
    async def district_home(request: Request, code: str):
        district_user(request, code, "district_page", f"district/{code}")
        releases = [(r, r.district_files(code)) for r in store.releases()]
        latest = store.release() if store.latest_id() else None
        return page(request, "district.html", code=code, releases=releases, latest=latest,
                    rejected=district_rejected_rows(latest, code), uploads=recent_uploads(code),
                    over_limit=district_over_limit(latest, code),
                    sources=SOURCES, upload_enabled=landing is not None, result=None, refused=None)

    @app.get("/district/{code}/files/{release_id}/{name:path}")
    async def district_file(request: Request, code: str, release_id: str, name: str):
        target = f"district/{code}/{release_id}/{name}"
        user = district_user(request, code, "download", target)
        try:
            path = store.release(release_id).district_file(code, name)
        except NotAvailable:
            audit_event(request, user, "download", target, "not_found")
            raise
        fmt = "xlsx" if name.endswith(".xlsx") else "parquet"
        return download(request, user, target, path, name, fmt)

    @app.post("/district/{code}/upload", response_class=HTMLResponse)
    async def district_upload(request: Request, code: str):
        user = district_user(request, code, "upload", f"district/{code}/upload")
        t = translator(language(request))
        if landing is None:
            raise NotAvailable("uploads are off: the portal was started without --landing")
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > upload_max + 64 * 1024:
            audit_event(request, user, "upload", f"district/{code}/upload", "refused", reason="err_size", bytes=length)
            return page(request, "message.html", 413, title_key="upload_refused",
                        message=t("err_size", limit=round(upload_max / 1024 / 1024, 1)))
        form = await checked_form(request, max_files=1, max_fields=5)
        upload, source = form.get("file"), str(form.get("source", ""))
        original = getattr(upload, "filename", None) or ""
        scratch.mkdir(parents=True, exist_ok=True)
        refusal, stored = None, None
        with tempfile.NamedTemporaryFile(dir=scratch, prefix="upload_", suffix=".bin") as temp:
            size = 0
            if upload is not None and hasattr(upload, "read"):
                while chunk := await upload.read(UPLOAD_CHUNK):
                    size += len(chunk)
                    if size > upload_max:
                        refusal = UploadRefused("err_size")
                        break
                    temp.write(chunk)
                temp.flush()
            if refusal is None:
                try:
                    stored = await run_in_threadpool(
                        store_upload, Path(temp.name), original, source, code, landing, scratch,
                        user.username, client_ip(request), datetime.now(timezone.utc).strftime("%Y-%m"))
                except UploadRefused as exc:
                    refusal = exc
        if refusal is not None:
            audit_event(request, user, "upload", f"district/{code}/upload", "refused", reason=refusal.key,
                        detail=refusal.detail, original_name=original, bytes=size)
            message = t(refusal.key, limit=round(upload_max / 1024 / 1024, 1)) if refusal.key == "err_size" else t(refusal.key)
            return page(request, "message.html", 413 if refusal.key == "err_size" else 400,
                        title_key="upload_refused", message=f"{original}: {message}")
        v = stored.validation
        audit_event(request, user, "upload", stored.stored_as, "stored", original_name=original, sha256=stored.sha256,
                    bytes=stored.size, rows_read=v.rows_read, accepted=v.accepted, rejected=v.quarantined)
        return page(request, "upload_result.html", code=code, stored=stored, validation=v, result=asdict(v))

    # --- statisticians ----------------------------------------------------------------------

    @app.get("/statistician", response_class=HTMLResponse)
    async def statistician_home(request: Request, release: str | None = None):
        statistician(request, "restricted_tables", "statistician")
        r = release_or_404(release)
        rows = [(name, r.manifest["tables"][name].get("rows")) for name in r.tables("restricted")]
        return page(request, "tables.html", release=r, tables=rows, layer="restricted", base="/statistician/tables")

    @app.get("/statistician/tables/{name}", response_class=HTMLResponse)
    async def restricted_table(request: Request, name: str, release: str | None = None, page_no: int = 1,
                               sort: str | None = None, desc: bool = False):
        statistician(request, "restricted_table", f"restricted/{name}")
        return table_page(request, release_or_404(release), name, "restricted", "/statistician/tables",
                          max(page_no, 1), sort, desc)

    @app.get("/statistician/tables/{name}/download/{fmt}")
    async def restricted_download(request: Request, name: str, fmt: str, release: str | None = None):
        user = statistician(request, "download", f"restricted/{name}.{fmt}")
        return await export(request, release_or_404(release), name, "restricted", fmt, user)

    @app.get("/statistician/snapshot")
    async def snapshot(request: Request, release: str | None = None):
        user = statistician(request, "download", "snapshot")
        r = release_or_404(release)
        return download(request, user, f"{r.release_id}/hzcarbon.duckdb", r.snapshot,
                        f"hzcarbon_{r.release_id}.duckdb", "duckdb")

    # --- admin ------------------------------------------------------------------------------

    @app.get("/admin", response_class=HTMLResponse)
    async def admin_home(request: Request):
        require_role(request, "admin_page", "admin", lambda u: u.role == "admin")
        return page(request, "admin.html", users=accounts.list(), entries=audit.entries()[-100:][::-1])

    @app.get("/admin/audit.jsonl")
    async def audit_download(request: Request):
        user = require_role(request, "download", "audit.jsonl", lambda u: u.role == "admin")
        audit_event(request, user, "download", "audit.jsonl", "ok")
        return FileResponse(audit.path, media_type=MEDIA["jsonl"],
                            headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'})

    return app
