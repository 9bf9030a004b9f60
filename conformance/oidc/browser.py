#!/usr/bin/env python3
"""Scripted "browser" that completes an OIDC authorization-code login.

Usage: python3 browser.py [ignored args...] AUTHORIZE_URL

The URL (the last argument, as a CLI's $BROWSER would pass it) is the
provider's authorization URL. The script follows the provider's redirects and
pages with a cookie jar, fills in the login form (login name from
$LAKEGATE_TEST_OIDC_LOGIN, default "alice"; any password) and submits the
consent form. When the provider redirects to the client's redirect_uri
(http://127.0.0.1:PORT/callback?code=...&state=...) it GETs that URL, which
hands the code to the waiting CLI listener, and exits 0. It never exchanges
the code itself.

$LAKEGATE_TEST_OIDC_CAPTURE=FILE: do not GET the callback; write the final
callback URL (one line) to FILE instead.

Exit status: 0 when a code reached the callback (or the capture file);
1 on any failure, including the provider redirecting back with ?error=
(that redirect is still delivered / captured first). Messages go to stderr.

Python 3.11 standard library only; written against oidc-provider's
devInteractions pages but fills any simple login/consent form.
"""

from __future__ import annotations

import html.parser
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

MAX_STEPS = 25
TIMEOUT = 30
PASSWORD = "password"


class Failure(Exception):
    pass


class _PassThrough(urllib.request.HTTPErrorProcessor):
    """Return every response (3xx/4xx too) instead of raising/following."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class _Forms(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._cur: dict | None = None
        self.refresh: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._cur = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": [],
            }
            self.forms.append(self._cur)
        elif tag in ("input", "button", "select", "textarea") and self._cur is not None:
            self._cur["fields"].append((tag, a))
        elif tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            content = a.get("content", "")
            if "url=" in content.lower():
                self.refresh = content[content.lower().index("url=") + 4:].strip("'\" ")

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    u, r = urllib.parse.urlsplit(url), urllib.parse.urlsplit(redirect_uri)
    return (u.scheme, u.hostname, u.port, u.path) == (r.scheme, r.hostname, r.port, r.path)


def _fill(form: dict, login: str) -> list[tuple[str, str]]:
    data: list[tuple[str, str]] = []
    submit_done = False
    for tag, a in form["fields"]:
        name = a.get("name")
        typ = a.get("type", "submit" if tag == "button" else "text").lower()
        if not name:
            continue
        if typ in ("submit", "image", "button"):
            # Send only the first named submit button (like a click on it).
            if not submit_done and typ == "submit":
                data.append((name, a.get("value", "")))
                submit_done = True
            continue
        if typ in ("checkbox", "radio"):
            if "checked" in a:
                data.append((name, a.get("value", "on")))
            continue
        if typ == "password":
            data.append((name, PASSWORD))
        elif typ == "hidden":
            data.append((name, a.get("value", "")))
        elif name.lower() in ("login", "username", "user", "email", "login_name"):
            data.append((name, login))
        else:
            data.append((name, a.get("value", "") or login))
    return data


def _describe(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    # Keep it short; oidc-provider error pages carry error/error_description.
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(html.unescape(text).split())
    return text[:600]


def run(auth_url: str) -> int:
    login = os.environ.get("LAKEGATE_TEST_OIDC_LOGIN", "alice") or "alice"
    capture = os.environ.get("LAKEGATE_TEST_OIDC_CAPTURE")

    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth_url).query))
    redirect_uri = query.get("redirect_uri")
    if not redirect_uri:
        raise Failure(f"authorization URL has no redirect_uri parameter: {auth_url}")
    if urllib.parse.urlsplit(auth_url).scheme not in ("http", "https"):
        raise Failure(f"not an http(s) URL: {auth_url}")

    jar = http.cookiejar.CookieJar()
    # ProxyHandler({}): never use a proxy from the environment for loopback.
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), _PassThrough(), urllib.request.ProxyHandler({})
    )
    opener.addheaders = [("User-Agent", "lakegate-test-browser/1"), ("Accept", "text/html")]

    url, data = auth_url, None
    for _ in range(MAX_STEPS):
        if _same_endpoint(url, redirect_uri):
            return _deliver(url, capture)
        req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with opener.open(req, timeout=TIMEOUT) as resp:
                status, headers, body = resp.status, resp.headers, resp.read()
        except (urllib.error.URLError, OSError) as e:
            raise Failure(f"request to {url} failed: {e}") from e

        if status in (301, 302, 303, 307, 308):
            loc = headers.get("Location")
            if not loc:
                raise Failure(f"{status} from {url} without Location")
            nxt = urllib.parse.urljoin(url, loc)
            # 307/308 keep the method and body; the provider uses 302/303.
            data = data if status in (307, 308) else None
            url = nxt
            continue
        if status != 200:
            raise Failure(f"HTTP {status} from {url}: {_describe(body)}")

        parser = _Forms()
        parser.feed(body.decode(headers.get_content_charset() or "utf-8", "replace"))
        forms = [f for f in parser.forms if f["method"] in ("post", "get")]
        if not forms:
            if parser.refresh:
                url, data = urllib.parse.urljoin(url, parser.refresh), None
                continue
            raise Failure(f"page at {url} has no form to submit: {_describe(body)}")
        form = forms[0]
        action = urllib.parse.urljoin(url, form["action"] or url)
        fields = _fill(form, login)
        if _same_endpoint(action, redirect_uri):
            raise Failure(f"provider posts the response to {action} (response_mode=form_post is not supported)")
        encoded = urllib.parse.urlencode(fields)
        if form["method"] == "post":
            url, data = action, encoded.encode()
        else:
            parts = urllib.parse.urlsplit(action)
            url, data = urllib.parse.urlunsplit(parts._replace(query=encoded)), None
    raise Failure(f"gave up after {MAX_STEPS} steps without reaching {redirect_uri}")


def _deliver(url: str, capture: str | None) -> int:
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    if capture:
        with open(capture, "w", encoding="utf-8") as f:
            f.write(url + "\n")
    else:
        req = urllib.request.Request(url, method="GET")
        try:
            # A plain opener: the CLI's listener gets no provider cookies.
            plain = urllib.request.build_opener(_PassThrough(), urllib.request.ProxyHandler({}))
            with plain.open(req, timeout=TIMEOUT) as resp:
                status, body = resp.status, resp.read()
        except (urllib.error.URLError, OSError) as e:
            raise Failure(f"delivering the callback {url} failed: {e}") from e
        if status >= 400:
            raise Failure(f"callback listener answered HTTP {status}: {_describe(body)}")
    if "code" not in params:
        raise Failure(
            "provider redirected back without a code: "
            f"error={params.get('error')!r} error_description={params.get('error_description')!r}"
        )
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: browser.py AUTHORIZE_URL", file=sys.stderr)
        return 1
    try:
        return run(argv[-1])
    except Failure as e:
        print(f"browser.py: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - any failure is exit 1 with a message
        print(f"browser.py: unexpected error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
