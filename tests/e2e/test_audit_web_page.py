"""A compliance officer in headless Chromium: sign in, search, open a record, see verification.

Debian's ``chromium`` drives the real server over HTTPS; the browser trusts exactly the
gateway's certificate key (``--ignore-certificate-errors-spki-list``), nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
QUIET_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
EMAIL = "jane.doe@example.org"


def spki_pin(certificate: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): the form Chromium's pin list takes."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    der = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="module")
def browser(gateway: RunningGateway) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    pin = spki_pin(Path(gateway.env["ENCLAVE_CERTS_DIR"]) / "server.pem")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*QUIET_FLAGS, f"--ignore-certificate-errors-spki-list={pin}"],
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context()  # no cookies from another test
    yield fresh
    fresh.close()


def sign_in(page: Page, gateway: RunningGateway, token: str) -> None:
    page.goto(f"{gateway.base_url}/audit/ui")
    expect(page).to_have_url(f"{gateway.base_url}/audit/ui/login")
    page.get_by_label("Compliance token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_officer_signs_in_finds_a_request_and_sees_the_trail_verified(
    gateway: RunningGateway, client: openai.OpenAI, context: BrowserContext
) -> None:
    reply = client.chat.completions.with_raw_response.create(
        model=gateway.model,
        messages=[{"role": "user", "content": f"Please answer {EMAIL} about the invoice"}],
        max_tokens=3,
    )
    request_id = reply.headers["x-request-id"]
    officer = gateway.enclave(
        "tokens", "issue", "--tenant", "acme", "--roles", "compliance", "--ttl", "1h", "-q"
    )
    page = context.new_page()
    sign_in(page, gateway, officer)

    expect(page).to_have_url(f"{gateway.base_url}/audit/ui")
    expect(page.get_by_text(re.compile(r"Trail verified: \d+ records"))).to_be_visible()
    page.get_by_label("Entity type").fill("EMAIL_ADDRESS")
    page.get_by_label("Department").fill("engineering")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"entity_type=EMAIL_ADDRESS"))
    rows = page.locator("table tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2  # header + the started/completed records of the request

    rows.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile(r"Audit record \d+"))).to_be_visible()
    facts = page.locator("table").inner_text()
    assert request_id in facts
    assert "EMAIL_ADDRESS: 1" in facts
    assert "acme" in facts
    assert EMAIL not in page.content()  # the policy redacts: the address itself is never shown
    page.get_by_role("link", name="Back to search").click()
    expect(page).to_have_url(f"{gateway.base_url}/audit/ui")


def test_an_app_token_or_garbage_cannot_sign_in(
    gateway: RunningGateway, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, gateway, gateway.token)  # the e2e app token: no compliance role
    expect(page.get_by_text("That token lacks the 'compliance' role.")).to_be_visible()
    sign_in(page, gateway, "not-a-token")
    expect(page.get_by_text("That token is not valid.")).to_be_visible()
    page.goto(f"{gateway.base_url}/audit/ui/events/1")
    expect(page).to_have_url(f"{gateway.base_url}/audit/ui/login")


def test_officer_sees_only_their_own_tenants_records(
    gateway: RunningGateway, context: BrowserContext
) -> None:
    gateway.enclave("tenants", "create", "globex", "--department", "engineering", "--if-missing")
    outsider = gateway.enclave(
        "tokens", "issue", "--tenant", "globex", "--roles", "app", "--ttl", "1h", "-q"
    )
    with gateway.client(outsider) as globex:
        reply = globex.chat.completions.with_raw_response.create(
            model=gateway.model, messages=[{"role": "user", "content": "hello"}], max_tokens=2
        )
    globex_request = reply.headers["x-request-id"]
    officer = gateway.enclave(
        "tokens", "issue", "--tenant", "acme", "--roles", "compliance", "--ttl", "1h", "-q"
    )
    page = context.new_page()
    sign_in(page, gateway, officer)
    expect(page.get_by_text(re.compile(r"Trail verified"))).to_be_visible()
    found = json.loads(gateway.enclave("audit", "search", "--request-id", globex_request, "--json"))
    records = found["records"] if isinstance(found, dict) else found
    globex_ids = [record["id"] for record in records]
    assert globex_ids
    listed_links = page.locator("table a").evaluate_all("links => links.map(l => l.textContent)")
    assert not {str(event_id) for event_id in globex_ids} & set(listed_links)
    for event_id in globex_ids:
        response = page.goto(f"{gateway.base_url}/audit/ui/events/{event_id}")
        assert response is not None
        assert response.status == 404
        assert globex_request not in page.content()
