"""The tenant's API keys: list, create (the key is shown once, on the page that answers the
form, and never again) and revoke, through `auth.keys` exactly as `/api-key-generate` does.
Revoking the key this session signed in with ends the session."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.web import (
    COOKIE,
    AdminDep,
    AdminRequest,
    FormDep,
    cookie_path,
    field_messages,
    form_text,
    parse_id,
)
from floorsync.auth import keys
from floorsync.errors import Conflict, ValidationFailed
from floorsync.models.enums import ApiKeyRole

router = APIRouter()
PAGE = AdminPage(router, NavItem("API keys", "/api-keys", "api-keys", order=40))
NOTICES = {"revoked": "Key {name} is revoked: requests with it now get 401."}


def _page(
    admin: AdminRequest,
    *,
    status_code: int = 200,
    created: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    with admin.read() as session:
        rows = keys.list_keys(session, admin.scope)
        creators = keys.key_labels(session, admin.scope, [r.created_by for r in rows])
    return admin.render(
        "api_keys.html",
        status_code=status_code,
        # the plaintext of a new key must not linger in any cache
        headers={"Cache-Control": "no-store"},
        keys=rows,
        creators=creators,
        created=created,
        form=form or {"name": "", "role": ApiKeyRole.integration.value, "expires_at": ""},
        field_errors=field_errors or {},
        error=error,
        notice=notice,
        roles=[ApiKeyRole.integration.value, ApiKeyRole.admin.value],
    )


@router.get("/api-keys", response_class=HTMLResponse)
def keys_page(admin: AdminDep) -> HTMLResponse:
    params = admin.request.query_params
    notice = None
    if params.get("done") in NOTICES:
        notice = NOTICES[params["done"]].format(name=params.get("name", "")[:200])
    return _page(admin, notice=notice)


@router.post("/api-keys", response_class=HTMLResponse)
def create_key(admin: AdminDep, form: FormDep) -> HTMLResponse:
    values = {name: form_text(form, name) for name in keys.KEY_FIELDS}
    data: dict[str, Any] = {"name": values["name"], "role": values["role"] or None}
    if values["expires_at"]:
        data["expires_at"] = values["expires_at"]  # datetime-local input: no offset means UTC
    try:
        new = keys.parse_new_key(data)
        with admin.work() as work:
            row, plaintext = keys.create_key(work, new)
            created = {"name": row.name, "role": row.role.value, "key": plaintext}
    except ValidationFailed as exc:
        problems = field_messages(exc)
        return _page(admin, status_code=422, form=values, field_errors=problems)
    return _page(admin, status_code=201, created=created)


@router.post("/api-keys/{key_id}/revoke", response_model=None)
def revoke_key(key_id: str, admin: AdminDep, _form: FormDep) -> Response:
    id_ = parse_id(key_id)
    try:
        with admin.work() as work:
            row = keys.revoke_key(work, id_)
            label = f"{row.name} ({row.key_prefix}…)"
    except Conflict as exc:
        return _page(admin, status_code=409, error=exc.message)
    if id_ == admin.scope.api_key_id:
        response = admin.redirect("/sign-in", signed_out="revoked")
        response.delete_cookie(COOKIE, path=cookie_path(admin.request))
        return response
    return admin.redirect("/api-keys", done="revoked", name=label)
