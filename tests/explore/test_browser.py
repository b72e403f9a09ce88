"""The explorer (/explore) in a real browser: headless Chromium, driven by Selenium, against
`newsgraph serve` on a migrated and seeded database. What a person does: open the Kuril
Islands dispute, switch the point of view, open the 2021-10-07 call and read the sentence
behind it, search with a typo, and watch an event added through the API appear. Every test
ends with the browser console free of errors, and leaves a screenshot in
test-artifacts/explorer/."""

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
import pytest

from api.cli import seed
from api.shared.auth import issue_key
from db import migrate
from db.enums import ApiKeyScope
from tests.support.browser import (
    accessibility_violations,
    console_errors,
    require_browser,
    save_screenshot,
    start_browser,
)
from tests.support.clients import bearer
from tests.support.database import fresh_database
from tests.support.live_server import LiveServer

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

# `newsgraph serve`, chromedriver and Chromium.
pytestmark = pytest.mark.process

DISPUTE = "kuril-islands-dispute"
ISLANDS = "disputed-kuril-islands"
CALL = "kishida-putin-phone-call-2021-10-07"
ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"
WAIT_SECONDS = 20

T = TypeVar("T")


class Site:
    """The live server, its API (with an admin key) and where the explorer is."""

    def __init__(self, server: LiveServer, key: str) -> None:
        self.server = server
        self.api = httpx.Client(base_url=server.base_url, headers=bearer(key), timeout=30)

    def page(self, route: str = "") -> str:
        return f"{self.server.base_url}/explore{route}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_browser()
    url = asyncio.run(fresh_database("explorer"))
    migrate.upgrade(url)
    seed(url)
    key = asyncio.run(issue_key(url, name="explorer tests", scopes=[ApiKeyScope.ADMIN]))
    server = LiveServer(
        url,
        tmp_path_factory.mktemp("explorer"),
        env={
            "NEWSGRAPH_RATE_LIMIT_ENABLED": "false",
            "NEWSGRAPH_LOG_LEVEL": "warning",
            # A change becomes visible once every older transaction on the server has ended
            # (README: the change feed); on a shared server, a stream looks again each second.
            "NEWSGRAPH_CHANGE_STREAM_HEARTBEAT": "1",
        },
    )
    try:
        server.wait_ready()
        site = Site(server, key)
        yield site
        site.api.close()
    finally:
        server.close()


@pytest.fixture(scope="module")
def desktop(site: Site) -> Iterator["WebDriver"]:
    driver = start_browser(width=1060, height=900)
    yield driver
    driver.quit()


@pytest.fixture
def browser(desktop: "WebDriver", request: pytest.FixtureRequest) -> Iterator["WebDriver"]:
    """The desktop browser, its console emptied first; the test's last page is saved."""
    console_errors(desktop)
    yield desktop
    save_screenshot(desktop, request.node.name)


def wait_for(
    driver: "WebDriver",
    condition: Callable[["WebDriver"], T | bool | None],
    seconds: float = WAIT_SECONDS,
) -> T:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # An element read while the page redraws it is stale: look again.
    wait = WebDriverWait(driver, seconds, ignored_exceptions=[StaleElementReferenceException])
    return cast(T, wait.until(condition))


def find(driver: "WebDriver", css: str, seconds: float = WAIT_SECONDS) -> "WebElement":
    """The element, once the page shows it."""
    from selenium.webdriver.common.by import By

    def shown(d: "WebDriver") -> "WebElement | None":
        found = [e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
        return found[0] if found else None

    return wait_for(driver, shown, seconds)


def attribute(element: "WebElement", name: str) -> str:
    return element.get_attribute(name) or ""


def heading(driver: "WebDriver", text: str) -> "WebElement":
    """The page's h1 once it says `text` and the page has finished loading."""
    from selenium.webdriver.common.by import By

    def loaded(d: "WebDriver") -> "WebElement | None":
        main = d.find_element(By.ID, "main")
        titles = main.find_elements(By.TAG_NAME, "h1")
        if main.get_attribute("aria-busy") or not titles or titles[0].text != text:
            return None
        return titles[0]

    return wait_for(driver, loaded)


def open_dispute(driver: "WebDriver", site: Site, query: str = "") -> None:
    driver.get(site.page(f"#/disputes/{DISPUTE}{query}"))
    heading(driver, "Kuril Islands dispute")


def territory_names(driver: "WebDriver") -> list[str]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(
        By.CSS_SELECTOR, '[aria-label="Territories table"] tbody td:first-child'
    )
    return [cell.text for cell in cells]


def marked_quotes(driver: "WebDriver", within: "WebElement") -> list[str]:
    """The marked words of each quote, once every quote shows its sentence."""
    from selenium.webdriver.common.by import By

    def loaded(_: "WebDriver") -> list[str] | None:
        quotes = within.find_elements(By.CSS_SELECTOR, "li.cited blockquote")
        marks = [
            "".join(
                m.get_attribute("textContent") or "" for m in q.find_elements(By.TAG_NAME, "mark")
            )
            for q in quotes
        ]
        return marks if quotes and all(marks) else None

    return wait_for(driver, loaded)


def assert_no_console_errors(driver: "WebDriver") -> None:
    errors = console_errors(driver)
    assert errors == [], f"the browser console logged errors: {errors}"


def test_the_dispute_page_shows_its_parties_territories_names_and_timeline(
    site: Site, browser: "WebDriver"
) -> None:
    from selenium.webdriver.common.by import By

    dispute = site.api.get(f"/v1/disputes/{DISPUTE}").json()
    timeline = site.api.get(f"/v1/disputes/{DISPUTE}/timeline", params={"limit": 100}).json()

    open_dispute(browser, site)

    cards = browser.find_elements(By.CSS_SELECTOR, "ul.cards > li")
    assert [card.find_element(By.TAG_NAME, "h3").text for card in cards] == [
        party["entity"]["name"] for party in dispute["parties"]
    ]
    for card, party in zip(cards, dispute["parties"], strict=True):
        assert card.find_element(By.CSS_SELECTOR, ".position").text == party["position"]
        # Each position in the article's own words: the sentences, the cited words marked.
        assert marked_quotes(browser, card) == [
            item["quote"] for item in party["evidence"] if not item["editorial"]
        ]
    administered = browser.find_elements(
        By.CSS_SELECTOR, '[aria-label="Territories table"] tbody tr td:nth-child(2)'
    )
    assert territory_names(browser) == [t["entity"]["name"] for t in dispute["territories"]]
    assert [cell.text for cell in administered] == ["Russia"] * len(dispute["territories"])
    names = browser.find_elements(By.CSS_SELECTOR, '[aria-label="Names table"] tbody tr')
    assert len(names) == len(dispute["names"])

    rows = browser.find_elements(By.CSS_SELECTOR, "ol.timeline > li[data-event]")
    assert [row.get_attribute("data-event") for row in rows] == [
        entry["slug"] for entry in timeline["items"]
    ]
    widths = {
        row.get_attribute("data-event"): row.find_element(By.CSS_SELECTOR, ".band").size["width"]
        for row in rows
    }
    # Partial dates are bands as long as what they may cover: the year 1945 is wider than the
    # day of the call, and "from 1945 to the call" wider still.
    assert (
        widths["japan-russia-peace-treaty-not-signed"]
        > widths["soviet-seizure-of-disputed-kuril-islands"]
        > widths[CALL]
    )
    times = [row.find_element(By.CSS_SELECTOR, ".when").text for row in rows]
    assert times == [entry["time"]["edtf"] for entry in timeline["items"]]
    save_screenshot(browser, "dispute")
    assert_no_console_errors(browser)


def test_the_point_of_view_switch_renames_the_territory(site: Site, browser: "WebDriver") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_dispute(browser, site)
    assert territory_names(browser)[0] == "Disputed Kuril Islands"

    browser.find_element(
        By.XPATH, '//fieldset[@class="pov"]//label[normalize-space()="Japan"]'
    ).click()
    wait_for(browser, lambda d: "pov=japan" in d.current_url)
    heading(browser, "Kuril Islands dispute")
    wait_for(browser, lambda d: territory_names(d)[:1] == ["Northern Territories"])
    islands = browser.find_element(
        By.CSS_SELECTOR, f'[aria-label="Territories table"] a[href*="{ISLANDS}"]'
    )
    assert attribute(islands, "href").endswith(f"#/entities/{ISLANDS}?pov=japan")
    # The timeline's participants go by Japan's names too.
    assert (
        "Northern Territories"
        in site.api.get(f"/v1/disputes/{DISPUTE}/timeline", params={"pov": "japan"}).text
    )

    # By keyboard: focus stays on the switch, and the arrow key moves to the next party.
    focused = browser.switch_to.active_element
    assert focused.get_attribute("name") == "pov"
    assert focused.get_attribute("value") == "japan"
    focused.send_keys(Keys.ARROW_RIGHT)
    wait_for(browser, lambda d: "pov=russia" in d.current_url)
    heading(browser, "Kuril Islands dispute")
    wait_for(browser, lambda d: territory_names(d)[:1] == ["Southern Kurils"])
    assert browser.switch_to.active_element.get_attribute("value") == "russia"
    save_screenshot(browser, "dispute-pov-russia")

    browser.find_element(
        By.XPATH, '//fieldset[@class="pov"]//label[normalize-space()="Neutral"]'
    ).click()
    wait_for(browser, lambda d: territory_names(d)[:1] == ["Disputed Kuril Islands"])
    assert "pov=" not in browser.current_url
    assert_no_console_errors(browser)


def _sentence_of(body: str, start: int, end: int) -> str:
    """The sentence around a span, as a reader would cut it."""
    before = max(body.rfind(". ", 0, start), body.rfind("\n", 0, start))
    after = min(i for i in (body.find(". ", end - 1), body.find("\n", end)) if i >= 0)
    return body[before + 1 : after + 1].strip()


def test_opening_the_call_shows_the_sentence_behind_it_highlighted(
    site: Site, browser: "WebDriver"
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    event = site.api.get(f"/v1/events/{CALL}").json()
    article = site.api.get(f"/v1/articles/{ARTICLE}").json()
    cited = next(item for item in event["evidence"] if not item["editorial"] and not item["field"])

    open_dispute(browser, site, "?pov=japan")
    toggle = find(browser, f'li[data-event="{CALL}"] button.toggle')
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.send_keys(Keys.ENTER)  # by keyboard
    panel = find(browser, f"#event-{CALL}")
    assert toggle.get_attribute("aria-expanded") == "true"

    marks = marked_quotes(browser, panel)
    quotes = panel.find_elements(By.CSS_SELECTOR, "li.cited blockquote")
    assert cited["quote"] == article["body"][cited["start"] : cited["end"]]
    assert cited["quote"] in marks
    quote = quotes[marks.index(cited["quote"])]
    assert quote.text == _sentence_of(article["body"], cited["start"], cited["end"])
    assert quote.text.startswith("Prime Minister Fumio Kishida said he spoke by phone")
    # The editorial notes say how the date was worked out, marked as notes.
    notes = [n.text for n in panel.find_elements(By.CSS_SELECTOR, "li.note p")]
    assert [i["note"] for i in event["evidence"] if i["editorial"]] == notes
    save_screenshot(browser, "dispute-call-evidence")
    # The README's picture (docs/explorer.png): the page down to that sentence.
    save_screenshot(
        browser, "dispute-readme", until=quote.find_element(By.XPATH, "ancestor::li[1]")
    )

    # The link under the sentence opens the article at those words, mentions linked.
    quote.find_element(By.XPATH, "following-sibling::p[@class='source']/a").click()
    heading(browser, article["headline"])
    find(browser, ".body mark")
    # Marked across the mentions inside it ("Russian", "Vladimir Putin"), which stay links.
    in_body = browser.find_elements(By.CSS_SELECTOR, ".body mark")
    assert "".join(attribute(m, "textContent") for m in in_body) == cited["quote"]
    mentions = browser.find_elements(By.CSS_SELECTOR, ".body a.mention")
    assert mentions
    assert {attribute(m, "href").rsplit("/", 1)[1] for m in mentions} >= {
        "fumio-kishida",
        "vladimir-putin",
    }
    save_screenshot(browser, "article-cited")
    assert_no_console_errors(browser)


def test_typing_kurils_suggests_the_islands_and_enter_opens_them(
    site: Site, browser: "WebDriver"
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site.page())
    heading(browser, "Disputes")
    box = browser.find_element(By.ID, "q")
    assert box.accessible_name == "Search entities, events, disputes and articles"
    box.send_keys("kurils")  # the islands are "Kuril", their Russian name "Southern Kurils"

    first = find(browser, "#suggestions [role=option]")
    assert box.get_attribute("aria-expanded") == "true"
    assert first.find_element(By.CLASS_NAME, "title").text == "Disputed Kuril Islands"
    assert first.find_element(By.CLASS_NAME, "type").text == "entity"
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ENTER)

    heading(browser, "Disputed Kuril Islands")
    assert browser.current_url.endswith(f"#/entities/{ISLANDS}")
    assert browser.switch_to.active_element.tag_name == "h1"  # focus follows to the new page
    entity = site.api.get(f"/v1/entities/{ISLANDS}").json()
    aliases = browser.find_elements(By.CSS_SELECTOR, '[aria-label="Names table"] tbody tr')
    assert [
        (
            row.find_element(By.CSS_SELECTOR, "td:nth-child(1)").text,
            row.find_element(By.CSS_SELECTOR, "td:nth-child(2)").text,
        )
        for row in aliases
    ] == [(a["name"], a["used_by"]["name"] if a["used_by"] else "—") for a in entity["aliases"]]
    relations = [
        row.text
        for row in browser.find_elements(By.CSS_SELECTOR, '[aria-label="Relations table"] tbody tr')
    ]
    assert "Disputed Kuril Islands administered by Russia 1991-12-26/.." in [
        re.sub(r"\s*Evidence \(\d+\)$", "", row) for row in relations
    ]
    find(browser, 'a[href="#/events/soviet-seizure-of-disputed-kuril-islands"]')
    find(browser, f'a[href="#/articles/{ARTICLE}"]')
    # The articles-per-year panel is shown only where the server has the histogram endpoint.
    has_histogram = "/v1/articles/histogram" in site.api.get("/openapi.json").json()["paths"]
    titles = [h2.text for h2 in browser.find_elements(By.TAG_NAME, "h2")]
    assert ("Articles per year" in titles) == has_histogram
    save_screenshot(browser, "entity")

    # Enter on the text itself, no suggestion chosen, lists every hit with its matches marked.
    box.clear()
    box.send_keys("Kishda", Keys.ENTER)
    heading(browser, "Search: Kishda")
    hits = browser.find_elements(By.CSS_SELECTOR, "main li")
    assert hits
    assert hits[0].find_element(By.TAG_NAME, "a").text == "Fumio Kishida"
    assert attribute(hits[0].find_element(By.TAG_NAME, "a"), "href").endswith(
        "#/entities/fumio-kishida"
    )
    assert_no_console_errors(browser)


def _timeline_links(site: Site) -> list[dict[str, Any]]:
    """The dispute's timeline as a PATCH sends it back: events, roles, significance, evidence."""
    slugs: dict[str, str] = {}

    def evidence(item: dict[str, Any]) -> dict[str, Any]:
        if item["editorial"]:
            return {"editorial": True, "note": item["note"], "field": item["field"]}
        article = item["article_id"]
        if article not in slugs:
            slugs[article] = site.api.get(f"/v1/articles/{article}").json()["slug"]
        return {
            "article": slugs[article],
            "quote": item["quote"],
            "start": item["start"],
            "end": item["end"],
            "field": item["field"],
        }

    entries = site.api.get(f"/v1/disputes/{DISPUTE}/timeline", params={"limit": 100}).json()
    return [
        {
            "event": entry["slug"],
            "role": entry["role"],
            "significance": entry["significance"],
            "evidence": [evidence(item) for item in entry["link_evidence"]],
        }
        for entry in entries["items"]
    ]


def test_an_event_added_through_the_api_appears_on_the_open_dispute_page(
    site: Site, browser: "WebDriver"
) -> None:
    from selenium.webdriver.common.by import By

    open_dispute(browser, site)
    find(browser, '.live-state[data-state="open"]')
    browser.execute_script("window.notReloaded = true")
    rows_before = len(browser.find_elements(By.CSS_SELECTOR, "ol.timeline > li[data-event]"))

    created = site.api.post(
        "/v1/events",
        json={
            "slug": "explorer-test-talks-2022-03",
            "title": "Japan and Russia hold talks on the islands",
            "type": "CONSULT",
            "time": "2022-03",
            "participants": [
                {"entity": "japan", "role": "actor"},
                {"entity": "russia", "role": "actor"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    dispute = site.api.get(f"/v1/disputes/{DISPUTE}")
    links = [
        *_timeline_links(site),
        {"event": "explorer-test-talks-2022-03", "role": "negotiation"},
    ]
    patched = site.api.patch(
        f"/v1/disputes/{DISPUTE}",
        json={"events": links},
        headers={"If-Match": dispute.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text

    row = find(browser, 'li[data-event="explorer-test-talks-2022-03"]', seconds=60)
    assert "fresh" in attribute(row, "class").split()
    assert (
        row.find_element(By.CSS_SELECTOR, ".what").text
        == "Japan and Russia hold talks on the islands"
    )
    assert row.find_element(By.CSS_SELECTOR, ".when").text == "2022-03"
    assert row.find_element(By.CSS_SELECTOR, ".band").size["width"] > 0
    assert (
        len(browser.find_elements(By.CSS_SELECTOR, "ol.timeline > li[data-event]"))
        == rows_before + 1
    )
    assert browser.execute_script("return window.notReloaded") is True
    status = browser.find_element(By.ID, "status")
    wait_for(
        browser,
        lambda _: "Japan and Russia hold talks on the islands" in attribute(status, "textContent"),
    )
    save_screenshot(browser, "dispute-live-update")
    assert_no_console_errors(browser)


@pytest.mark.parametrize(
    ("route", "title"),
    [
        ("", "Disputes"),
        (f"#/disputes/{DISPUTE}?pov=russia", "Kuril Islands dispute"),
        (f"#/entities/{ISLANDS}", "Disputed Kuril Islands"),
        (
            f"#/events/{CALL}",
            "Kishida and Putin speak by phone, their first conversation since Kishida took office",
        ),
        (
            f"#/articles/{ARTICLE}?start=34&end=101",
            "Kishida and Putin agree by phone to advance peace treaty talks",
        ),
        ("#/search?q=kuril", "Search: kuril"),
    ],
)
def test_every_page_passes_the_accessibility_checks(
    site: Site, browser: "WebDriver", route: str, title: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(site.page(route))
    heading(browser, title)
    # With every disclosure open, so that what they hold is checked too.
    for toggle in browser.find_elements(By.CSS_SELECTOR, "li.entry button.toggle"):
        toggle.click()
    browser.execute_script(
        "document.querySelectorAll('details').forEach((d) => { d.open = true; })"
    )
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "li.cited:not(:has(.source))"))

    assert accessibility_violations(browser) == []
    assert_no_console_errors(browser)


def test_the_dispute_page_fits_a_phone(site: Site, request: pytest.FixtureRequest) -> None:
    from selenium.webdriver.common.by import By

    phone = start_browser(width=375, height=812, phone=True)
    try:
        open_dispute(phone, site, "?pov=japan")
        width = phone.execute_script("return window.innerWidth")
        assert width == 375
        # Nothing but the tables' own scrolling regions is wider than the screen.
        assert phone.execute_script("return document.documentElement.scrollWidth") <= width
        row = phone.find_element(By.CSS_SELECTOR, f'li[data-event="{CALL}"]')
        label, track = (
            row.find_element(By.CSS_SELECTOR, ".label"),
            row.find_element(By.CSS_SELECTOR, ".track"),
        )
        assert track.location["y"] > label.location["y"]  # stacked, not squeezed side by side
        save_screenshot(phone, "dispute-phone")
        assert accessibility_violations(phone) == []
        assert_no_console_errors(phone)
    finally:
        save_screenshot(phone, request.node.name)
        phone.quit()


def test_an_unknown_dispute_says_what_the_api_said(site: Site, browser: "WebDriver") -> None:
    from selenium.webdriver.common.by import By

    problem = site.api.get("/v1/disputes/no-such-dispute").json()
    browser.get(site.page("#/disputes/no-such-dispute"))
    heading(browser, "Error")
    assert browser.find_element(By.CSS_SELECTOR, "[role=alert]").text == problem["detail"]
    # The 404s the page was answered are the only errors the console shows.
    errors = console_errors(browser)
    assert errors
    assert all("no-such-dispute" in e["message"] and "404" in e["message"] for e in errors)
