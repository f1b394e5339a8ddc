"""Fetch a running Borough's pages over HTTP as a browser behind the council's load balancer
would, and fail on any answer that is not 2xx/3xx or lacks the security headers.

Run by .ci/production-smoke (which starts Borough with the production settings); by hand:
    python .ci/smoke_fetch.py --base http://127.0.0.1:8000 --mail-dir DIR [--api-key KEY]

DIR is where the server's file email backend writes (BOROUGH_EMAIL_FILE_PATH): the resident's
sign-in link is asked for through the form and read from the email, as a resident would.
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

# Every page: what the header must contain (a regular expression), and why (docs/production.md).
PAGE_HEADERS = {
    "Content-Security-Policy": r"(^|; )default-src 'self'(;|$)",
    "Strict-Transport-Security": r"max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": r"^nosniff$",
    "X-Frame-Options": r"^DENY$",
    "Referrer-Policy": r"^same-origin$",
    "Cross-Origin-Opener-Policy": r"^same-origin$",
}
NO_STORE = ("Cache-Control", r"(^|, *)no-store(,|$)")
# Static files the start page names, by the hashed name collectstatic gave them.
HASHED_ASSETS = {
    "govuk-frontend.min.css": r"/assets/govuk-frontend\.min\.[0-9a-f]{12}\.css",
    "borough.mjs": r"/assets/borough\.[0-9a-f]{12}\.mjs",
}


class Browser:
    """One visitor: keeps cookies, says the request came over HTTPS (X-Forwarded-Proto, as the
    load balancer does) and records every failed check."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.origin = f"https://{parts.netloc}"
        self.cookies: dict[str, str] = {}
        self.cookie_flags: dict[str, str] = {}
        self.failures: list[str] = []
        self.checked = 0

    def request(self, method: str, path: str, body: str = "", https: bool = True, **headers):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Host": f"{self.host}:{self.port}", **headers}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
                self.cookie_flags[name] = header
        connection.close()
        return response, content

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checked += 1
        status = "ok  " if ok else "FAIL"
        print(f"  {status} {what}{': ' + detail if detail and not ok else ''}")
        if not ok:
            self.failures.append(f"{what}: {detail}")

    def page(self, path: str, *, personal: bool, expect=range(200, 400), **kwargs):
        response, content = self.request("GET", path, **kwargs)
        self.check(f"GET {path} answers {response.status}", response.status in expect)
        self.headers_of(path, response, personal=personal)
        html = content.decode("utf-8", "replace")
        self.inline_scripts_of(path, response, html)
        return response, html

    def headers_of(self, path: str, response, *, personal: bool) -> None:
        wanted = dict(PAGE_HEADERS)
        if personal:
            wanted[NO_STORE[0]] = NO_STORE[1]
        for name, pattern in wanted.items():
            value = response.getheader(name) or ""
            self.check(f"{path} sends {name}", bool(re.search(pattern, value)), repr(value))
        csp = response.getheader("Content-Security-Policy") or ""
        self.check(f"{path} allows no inline script", "unsafe-inline" not in csp, csp)

    def inline_scripts_of(self, path: str, response, html: str) -> None:
        """Every inline script on the page carries the nonce its policy names (GOV.UK
        Frontend's js-enabled line); JSON data blocks are not scripts."""
        nonce = re.search(r"'nonce-([^']+)'", response.getheader("Content-Security-Policy") or "")
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" in tag or "application/json" in tag:
                continue
            self.check(
                f"{path}: inline script carries the policy's nonce",
                bool(nonce) and f'nonce="{nonce.group(1)}"' in tag,
                tag,
            )


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""


def run(base: str, mail_dir: str, api_key: str) -> int:
    browser = Browser(base)
    print(f"Fetching {base} as a browser behind an HTTPS load balancer")

    # Plain HTTP is sent to HTTPS.
    response, _ = browser.request("GET", "/", https=False)
    browser.check(
        "plain HTTP is redirected to HTTPS",
        response.status == 301 and response.getheader("Location", "").startswith("https://"),
        f"{response.status} {response.getheader('Location')}",
    )

    # Public pages, and a page that does not exist (a 404, never a 500).
    _, start = browser.page("/", personal=False)
    browser.check("the start page names the council", "Council services" in start)
    browser.page("/privacy", personal=False)
    browser.page("/no-such-page", personal=True, expect=(404,))

    # Static files: the stylesheet the page names has a hashed name and is cached for a year.
    for name, pattern in HASHED_ASSETS.items():
        match = re.search(pattern, start)
        browser.check(f"the start page links {name} by its hashed name", bool(match))
        if match:
            url = match.group(0)
            response, content = browser.request("GET", url)
            cache = response.getheader("Cache-Control") or ""
            browser.check(f"GET {url} answers {response.status}", response.status == 200)
            browser.check(f"{url} is cached for a year", "immutable" in cache, cache)
            if name.endswith(".css"):
                source_map = re.search(rb"sourceMappingURL=(\S+\.map)", content)
                browser.check(f"{url} names its hashed source map", bool(source_map))
                if source_map:
                    map_url = "/assets/" + source_map.group(1).decode()
                    response, _ = browser.request("GET", map_url)
                    browser.check(
                        f"GET {map_url} answers {response.status}", response.status == 200
                    )

    # The API's OpenAPI document and docs page, with Swagger UI from Borough itself.
    response, content = browser.request("GET", "/api/v1/openapi.json")
    browser.check(f"GET /api/v1/openapi.json answers {response.status}", response.status == 200)
    browser.check("the OpenAPI document is OpenAPI", b'"openapi"' in content)
    browser.headers_of("/api/v1/openapi.json", response, personal=False)
    _, docs = browser.page("/api/v1/docs", personal=False)
    assets = re.findall(r'(?:src|href)="(/assets/ninja/[^"]+)"', docs)
    browser.check("the API docs load Swagger UI from Borough", len(assets) >= 2, str(assets))
    browser.check("the API docs name no other site", "https://" not in docs)
    for url in assets:
        response, _ = browser.request("GET", url)
        browser.check(f"GET {url} answers {response.status}", response.status == 200)

    if api_key:
        # An API answer about a vehicle is personal: no-store.
        response, _ = browser.request(
            "GET",
            "/api/v1/parking/check?vrm=AB12CDE&zone=NOSUCH",
            Authorization=f"Bearer {api_key}",
        )
        browser.check(
            f"GET /api/v1/parking/check with a key answers {response.status}",
            response.status in (200, 400, 404),
        )
        browser.headers_of("/api/v1/parking/check", response, personal=True)

    # Staff sign-in page.
    _, staff = browser.page("/staff/sign-in", personal=True)
    browser.check("the staff sign-in page asks for a username", "Username" in staff)

    # A resident asks for a sign-in link, reads it in the email, and signs in with it.
    _, sign_in = browser.page("/sign-in", personal=False)
    body = f"csrfmiddlewaretoken={_csrf(sign_in)}&email=smoke-test%40example.com&next="
    response, _ = browser.request("POST", "/sign-in", body=body)
    browser.check(
        f"POST /sign-in sends a link ({response.status})",
        response.status == 302 and response.getheader("Location") == "/sign-in/check-email",
        f"{response.status} {response.getheader('Location')}",
    )
    emails = sorted(Path(mail_dir).glob("*.log")) if Path(mail_dir).is_dir() else []
    found = (
        re.search(r"https?://[^/\s]+(/sign-in/link\?\S+)", emails[-1].read_text())
        if emails
        else None
    )
    browser.check("the sign-in email holds a link", bool(found), f"{len(emails)} emails")
    magic_link = found.group(1) if found else "/sign-in/link"
    _, link_page = browser.page(magic_link, personal=True)
    token = re.search(r'name="token" value="([^"]+)"', link_page)
    browser.check("the sign-in link page offers to continue", bool(token))
    if token:
        body = f"csrfmiddlewaretoken={_csrf(link_page)}&token={token.group(1)}&next="
        response, _ = browser.request("POST", "/sign-in/link", body=body)
        browser.check(
            f"POST /sign-in/link signs in ({response.status})",
            response.status == 302 and response.getheader("Location") == "/account",
            f"{response.status} {response.getheader('Location')}",
        )
        browser.headers_of("/sign-in/link (POST)", response, personal=True)
        flags = browser.cookie_flags.get("sessionid", "")
        browser.check(
            "the session cookie is Secure and HttpOnly",
            "Secure" in flags and "HttpOnly" in flags,
            flags,
        )
        _, account = browser.page("/account", personal=True, expect=(200,))
        browser.check("the resident sees their account", "Your account" in account)

    print(f"{browser.checked} checks, {len(browser.failures)} failed")
    for failure in browser.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if browser.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument(
        "--mail-dir", required=True, help="where the server's file email backend writes"
    )
    parser.add_argument("--api-key", default="", help="an enforcement API key (optional)")
    options = parser.parse_args()
    return run(options.base, options.mail_dir, options.api_key)


if __name__ == "__main__":
    sys.exit(main())
