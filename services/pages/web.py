"""How every page is answered: rendered from a Jinja2 template in the person's language, with
the headers that keep it in the browser that asked and out of every cache."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.errors import Refusal
from services.http import STATUS_OF
from services.pages.i18n import term, translations

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

PAGE_HEADERS = {
    # no inline script or style anywhere: everything comes from /pages/static
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    # a page may show personal data: never kept by the browser or a proxy
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    request: Request, template: str, locale: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page in `locale`; `_` in the template translates a message id, `term(kind, value)` a
    domain value (see services.pages.i18n.term)."""
    words = translations(locale)
    html = _environment.get_template(template).render(
        _=words.gettext, term=partial(term, words), locale=locale, request=request, **context
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def see_other(url: str) -> RedirectResponse:
    """After a form: the browser asks for the next page with GET (a reload posts nothing)."""
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


def refused_page(request: Request, locale: str, refusal: Refusal, **context: Any) -> HTMLResponse:
    """A refusal as a page: its status, reason and the fields at fault (never their values)."""
    status = STATUS_OF[refusal.kind]
    return render(request, "refused.html", locale, status, refusal=refusal, **context)
