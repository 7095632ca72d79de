"""The admin web UI, served by floorsync itself under `/admin` (no asset from the internet).

Signing in: an API key with the `admin` role, once, at `/admin/sign-in`; the browser then holds
only a random session token in a cookie (`HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS), kept
hashed in `admin_sessions` with an absolute and an idle expiry, and valid only while its key is
active (`sessions.py`). Every page is scoped to the key's tenant; every form post carries a
CSRF token derived from the session's own secret (403 without a valid one).

Modules:

    app.py          create_admin_app / mount_admin: the sub-app, its pages and static files
    web.py          AdminDep (signed-in request), FormDep (CSRF-checked form), render()
    sessions.py     the session service and the CSRF tokens     throttle.py  sign-in throttling
    signin.py       /sign-in, /sign-out, /                       errors.py    HTML error pages
    pages.py        AdminPage and NavItem                        filters.py   template filters
    listing.py      paging and filter helpers
    sync_history.py · webhooks.py · events.py · api_keys.py      the ops console pages
    templates/      base.html (the layout), _macros.html, one template per page
    static/         admin.css, admin.js, favicon.svg

Adding a page (the CSV import wizard and the planning page plug in this way):

1. Write `admin/imports.py`:

       from fastapi import APIRouter
       from fastapi.responses import HTMLResponse, Response

       from floorsync.admin.pages import AdminPage, NavItem
       from floorsync.admin.web import AdminDep, FormDep, parse_id

       router = APIRouter()
       PAGE = AdminPage(router, NavItem("Imports", "/imports", "imports", order=5))

       @router.get("/imports", response_class=HTMLResponse)
       def imports_page(admin: AdminDep) -> HTMLResponse:
           with admin.read() as session:            # scoped to the signed-in tenant
               rows = list_imports(session, admin.scope)
           return admin.render("imports.html", imports=rows)

       @router.post("/imports/{import_id}/cancel", response_model=None)
       def cancel(import_id: str, admin: AdminDep, form: FormDep) -> Response:
           with admin.work() as work:               # commits; events get channel admin_ui
               cancel_import(work, parse_id(import_id))
           return admin.redirect(f"/imports/{import_id}", done="cancelled")   # 303

   Paths are relative to the admin root (`/imports` is served at `/admin/imports`). `AdminDep`
   redirects an anonymous browser to the sign-in page and back. `FormDep` parses a small
   urlencoded form and answers 403 unless it carries this session's CSRF token; a handler that
   streams its own body (an upload) calls `check_csrf(admin, token)` itself. Raise the usual
   errors (`NotFound`, `ValidationFailed`, …): they become HTML error pages, never JSON.
   `parse_id` turns a malformed path id into a 404.

2. Write `admin/templates/imports.html`:

       {% extends "base.html" %}
       {% import "_macros.html" as ui with context %}
       {% block title %}Imports{% endblock %}
       {% block main %}
         <div class="page-head"><h1>Imports</h1><p class="lede">…</p></div>
         <form method="post" action="{{ url('/imports/' ~ id ~ '/cancel') }}" class="inline">
           {{ ui.csrf() }}
           <button type="submit" class="btn" data-testid="import-cancel">Cancel</button>
         </form>
       {% endblock %}

   Every template gets `url(path, **query)`, `static(name)`, `identity`, `now`, `csrf_token()`
   and the filters of `filters.py` (`when`, `ago`, `duration`, `number`, `cut`, …); output is
   autoescaped. Use the classes of `static/admin.css` (`panel`, `cards`, `filters`,
   `table-wrap` + `table.data`, `btn`, `badge-*`, `empty`) and the macros (`ui.badge`,
   `ui.pager`, `ui.empty`, `ui.alerts`). Give every interactive element a stable
   `data-testid`. Scripts and styles come from `static/` only: the Content-Security-Policy
   refuses inline scripts and anything from another origin. A page that keeps its templates
   elsewhere passes `AdminPage(..., templates=Path(...))`.

3. Add `imports.PAGE` to `default_pages()` in `admin/app.py`. The navigation bar lists pages
   by `NavItem.order` (Sync history 10, Webhooks 20, Events 30, API keys 40).

4. Tests: `tests/admin/test_isolation.py` walks every admin route: give any new path parameter
   a record of tenant A in its `IDS_FOR` table; `tests/admin/test_pages.py` fetches every page
   and scans it for external URLs; add a browser test under `tests/browser/`.
"""
