"""The operators' page (/gateway/ui) in a real headless Chromium (Debian's chromium and chromium-driver,
driven by selenium), on the shipped config served for real with the simulator as Azure.

Selenium is given the driver's path, so selenium-manager never looks for (or downloads) a browser or driver.
Waits poll the page (WebDriverWait); nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Gateway
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,1000",
)
SHOWS_WITHIN = 2.0  # seconds from a request's answer to its row on the page
SETTLES_WITHIN = 15.0  # the page loading and connecting on a busy machine
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.skip(
            f"needs Debian's chromium and chromium-driver ({', '.join(missing)} missing: make test installs them)"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in BROWSER_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(browser: WebDriver, gateway: Gateway, key: str) -> None:
    browser.get(f"{gateway.url}/gateway/ui")
    field = WebDriverWait(browser, SETTLES_WITHIN).until(
        expected_conditions.visibility_of_element_located((By.ID, "admin-key"))
    )
    field.send_keys(key)
    browser.find_element(By.ID, "connect").click()


def test_a_request_shows_up_live_and_expands_to_its_decision(
    browser: WebDriver, gateway: Gateway, client: openai.OpenAI, tmp_path: Path
) -> None:
    sign_in(browser, gateway, gateway.admin_key)
    wait = WebDriverWait(browser, SETTLES_WITHIN)
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "connection"), "live"))

    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Write a short poem about the sea"}]
    )
    answer = raw.parse()
    request_id = raw.headers["x-request-id"]
    row = WebDriverWait(browser, SHOWS_WITHIN, poll_frequency=0.05).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, f'[data-request-id="{request_id}"]'))
    )
    summary = row.find_element(By.TAG_NAME, "summary")
    text = summary.text
    model, deployment = raw.headers["x-gateway-model"], raw.headers["x-gateway-deployment"]
    assert f"auto → {model} @ {deployment}" in text and "200" in text
    assert "chat/completions" in text
    assert "ok" in (row.get_attribute("class") or "").split()
    assert answer.usage is not None and f"{answer.usage.prompt_tokens} / {answer.usage.completion_tokens}" in text

    summary.click()
    detail = WebDriverWait(browser, SETTLES_WITHIN).until(lambda _: row.find_element(By.CLASS_NAME, "detail"))
    assert "decision path" in detail.text.lower() and "attempts" in detail.text.lower()
    assert deployment in detail.find_element(By.TAG_NAME, "table").text
    assert detail.find_elements(By.CSS_SELECTOR, "ol li .ask")  # the questions the decision asked

    # The deployments panel and the charts fill in from their own calls.
    wait.until(lambda _: deployment in browser.find_element(By.ID, "deployment-rows").text)
    assert "healthy" in browser.find_element(By.ID, "deployment-rows").text
    wait.until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, "#chart-latency svg polyline, #chart-latency svg circle")
    )
    assert "p50" in browser.find_element(By.ID, "chart-latency").text

    screenshot = tmp_path / "gateway-ui.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE) and screenshot.stat().st_size > 10_000

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    # The key went in headers only: no URL the page loaded or called holds it.
    urls: list[str] = browser.execute_script(
        "return [location.href, ...performance.getEntriesByType('resource').map((entry) => entry.name)]"
    )
    # (The feed, never finished, has no entry; the calls that ended do.)
    assert any(url.endswith("/gateway/stats") for url in urls) and any(url.endswith("/deployments") for url in urls)
    for secret in (gateway.admin_key, *CLIENT_KEYS, SIMULATOR_KEY):
        assert not any(secret in url for url in urls)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("not-a-key", "not one of its admin keys"),
        (CLIENT_KEYS[0], "This is a client key"),
    ],
)
def test_a_refused_key_is_told_on_the_page(browser: WebDriver, gateway: Gateway, key: str, message: str) -> None:
    sign_in(browser, gateway, key)
    WebDriverWait(browser, SETTLES_WITHIN).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "key-message"), message)
    )
    assert not browser.find_element(By.ID, "dashboard").is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0  # a refused key is not kept


def test_the_key_is_asked_once_per_tab(browser: WebDriver, gateway: Gateway) -> None:
    """Kept in the tab's sessionStorage: a reload connects without asking again; forgetting it asks again."""
    sign_in(browser, gateway, gateway.admin_key)
    wait = WebDriverWait(browser, SETTLES_WITHIN)
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "connection"), "live"))
    browser.refresh()
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "connection"), "live"))
    assert not browser.find_element(By.ID, "sign-in").is_displayed()
    browser.find_element(By.ID, "sign-out").click()
    wait.until(expected_conditions.visibility_of_element_located((By.ID, "admin-key")))
    assert browser.execute_script("return sessionStorage.length") == 0
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
