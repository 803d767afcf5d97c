"""A member's browser for tests and the demo: an aiohttp session that keeps cookies (also for
127.0.0.1) and submits the forms of the /link page and the Spotify sandbox's consent page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import aiohttp


def new_browser() -> aiohttp.ClientSession:
    """A browser with its own cookie jar; aiohttp's default jar ignores cookies of IP hosts."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@dataclass
class Form:
    """The one form of a page: its method, action and fields (inputs other than files), and
    the named submit buttons."""

    method: str = "get"
    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(found.get("method", "get").lower(), found.get("action", "")))
        elif self.forms and tag == "input" and "name" in found and found.get("type") != "file":
            self.forms[-1].fields[found["name"]] = found.get("value", "")
        elif self.forms and tag == "button" and "name" in found:
            self.forms[-1].buttons.setdefault(found["name"], []).append(found.get("value", ""))


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def the_form(html: str) -> Form:
    forms = forms_of(html)
    if len(forms) != 1:
        raise LookupError(f"expected one form, found {len(forms)}")
    return forms[0]


async def submit(
    browser: aiohttp.ClientSession,
    page_url: str,
    html: str,
    *,
    button: tuple[str, str] | None = None,
    changes: dict[str, str] | None = None,
) -> aiohttp.ClientResponse:
    """Submit the page's one form (pressing `button`, with `changes` to its fields); the
    answer is returned unread and unfollowed."""
    form = the_form(html)
    data = {**form.fields, **(changes or {})}
    if button is not None:
        data[button[0]] = button[1]
    target = urljoin(page_url, form.action)
    if form.method != "post":
        raise ValueError(f"the form is sent with {form.method}, not post")
    async with browser.post(target, data=data, allow_redirects=False) as response:
        await response.read()
        return response


async def upload(
    browser: aiohttp.ClientSession,
    page_url: str,
    html: str,
    files: Sequence[tuple[str, bytes]],
    *,
    field_name: str = "files",
) -> aiohttp.ClientResponse:
    """Submit the page's one multipart form with its hidden fields and `files` (name, bytes)
    in its file input `field_name`; the answer is returned unread and unfollowed."""
    form = the_form(html)
    if form.method != "post":
        raise ValueError(f"the form is sent with {form.method}, not post")
    data = aiohttp.FormData()
    for name, value in form.fields.items():
        data.add_field(name, value)
    for filename, body in files:
        data.add_field(field_name, body, filename=filename)
    async with browser.post(
        urljoin(page_url, form.action), data=data, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def consent(
    browser: aiohttp.ClientSession, authorize_url: str, *, accept: bool = True
) -> str:
    """Open Spotify's (the sandbox's) authorize URL and answer its consent page if it shows
    one; the URL it sends the browser back to."""
    async with browser.get(authorize_url, allow_redirects=False) as response:
        if response.status == 302:
            return response.headers["Location"]
        if response.status != 200:
            raise LookupError(f"the consent page answered {response.status}")
        page = await response.text()
    decision = ("decision", "accept" if accept else "cancel")
    answer = await submit(browser, authorize_url, page, button=decision)
    if answer.status != 302:
        raise LookupError(f"the consent form answered {answer.status}")
    return answer.headers["Location"]


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a page shows, whitespace collapsed."""
    parser = _TextParser()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())
