// @ts-check
/**
 * The explorer's shell: the search box with its suggestions, and the router that shows the page
 * of the address after `#` (`#/disputes/kuril-islands-dispute?pov=japan`), so that every page
 * can be linked to, reloaded and reached with the browser's back button.
 */

import { get } from "./client.js";
import { h, replace, snippetNodes } from "./dom.js";
import {
  articlePage,
  disputePage,
  entityPage,
  eventPage,
  hitRoute,
  homePage,
  navigateWith,
  searchPage,
} from "./views.js";

/** @typedef {import("./views.js").Page} Page */
/** @typedef {import("./views.js").Context} Context */

/** @param {string} id */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

const main = byId("main");
const status = byId("status");

/** @param {string} message */
function announce(message) {
  status.textContent = "";
  // A change of text the screen reader notices even when the same words come twice.
  window.setTimeout(() => {
    status.textContent = message;
  }, 50);
}

/** @type {[RegExp, (match: RegExpExecArray, context: Context) => Promise<Page>][]} */
const ROUTES = [
  [/^$/, () => homePage()],
  [/^search$/, (_, context) => searchPage(context)],
  [
    /^disputes\/([^/]+)$/,
    (match, context) => disputePage(decodeURIComponent(match[1] ?? ""), context),
  ],
  [
    /^entities\/([^/]+)$/,
    (match, context) => entityPage(decodeURIComponent(match[1] ?? ""), context),
  ],
  [/^events\/([^/]+)$/, (match) => eventPage(decodeURIComponent(match[1] ?? ""))],
  [
    /^articles\/([^/]+)$/,
    (match, context) => articlePage(decodeURIComponent(match[1] ?? ""), context),
  ],
];

/** @type {Page | null} */
let shown = null;
let navigation = 0;
/** Where focus goes once the next page is shown; the page's heading when unset. */
let focusNext = "";

navigateWith((address, focus = "") => {
  focusNext = focus;
  location.hash = address;
});

async function show() {
  const current = ++navigation;
  const [path = "", query = ""] = location.hash.replace(/^#\/?/, "").split("?", 2);
  const context = { params: new URLSearchParams(query), announce };
  shown?.stop?.();
  shown = null;
  main.setAttribute("aria-busy", "true");
  /** @type {Page} */
  let page;
  try {
    const found = ROUTES.map(([pattern, view]) => ({ match: pattern.exec(path), view })).find(
      (each) => each.match,
    );
    page = found?.match
      ? await found.view(found.match, context)
      : { title: "Not found", content: [h("h1", { tabindex: -1 }, "Not found")] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    page = {
      title: "Error",
      content: [h("h1", { tabindex: -1 }, "Error"), h("p", { role: "alert" }, message)],
    };
  }
  if (current !== navigation) {
    page.stop?.(); // left while it loaded
    return;
  }
  shown = page;
  replace(main, ...page.content);
  main.removeAttribute("aria-busy");
  document.title = `${page.title} — Newsgraph explorer`;
  const target = (focusNext && main.querySelector(focusNext)) || main.querySelector("h1");
  focusNext = "";
  if (target instanceof HTMLElement) target.focus();
  // An article opened at a piece of evidence shows those words.
  main.querySelector(".body mark")?.scrollIntoView({ block: "center" });
}

// ---------------------------------------------------------------------------------------------
// The search box: a combobox whose suggestions come from GET /v1/search as one types (names
// and aliases are matched typo-tolerantly); Enter on a suggestion opens it, Enter on the text
// opens every result.

const form = /** @type {HTMLFormElement} */ (byId("search"));
const input = /** @type {HTMLInputElement} */ (byId("q"));
const listbox = byId("suggestions");
/** @type {readonly import("newsgraph-api").Schemas["SearchHit"][]} */
let hits = [];
let active = -1;
let asked = 0;
let typing = 0;

/** @param {boolean} open */
function expand(open) {
  listbox.hidden = !open;
  input.setAttribute("aria-expanded", String(open));
  if (!open) setActive(-1);
}

/** @param {number} index */
function setActive(index) {
  active = index;
  for (const [at, option] of [...listbox.children].entries()) {
    option.setAttribute("aria-selected", String(at === index));
  }
  const option = listbox.children[index];
  if (option) {
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

async function suggest() {
  const q = input.value.trim();
  const ask = ++asked;
  if (!q) {
    hits = [];
    expand(false);
    return;
  }
  const page = await get("/v1/search", { query: { q, limit: 8 } });
  if (ask !== asked) return; // a later keystroke asked again
  hits = page.items;
  replace(
    listbox,
    hits.map((hit, index) => {
      const option = h(
        "li",
        { role: "option", id: `suggestion-${index}`, "aria-selected": "false" },
        h("span", { class: "type" }, hit.type),
        " ",
        h("span", { class: "title" }, hit.title),
        h("span", { class: "snippet" }, snippetNodes(hit.snippet)),
      );
      // mousedown, not click: it comes before the input loses focus and closes the list.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(index);
      });
      return option;
    }),
  );
  expand(hits.length > 0);
  announce(hits.length ? `${hits.length} suggestions` : "No suggestions");
}

/** @param {number} index */
function choose(index) {
  const hit = hits[index];
  expand(false);
  if (hit) location.hash = hitRoute(hit);
}

input.addEventListener("input", () => {
  clearTimeout(typing);
  typing = window.setTimeout(() => suggest().catch((error) => announce(error.message)), 150);
});
input.addEventListener("keydown", (event) => {
  const count = hits.length;
  if (event.key === "ArrowDown" && count) {
    event.preventDefault();
    if (listbox.hidden) expand(true);
    setActive((active + 1) % count);
  } else if (event.key === "ArrowUp" && count) {
    event.preventDefault();
    if (listbox.hidden) expand(true);
    setActive((active - 1 + count) % count);
  } else if (event.key === "Escape") {
    if (listbox.hidden) input.value = "";
    expand(false);
  }
});
input.addEventListener("blur", () => expand(false));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (active >= 0) {
    choose(active);
  } else if (input.value.trim()) {
    expand(false);
    location.hash = `#/search?${new URLSearchParams({ q: input.value.trim() })}`;
  }
});

byId("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.querySelector("h1")?.focus();
});

window.addEventListener("hashchange", () => void show());
void show();
