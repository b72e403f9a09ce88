"""Headless Chromium driven by Selenium, for the explorer's tests (tests/explore/).

The browser is Debian's `chromium` with its `chromium-driver`, found on PATH. Where either is
missing (or Selenium is), the tests are skipped with the command that installs them, unless
NEWSGRAPH_BROWSER_TESTS=required (CI sets it): then they fail, so a run that was meant to
drive a browser cannot pass without one.

Everything the browser logs is kept: a test asserts the console stayed free of errors, and a
screenshot of every test's last page is saved under test-artifacts/explorer/ (gitignored).
"""

import base64
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "explorer"
# axe-core, the accessibility engine, pinned with the explorer's type checker (explorer/).
AXE = ROOT / "explorer" / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("NEWSGRAPH_BROWSER_TESTS") == "required"


def _missing() -> list[str]:
    """What is missing to drive a browser, each with how to get it."""
    missing = []
    absent = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if absent:
        missing.append(
            f"{' and '.join(absent)} (apt-get install -y chromium chromium-driver, on Debian "
            "or Ubuntu; .ci/run installs them)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("Selenium (pip install -e '.[dev]', or make install)")
    return missing


def require_browser() -> None:
    """Skip the test (fail it, where a browser is required) when there is no browser."""
    missing = _missing()
    if not missing:
        return
    message = "the explorer's browser tests need " + "; ".join(missing)
    if REQUIRED:
        pytest.fail(message + " (NEWSGRAPH_BROWSER_TESTS=required)")
    pytest.skip(message)


def start_browser(*, width: int = 1280, height: int = 900, phone: bool = False) -> "WebDriver":
    """A headless Chromium. `phone` emulates a phone's screen (touch, device width), which a
    desktop window cannot be made as narrow as."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        f"--window-size={width},{height}",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    if phone:
        options.add_experimental_option(
            "mobileEmulation",
            {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "touch": True}},
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver's path is given, so Selenium Manager (which would look for one online) never runs.
    service = Service(executable_path=str(shutil.which("chromedriver")))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def console_errors(driver: "WebDriver") -> list[dict[str, Any]]:
    """The errors the page logged since the last call (failed requests included)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry for entry in entries if entry.get("level") == "SEVERE"]


def save_screenshot(driver: "WebDriver", name: str, until: "WebElement | None" = None) -> Path:
    """The whole page as it is now, not only the window's part of it (Chromium's DevTools
    protocol), or its top down to the end of `until`, in test-artifacts/explorer/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    height = size["height"]
    if until is not None:
        height = until.location["y"] + until.size["height"] + 16
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(height, 10_000)}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": clip | {"scale": 1}},
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def accessibility_violations(driver: "WebDriver") -> list[dict[str, Any]]:
    """What axe-core finds wrong with the page as it is now (every rule of its default set:
    WCAG 2 A and AA, and best practices), each rule with the elements that break it."""
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}): `make check-explorer` installs it"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    driver.execute_script(AXE.read_text())
    found: list[dict[str, Any]] = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ["violations"] }).then(
          (results) => done(results.violations.map((rule) => ({
            id: rule.id, impact: rule.impact, help: rule.help,
            elements: rule.nodes.map((node) => node.target.join(" ")),
          }))),
          (error) => done([{ id: "axe failed", help: String(error) }]),
        );
        """
    )
    return found
