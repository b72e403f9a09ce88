// @ts-check
/**
 * Building the page from data: elements with text nodes only (nothing the API sends is ever
 * parsed as HTML but the search snippets, whose only markup is <mark>), links to the explorer's
 * routes, and text with spans marked (cited words, mentions).
 */

/** @typedef {string | Node | null | undefined | false} Child */

/**
 * An element with attributes (`class`, `hidden`, `aria-*`, ...) and children (strings become
 * text nodes). A `false`, null or undefined attribute or child is left out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Element | DocumentFragment} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child);
  }
}

/** @param {Element} element @param {...(Child | Child[])} children */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * The explorer's address of a page: `#/disputes/kuril-islands-dispute?pov=japan`.
 * @param {string} path
 * @param {Record<string, string | number | null | undefined>} [query]
 */
export function route(path, query = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return `#/${path}${text ? `?${text}` : ""}`;
}

/**
 * A link to an entity's page, under the point of view in force.
 * @param {{slug: string, name: string}} entity
 * @param {string | null} [pov]
 */
export function entityLink(entity, pov) {
  return h("a", { href: route(`entities/${entity.slug}`, { pov }) }, entity.name);
}

/**
 * An enumeration value as words: `administering_party` -> `administering party`.
 * @param {string} value
 */
export function words(value) {
  return value.replaceAll("_", " ");
}

/**
 * A search snippet as nodes: the API escapes the text and marks the matches with <mark>, and
 * nothing else; the text between the marks is decoded as text, never as markup.
 * @param {string} snippet
 * @returns {Node[]}
 */
export function snippetNodes(snippet) {
  const decoder = document.createElement("textarea");
  /** @param {string} escaped */
  const decode = (escaped) => {
    decoder.innerHTML = escaped; // a textarea's content is text: no element is ever made
    return decoder.value;
  };
  return snippet.split(/(<mark>.*?<\/mark>)/s).map((part) => {
    const match = /^<mark>(.*)<\/mark>$/s.exec(part);
    return match ? h("mark", {}, decode(match[1] ?? "")) : document.createTextNode(decode(part));
  });
}

/**
 * @typedef {object} Span
 * @property {number} start
 * @property {number} end
 */

/**
 * `text` (which starts at `offset` of some body) as nodes, with the spans of `links` (offsets
 * in that body) made links by `linkFor`, and the `marks` spans marked. Links that overlap an
 * earlier one are left out; a mark may cross links.
 * @template {Span} L
 * @param {string} text
 * @param {number} offset
 * @param {{links?: readonly L[], linkFor?: (span: L) => HTMLAnchorElement, marks?: readonly Span[]}} spans
 * @returns {Node[]}
 */
export function annotate(text, offset, { links = [], linkFor, marks = [] }) {
  const end = offset + text.length;
  /** @type {L[]} */
  const kept = [];
  for (const link of [...links].sort((a, b) => a.start - b.start)) {
    const last = kept[kept.length - 1];
    if (link.start >= offset && link.end <= end && (!last || link.start >= last.end))
      kept.push(link);
  }
  /** @type {Node[]} */
  const nodes = [];
  let at = offset;
  const marked = (/** @type {number} */ from, /** @type {number} */ to) =>
    markedText(text, offset, from, to, marks);
  for (const link of kept) {
    if (link.start > at) nodes.push(...marked(at, link.start));
    const anchor = linkFor ? linkFor(link) : h("a");
    anchor.append(...marked(link.start, link.end));
    nodes.push(anchor);
    at = link.end;
  }
  if (at < end) nodes.push(...marked(at, end));
  return nodes;
}

/**
 * @param {string} text
 * @param {number} offset
 * @param {number} from
 * @param {number} to
 * @param {readonly Span[]} marks
 * @returns {Node[]}
 */
function markedText(text, offset, from, to, marks) {
  const cuts = new Set([from, to]);
  for (const mark of marks) {
    for (const cut of [mark.start, mark.end]) if (cut > from && cut < to) cuts.add(cut);
  }
  const points = [...cuts].sort((a, b) => a - b);
  /** @type {Node[]} */
  const nodes = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = /** @type {number} */ (points[i]);
    const b = /** @type {number} */ (points[i + 1]);
    const piece = text.slice(a - offset, b - offset);
    const inside = marks.some((mark) => mark.start <= a && b <= mark.end);
    nodes.push(inside ? h("mark", {}, piece) : document.createTextNode(piece));
  }
  return nodes;
}

/** Where a sentence ends: its stop and the space after it, or a line break. */
const SENTENCE_END = /[.!?]["”’)\]]*(?=\s)|\n/g;

/**
 * The sentence(s) of `body` that hold the span [start, end): from the end of the sentence
 * before it to the end of the last sentence it reaches. Very long stretches are cut around the
 * span.
 * @param {string} body
 * @param {number} start
 * @param {number} end
 * @returns {{text: string, offset: number, cutBefore: boolean, cutAfter: boolean}}
 */
export function sentenceAround(body, start, end) {
  let from = 0;
  let to = body.length;
  for (const match of body.matchAll(SENTENCE_END)) {
    const stop = match.index + match[0].length;
    if (stop <= start) {
      from = stop; // a sentence that ends before the span
    } else if (match.index >= end - 1) {
      to = stop; // the end of the sentence the span ends in
      break;
    }
  }
  while (from < start && /\s/.test(body[from] ?? "")) from++;
  const room = 400;
  const cutBefore = start - from > room;
  const cutAfter = to - end > room;
  if (cutBefore) from = start - room;
  if (cutAfter) to = end + room;
  return { text: body.slice(from, to), offset: from, cutBefore, cutAfter };
}

/**
 * A date the API gives as `2021-10-07T00:00:00Z` with its precision, as that much of it
 * ("undated" without one).
 * @param {string | null} timestamp
 * @param {string | null | undefined} precision
 */
export function publishedDate(timestamp, precision) {
  if (!timestamp) return "undated";
  const length = { year: 4, month: 7 }[precision ?? ""] ?? 10;
  return timestamp.slice(0, length);
}
