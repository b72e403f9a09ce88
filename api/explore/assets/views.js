// @ts-check
/**
 * The explorer's pages, each a function of its address that reads the API and returns what to
 * show. Every word of content comes from the data; the page adds only headings and labels.
 */

import { all, documentHas, get, getUnchecked } from "./client.js";
import {
  annotate,
  append,
  entityLink,
  h,
  publishedDate,
  replace,
  route,
  sentenceAround,
  snippetNodes,
  words,
} from "./dom.js";
import { feedEnd, follow } from "./live.js";
import { axisFor, countedTimes, countsText, countsTrack, scale, track } from "./timeline.js";

/** @typedef {import("newsgraph-api").Schemas} S */
/** @typedef {S["EvidenceRead"]} Evidence */
/** @typedef {S["EntityRef"]} EntityRef */
/** @typedef {S["TimelineEntry"]} Entry */
/** @typedef {S["DisputeRead"]} Dispute */

/**
 * @typedef {object} Page
 * @property {string} title  For the document's title.
 * @property {(import("./dom.js").Child | import("./dom.js").Child[])[]} content
 * @property {() => void} [stop]  Called when the page is left.
 */

/**
 * @typedef {object} Context
 * @property {URLSearchParams} params  The address's query.
 * @property {(message: string) => void} announce  Said by the page's live region.
 */

// ---------------------------------------------------------------------------------------------
// Pieces the pages share

let sections = 0;

/**
 * A section with its heading, labelled by it.
 * @param {string} title
 * @param {...(import("./dom.js").Child | import("./dom.js").Child[])} children
 */
function section(title, ...children) {
  const id = `section-${++sections}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** @param {string} text */
function heading(text) {
  return h("h1", { tabindex: -1 }, text);
}

/**
 * A table whose rows may be wider than a phone: it scrolls sideways by itself, reachable
 * by keyboard.
 * @param {string} caption
 * @param {string[]} columns
 * @param {Node[][]} rows
 */
function table(caption, columns, rows) {
  return h(
    "div",
    { class: "table", tabindex: 0, role: "region", "aria-label": `${caption} table` },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((column) => h("th", { scope: "col" }, column)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((cells) =>
          h(
            "tr",
            {},
            cells.map((cell) => h("td", {}, cell)),
          ),
        ),
      ),
    ),
  );
}

/**
 * The point-of-view switch: the canonical names, or those each party uses. Picking one goes
 * to the same page under that `pov`.
 * @param {readonly EntityRef[]} parties
 * @param {string | null} current
 * @param {(pov: string | null) => void} pick
 */
function povSwitch(parties, current, pick) {
  const options = [{ slug: null, name: "Neutral" }, ...parties];
  return h(
    "fieldset",
    { class: "pov" },
    h("legend", {}, "Point of view"),
    options.map((option) => {
      const input = h("input", {
        type: "radio",
        name: "pov",
        value: option.slug ?? "",
        checked: option.slug === current,
      });
      input.addEventListener("change", () => pick(option.slug));
      return h("label", {}, input, " ", option.name);
    }),
  );
}

/**
 * The unique entities of a list, in order.
 * @param {readonly (EntityRef | null | undefined)[]} entities
 */
function unique(entities) {
  /** @type {Map<string, EntityRef>} */
  const found = new Map();
  for (const entity of entities) if (entity && !found.has(entity.id)) found.set(entity.id, entity);
  return [...found.values()];
}

/**
 * Articles read for their evidence, once per page load.
 * @type {Map<string, Promise<S["ArticleRead"]>>}
 */
const articles = new Map();

/** @param {string} id */
function article(id) {
  let found = articles.get(id);
  if (!found) {
    found = get("/v1/articles/{article}", { path: { article: id }, query: {} });
    articles.set(id, found);
    found.catch(() => articles.delete(id));
  }
  return found;
}

/**
 * The evidence of a fact: each cited span shown in its sentence, the span marked, with a link
 * to the article scrolled to it; each editorial note as the note. `field` says which part of
 * the fact an item supports.
 * @param {readonly Evidence[]} items
 */
export function evidenceList(items) {
  return h("ul", { class: "evidence" }, items.map(evidenceItem));
}

/** @param {Evidence} item */
function evidenceItem(item) {
  const field = item.field
    ? h(
        "span",
        { class: "field" },
        h("span", { class: "visually-hidden" }, "supports: "),
        words(item.field),
      )
    : null;
  const { start, end } = item;
  if (item.editorial || start === null || end === null) {
    return h(
      "li",
      { class: "note" },
      h("span", { class: "tag" }, "Editorial note"),
      field,
      h("p", {}, item.note ?? ""),
    );
  }
  const quote = h("blockquote", {}, item.quote ?? "");
  const entry = h("li", { class: "cited" }, quote, field);
  article(item.article_id).then(
    (read) => {
      const sentence = sentenceAround(read.body, start, end);
      replace(
        quote,
        sentence.cutBefore ? "… " : null,
        annotate(sentence.text, sentence.offset, { marks: [{ start, end }] }),
        sentence.cutAfter ? " …" : null,
      );
      quote.setAttribute("lang", read.language);
      entry.append(
        h(
          "p",
          { class: "source" },
          h("a", { href: route(`articles/${read.slug}`, { start, end }) }, headline(read)),
          ` — ${read.source.name}, ${publishedDate(read.published_at, read.published_precision)}`,
        ),
      );
    },
    (/** @type {Error} */ error) =>
      entry.append(h("p", { class: "error", role: "alert" }, error.message)),
  );
  return entry;
}

/**
 * A disclosure that builds its evidence list when first opened.
 * @param {readonly Evidence[]} items
 * @param {string} [label]
 */
function evidenceDetails(items, label = "Evidence") {
  if (items.length === 0) return null;
  const details = h(
    "details",
    { class: "evidence-details" },
    h("summary", {}, `${label} (${items.length})`),
  );
  details.addEventListener("toggle", () => {
    if (details.open && details.childElementCount === 1) details.append(evidenceList(items));
  });
  return details;
}

/**
 * A list read page by page: the first page now, the next one when asked (`next_cursor`).
 * @template T
 * @param {(cursor: string | undefined) => Promise<{items: readonly T[], next_cursor: string | null}>} readPage
 * @param {(item: T) => (Node | string)[]} render
 * @param {string} empty  What to say when there is nothing.
 */
async function pagedList(readPage, render, empty) {
  const list = h("ul", { class: "plain" });
  const more = h("button", { type: "button", class: "more" }, "More");
  const wrapper = h("div", {}, list);
  /** @param {string | undefined} cursor */
  const load = async (cursor) => {
    const page = await readPage(cursor);
    const added = page.items.map((item) => h("li", {}, render(item)));
    list.append(...added);
    if (page.next_cursor) {
      const next = page.next_cursor;
      more.onclick = async () => {
        more.disabled = true;
        const before = list.childElementCount;
        await load(next);
        more.disabled = false;
        list.children[before]?.querySelector("a")?.focus();
      };
      wrapper.append(more);
    } else {
      more.remove();
    }
  };
  await load(undefined);
  if (list.childElementCount === 0) return h("p", { class: "empty" }, empty);
  return wrapper;
}

/**
 * An article's headline, or its slug when it has none.
 * @param {{headline: string | null, slug: string}} read
 */
function headline(read) {
  return read.headline ?? read.slug;
}

/** @param {S["TimeRead"] | null | undefined} time */
function when(time) {
  return time ? time.edtf : "undated";
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === "object" && value !== null;
}

/**
 * A year histogram's answer (`interval=year`) as the counts the page draws, if it has the
 * contract's shape (the page looks before it trusts: the endpoints may be missing or older).
 * Each bucket is named by its first day; a spanning range by the first days of its first and
 * last buckets, or null where the items' time is open on that side.
 * @param {unknown} value
 * @returns {import("./timeline.js").Counts | null}
 */
function asCounts(value) {
  if (!isObject(value) || !Array.isArray(value.buckets) || !Array.isArray(value.spanning_ranges))
    return null;
  if (typeof value.spanning !== "number" || typeof value.undated !== "number") return null;
  const year = (/** @type {unknown} */ each) =>
    typeof each === "string" && /^\d{4}-01-01$/.test(each) ? each.slice(0, 4) : null;
  const buckets = [];
  for (const bucket of value.buckets) {
    const key = isObject(bucket) ? year(bucket.start) : null;
    if (key === null || !isObject(bucket) || typeof bucket.count !== "number") return null;
    buckets.push({ key, start: `${key}-01-01`, end: `${key}-12-31`, count: bucket.count });
  }
  const ranges = [];
  for (const range of value.spanning_ranges) {
    if (!isObject(range) || typeof range.count !== "number") return null;
    const first = range.first === null ? null : year(range.first);
    const last = range.last === null ? null : year(range.last);
    if ((range.first !== null && first === null) || (range.last !== null && last === null))
      return null;
    ranges.push({
      start: first === null ? null : `${first}-01-01`,
      end: last === null ? null : `${last}-12-31`,
      count: range.count,
    });
  }
  return { buckets, spanning_ranges: ranges, spanning: value.spanning, undated: value.undated };
}

/**
 * Counts per year from a histogram endpoint, where this server's OpenAPI document has it
 * (null where it has not, or answers something else).
 * @param {string} path
 * @param {Record<string, string>} filter
 * @returns {Promise<import("./timeline.js").Counts | null>}
 */
async function countsPerYear(path, filter) {
  if (!(await documentHas(path))) return null;
  const query = new URLSearchParams({ ...filter, interval: "year" });
  return asCounts(await getUnchecked(`${path}?${query}`).catch(() => null));
}

/**
 * A histogram on an axis of its own, its numbers written out below.
 * @param {string} title
 * @param {import("./timeline.js").Counts} counts
 */
function countsSection(title, counts) {
  const axis = axisFor(countedTimes(counts));
  return section(
    title,
    axis ? h("div", { class: "counts-chart" }, scale(axis), countsTrack(counts, axis)) : null,
    h("p", { class: "meta" }, countsText(counts)),
  );
}

// ---------------------------------------------------------------------------------------------
// Pages

/** @returns {Promise<Page>} */
export async function homePage() {
  const disputes = await pagedList(
    (cursor) => get("/v1/disputes", { query: { cursor } }),
    (dispute) => [
      h("a", { href: route(`disputes/${dispute.slug}`) }, dispute.title),
      h(
        "span",
        { class: "meta" },
        ` ${words(dispute.kind)} · ${words(dispute.status)} · ${when(dispute.time)}`,
      ),
    ],
    "No disputes yet.",
  );
  return { title: "Disputes", content: [heading("Disputes"), disputes] };
}

/** @param {Context} context @returns {Promise<Page>} */
export async function searchPage(context) {
  const q = context.params.get("q") ?? "";
  const title = `Search: ${q}`;
  if (!q.trim()) return { title, content: [heading("Search")] };
  const hits = await pagedList(
    (cursor) => get("/v1/search", { query: { q, cursor } }),
    (hit) => [
      h("span", { class: "type" }, hit.type),
      " ",
      h("a", { href: hitRoute(hit) }, hit.title),
      h("p", { class: "snippet" }, snippetNodes(hit.snippet)),
    ],
    "Nothing found.",
  );
  return { title, content: [heading(title), hits] };
}

/** Where each kind of search hit has its page. @type {Record<S["HitType"], string>} */
const PAGES = { entity: "entities", event: "events", dispute: "disputes", article: "articles" };

/** The page of a search hit. @param {S["SearchHit"]} hit */
export function hitRoute(hit) {
  return route(`${PAGES[hit.type]}/${hit.slug}`);
}

/**
 * A dispute: its parties and their positions, the territories with who administers and who
 * claims each, the names each party uses, and its timeline, each event opening the article
 * words behind it. It follows the change feed and redraws what changed, without a reload.
 * @param {string} slug
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function disputePage(slug, context) {
  const pov = context.params.get("pov");
  /** @type {import("./live.js").ResourceType[]} */
  const watched = ["dispute", "event", "entity"];
  const position = await feedEnd(watched);
  // The counts are asked for once the dispute is known: for a dispute that is not there, the
  // page (and the console) shows the one 404 that says so.
  const read = async () => {
    const [found, timeline] = await Promise.all([
      get("/v1/disputes/{dispute}", { path: { dispute: slug }, query: { pov: pov ?? undefined } }),
      all("/v1/disputes/{dispute}/timeline", {
        path: { dispute: slug },
        query: { pov: pov ?? undefined },
      }),
    ]);
    return /** @type {const} */ ([
      found,
      timeline,
      await countsPerYear("/v1/events/histogram", { dispute: found.slug }),
    ]);
  };
  let [dispute, entries, counts] = await read();

  const facts = h("div", {});
  const names = h("div", {});
  const drawFacts = () => {
    replace(
      facts,
      h(
        "p",
        { class: "meta" },
        `${words(dispute.kind)} · ${words(dispute.status)} · ${when(dispute.time)}`,
      ),
      dispute.summary ? h("p", {}, dispute.summary) : null,
      evidenceDetails(dispute.evidence),
      partiesSection(dispute, pov),
      territoriesSection(dispute, pov),
    );
    replace(names, namesSection(dispute, pov));
  };
  drawFacts();

  const timeline = timelineSection(pov);
  timeline.draw(entries, counts, new Set());

  let pending = 0;
  const refresh = async () => {
    const [newDispute, newEntries, newCounts] = await read();
    if (newDispute !== dispute) {
      dispute = newDispute;
      drawFacts();
    }
    if (JSON.stringify([newEntries, newCounts]) !== JSON.stringify([entries, counts])) {
      const known = new Set(entries.map((entry) => entry.id));
      const added = newEntries.filter((entry) => !known.has(entry.id));
      entries = newEntries;
      counts = newCounts;
      timeline.draw(entries, counts, new Set(added.map((entry) => entry.id)));
      for (const entry of added) context.announce(`New on the timeline: ${entry.title}`);
    }
  };
  /** @param {import("./live.js").Change} change */
  const concerns = (change) => {
    if (change.type === "dispute") return change.id === dispute.id;
    if (change.type === "event") return entries.some((entry) => entry.id === change.id);
    return [...dispute.parties, ...dispute.territories, ...dispute.names].some(
      (part) => part.entity.id === change.id,
    );
  };
  const stop = follow(
    watched,
    position,
    (change) => {
      if (!concerns(change)) return;
      clearTimeout(pending);
      pending = window.setTimeout(
        () => refresh().catch((error) => context.announce(error.message)),
        200,
      );
    },
    (state) => timeline.live(state),
  );

  const title = dispute.title;
  return {
    title,
    content: [
      heading(title),
      dispute.parties.length
        ? povSwitch(
            dispute.parties.map((party) => party.entity),
            pov,
            (picked) =>
              navigate(route(`disputes/${slug}`, { pov: picked }), 'input[name="pov"]:checked'),
          )
        : null,
      facts,
      timeline.element,
      names,
    ],
    stop: () => {
      clearTimeout(pending);
      stop();
    },
  };
}

/** @param {Dispute} dispute @param {string | null} pov */
function partiesSection(dispute, pov) {
  if (dispute.parties.length === 0) return null;
  return section(
    "Parties",
    h(
      "ul",
      { class: "cards" },
      dispute.parties.map((party) =>
        h(
          "li",
          {},
          h("h3", {}, entityLink(party.entity, pov)),
          h("p", { class: "meta" }, words(party.role)),
          party.position ? h("p", { class: "position" }, party.position) : null,
          party.evidence.length ? evidenceList(party.evidence) : null,
        ),
      ),
    ),
  );
}

/** @param {Dispute} dispute @param {string | null} pov */
function territoriesSection(dispute, pov) {
  if (dispute.territories.length === 0) return null;
  return section(
    "Territories",
    table(
      "Territories",
      ["Territory", "Administered by", "Claimed by", "Evidence"],
      dispute.territories.map((territory) => [
        entityLink(territory.entity, pov),
        territory.administered_by
          ? entityLink(territory.administered_by, pov)
          : h("span", { class: "empty" }, "—"),
        territory.claimed_by
          ? entityLink(territory.claimed_by, pov)
          : h("span", { class: "empty" }, "—"),
        evidenceDetails(territory.evidence) ?? h("span", { class: "empty" }, "—"),
      ]),
    ),
  );
}

/** @param {Dispute} dispute @param {string | null} pov */
function namesSection(dispute, pov) {
  if (dispute.names.length === 0) return null;
  return section(
    "Names",
    table(
      "Names",
      ["Name", "Of", "Used by", "Language", "Kind", "Evidence"],
      dispute.names.map((name) => [
        h("span", { lang: name.language ?? false }, name.name),
        entityLink(name.entity, pov),
        name.used_by ? entityLink(name.used_by, pov) : h("span", { class: "empty" }, "—"),
        document.createTextNode(name.language ?? "—"),
        document.createTextNode(words(name.kind)),
        evidenceDetails(name.evidence) ?? h("span", { class: "empty" }, "—"),
      ]),
    ),
  );
}

/**
 * The timeline: each event a row with its time written out and drawn as a band, and a button
 * that opens what it did to the dispute and the article words behind it.
 * @param {string | null} pov
 */
function timelineSection(pov) {
  const state = h("p", { class: "live-state" });
  const rows = h("ol", { class: "timeline" });
  const element = section("Timeline", state, rows);
  /** @type {Set<string>} */
  const open = new Set();
  /**
   * @param {readonly Entry[]} entries
   * @param {import("./timeline.js").Counts | null} counts  Events per year, where counted.
   * @param {Set<string>} fresh  Ids of events that arrived while the page was open.
   */
  const draw = (entries, counts, fresh) => {
    const axis = axisFor([
      ...entries.map((entry) => entry.time),
      ...(counts ? countedTimes(counts) : []),
    ]);
    replace(
      rows,
      axis ? h("li", { class: "entry axis", "aria-hidden": "true" }, h("span"), scale(axis)) : null,
      axis && counts
        ? h(
            "li",
            { class: "entry counted" },
            h(
              "div",
              { class: "label" },
              h("p", {}, "Events per year"),
              h("p", { class: "role" }, countsText(counts)),
            ),
            countsTrack(counts, axis),
          )
        : null,
      entries.map((entry) => timelineEntry(entry, axis, pov, open, fresh.has(entry.id))),
    );
    if (entries.length === 0) rows.append(h("li", { class: "empty" }, "No events yet."));
  };
  /** @param {"open" | "reconnecting" | "stopped"} status */
  const live = (status) => {
    state.textContent = {
      open: "Live: new events appear here as they are added.",
      reconnecting: "Reconnecting…",
      stopped: "Live updates stopped; reload the page to follow again.",
    }[status];
    state.dataset.state = status;
  };
  return { element, draw, live };
}

/**
 * @param {Entry} entry
 * @param {import("./timeline.js").Axis | null} axis
 * @param {string | null} pov
 * @param {Set<string>} open  Slugs of the rows open now, kept open across redraws.
 * @param {boolean} fresh
 */
function timelineEntry(entry, axis, pov, open, fresh) {
  const panelId = `event-${entry.slug}`;
  const toggle = h(
    "button",
    { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": panelId },
    h("span", { class: "when" }, when(entry.time)),
    h("span", { class: "what" }, entry.title),
  );
  const panel = h("div", { class: "panel", id: panelId, hidden: true });
  const show = (/** @type {boolean} */ shown) => {
    if (shown && panel.childElementCount === 0) {
      append(panel, [
        entry.significance ? h("p", {}, entry.significance) : null,
        h(
          "p",
          { class: "participants" },
          entry.participants.flatMap((participant, index) => [
            index ? ", " : "",
            entityLink(participant.entity, pov),
            ` (${words(participant.role)})`,
          ]),
        ),
        entry.link_evidence.length
          ? [h("h3", {}, "Its part in the dispute"), evidenceList(entry.link_evidence)]
          : null,
        entry.evidence.length ? [h("h3", {}, "The event"), evidenceList(entry.evidence)] : null,
        h("p", {}, h("a", { href: route(`events/${entry.slug}`) }, "Open the event")),
      ]);
    }
    panel.hidden = !shown;
    toggle.setAttribute("aria-expanded", String(shown));
    if (shown) open.add(entry.slug);
    else open.delete(entry.slug);
  };
  toggle.addEventListener("click", () => show(panel.hidden));
  const row = h(
    "li",
    { class: fresh ? "entry fresh" : "entry", "data-event": entry.slug },
    h(
      "div",
      { class: "label" },
      toggle,
      h(
        "p",
        { class: "role" },
        words(entry.role),
        fresh ? [" ", h("span", { class: "tag" }, "new")] : null,
      ),
    ),
    track(entry.time, axis),
    panel,
  );
  if (open.has(entry.slug)) show(true);
  return row;
}

/**
 * An entity: its names and who uses each, its relations in time, its events, the entities
 * named with it, its articles and, where the server counts them, its articles per year.
 * @param {string} slug
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function entityPage(slug, context) {
  const pov = context.params.get("pov");
  const entity = await get("/v1/entities/{entity}", {
    path: { entity: slug },
    query: { pov: pov ?? undefined },
  });
  const views = unique([...entity.aliases.map((alias) => alias.used_by), entity.pov]);
  const path = { entity: slug };
  const [events, related, articlesList, counts] = await Promise.all([
    pagedList(
      (cursor) => get("/v1/entities/{entity}/events", { path, query: { cursor } }),
      (event) => [
        h("span", { class: "when" }, when(event.time)),
        " ",
        h("a", { href: route(`events/${event.slug}`) }, event.title),
      ],
      "No events.",
    ),
    pagedList(
      (cursor) => get("/v1/entities/{entity}/related", { path, query: { cursor } }),
      (other) => [
        entityLink(other.entity, pov),
        h("span", { class: "meta" }, ` ${words(other.entity.kind)} · articles: ${other.articles}`),
      ],
      "None.",
    ),
    pagedList(
      (cursor) => get("/v1/entities/{entity}/articles", { path, query: { cursor } }),
      (read) => [
        h("span", { class: "when" }, publishedDate(read.published_at, read.published_precision)),
        " ",
        h("a", { href: route(`articles/${read.slug}`) }, headline(read)),
        h("span", { class: "meta" }, ` — ${read.source.name}`),
      ],
      "No articles.",
    ),
    countsPerYear("/v1/articles/histogram", { entity: slug }),
  ]);
  const name = entity.name;
  const relation = (/** @type {S["RelationRead"]} */ each) => {
    const other = entityLink(each.other, pov);
    const self = h("strong", {}, name);
    const kind = ` ${words(each.kind)}${each.role ? ` (${each.role})` : ""} `;
    return each.direction === "outgoing"
      ? h("span", {}, self, kind, other)
      : h("span", {}, other, kind, self);
  };
  return {
    title: name,
    content: [
      heading(name),
      views.length
        ? povSwitch(views, pov, (picked) =>
            navigate(route(`entities/${slug}`, { pov: picked }), 'input[name="pov"]:checked'),
          )
        : null,
      h(
        "p",
        { class: "meta" },
        words(entity.kind),
        ` · articles: ${entity.counts.articles} · events: ${entity.counts.events}`,
      ),
      entity.description ? h("p", {}, entity.description) : null,
      evidenceDetails(entity.evidence),
      entity.aliases.length
        ? section(
            "Names",
            table(
              "Names",
              ["Name", "Used by", "Language", "Kind", "Evidence"],
              entity.aliases.map((alias) => [
                h("span", { lang: alias.language ?? false }, alias.name),
                alias.used_by ? entityLink(alias.used_by, pov) : h("span", { class: "empty" }, "—"),
                document.createTextNode(alias.language ?? "—"),
                document.createTextNode(words(alias.kind)),
                evidenceDetails(alias.evidence) ?? h("span", { class: "empty" }, "—"),
              ]),
            ),
          )
        : null,
      entity.relations.length
        ? section(
            "Relations",
            table(
              "Relations",
              ["Relation", "Time", "Evidence"],
              entity.relations.map((each) => [
                relation(each),
                document.createTextNode(each.time ? each.time.edtf : "—"),
                evidenceDetails(each.evidence) ?? h("span", { class: "empty" }, "—"),
              ]),
            ),
          )
        : null,
      section("Events", events),
      section("Named with it", related),
      section("Articles", articlesList),
      counts ? countsSection("Articles per year", counts) : null,
    ],
  };
}

/**
 * An event: who took part, when and where, the disputes it belongs to, what was said, and the
 * article words behind it.
 * @param {string} slug
 * @returns {Promise<Page>}
 */
export async function eventPage(slug) {
  const event = await get("/v1/events/{event}", { path: { event: slug } });
  const facts = [
    event.event_type,
    event.mode ? words(event.mode) : null,
    event.modality,
    ...event.contexts.map(words),
  ].filter(Boolean);
  return {
    title: event.title,
    content: [
      heading(event.title),
      h("p", { class: "meta" }, facts.join(" · ")),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Time"),
        h("dd", {}, when(event.time)),
        event.duration ? [h("dt", {}, "Duration"), h("dd", {}, event.duration)] : null,
        event.location ? [h("dt", {}, "Location"), h("dd", {}, entityLink(event.location))] : null,
        event.parent
          ? [
              h("dt", {}, "Part of"),
              h(
                "dd",
                {},
                h("a", { href: route(`events/${event.parent.slug}`) }, event.parent.title),
              ),
            ]
          : null,
      ),
      event.summary ? h("p", {}, event.summary) : null,
      event.participants.length
        ? section(
            "Participants",
            h(
              "ul",
              { class: "plain" },
              event.participants.map((participant) =>
                h(
                  "li",
                  {},
                  entityLink(participant.entity),
                  ` (${words(participant.role)})`,
                  evidenceDetails(participant.evidence),
                ),
              ),
            ),
          )
        : null,
      event.disputes.length
        ? section(
            "Disputes",
            h(
              "ul",
              { class: "plain" },
              event.disputes.map((dispute) =>
                h(
                  "li",
                  {},
                  h("a", { href: route(`disputes/${dispute.slug}`) }, dispute.title),
                  ` (${words(dispute.role)})`,
                  dispute.significance ? h("p", {}, dispute.significance) : null,
                  evidenceDetails(dispute.evidence),
                ),
              ),
            ),
          )
        : null,
      event.statements.length
        ? section(
            "Statements",
            h(
              "ul",
              { class: "plain" },
              event.statements.map((statement) =>
                h(
                  "li",
                  {},
                  entityLink(statement.speaker),
                  ` (${words(statement.kind)}): `,
                  h(statement.kind === "direct_quote" ? "q" : "span", {}, statement.text),
                ),
              ),
            ),
          )
        : null,
      event.evidence.length ? section("Evidence", evidenceList(event.evidence)) : null,
    ],
  };
}

/**
 * An article: its text with every entity it mentions made a link, and the span given by
 * `start` and `end` (where a piece of evidence points) marked and scrolled to.
 * @param {string} slug
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function articlePage(slug, context) {
  const read = await get("/v1/articles/{article}", {
    path: { article: slug },
    query: { include: ["mentions"] },
  });
  const start = Number(context.params.get("start"));
  const end = Number(context.params.get("end"));
  const cited =
    Number.isInteger(start) && Number.isInteger(end) && start < end && end <= read.body.length;
  const mentions = read.mentions ?? [];
  const body = h(
    "div",
    { class: "body", lang: read.language },
    annotate(read.body, 0, {
      links: mentions,
      // An ambiguous mention names no entity yet: a placeholder link (no href) saying which
      // entities it may be.
      linkFor: (mention) =>
        mention.entity
          ? h("a", {
              class: "mention",
              href: route(`entities/${mention.entity.slug}`),
              title: mention.entity.name,
            })
          : h("a", {
              class: "mention ambiguous",
              title: `Ambiguous: ${mention.possible_entities.map((e) => e.name).join(" or ")}`,
            }),
      marks: cited ? [{ start, end }] : [],
    }),
  );
  const entities = unique(mentions.flatMap((mention) => (mention.entity ? [mention.entity] : [])));
  return {
    title: headline(read),
    content: [
      heading(headline(read)),
      h(
        "p",
        { class: "meta" },
        [read.source.name, read.byline, publishedDate(read.published_at, read.published_precision)]
          .filter(Boolean)
          .join(" · "),
      ),
      read.summary ? h("p", { class: "summary" }, read.summary) : null,
      cited
        ? h("p", { class: "meta" }, "The marked words are the evidence you followed here.")
        : null,
      body,
      entities.length
        ? section(
            "Mentioned",
            h(
              "ul",
              { class: "inline" },
              entities.map((entity) => h("li", {}, entityLink(entity))),
            ),
            read.mentions_truncated
              ? h("p", { class: "meta" }, "Only the first mentions are shown.")
              : null,
          )
        : null,
    ],
  };
}

// ---------------------------------------------------------------------------------------------

/** @type {(address: string, focus?: string) => void} */
let navigate = (address) => {
  location.hash = address;
};

/** How pages go elsewhere (main.js keeps focus where it belongs). @param {typeof navigate} to */
export function navigateWith(to) {
  navigate = to;
}
