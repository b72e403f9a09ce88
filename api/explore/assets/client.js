// @ts-check
/**
 * The explorer's API client. Every call names a GET of openapi/openapi.json by its path, and
 * `make check` type-checks the path, its parameters and every field the page reads from the
 * answer against the types generated from that document (explorer/newsgraph-api.d.ts).
 *
 * Reads are conditional: an answer's ETag is kept with its body and sent back as
 * If-None-Match, and a 304 gives the kept body again, the very same object, so a caller can
 * tell "unchanged" by identity. Lists are read page by page along `next_cursor`.
 */

/** @template {import("newsgraph-api").GetPath} P @typedef {import("newsgraph-api").Request<P>} Request */
/** @template {import("newsgraph-api").GetPath} P @typedef {import("newsgraph-api").Json<P>} Json */

/** A problem+json answer: its `detail` is the server's own words, shown as they are. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string | null} code
   */
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** How many answers are kept for conditional requests (the oldest used goes first). */
const KEPT_ANSWERS = 200;
/** @type {Map<string, {etag: string, body: unknown}>} */
const kept = new Map();

/**
 * The URL of a GET: its path with the path parameters filled in, and its query (a list value
 * repeats the parameter, as the API takes `type=a&type=b`; absent values are left out).
 * @template {import("newsgraph-api").GetPath} P
 * @param {P} path
 * @param {Request<P>} request
 * @returns {string}
 */
export function url(path, request) {
  const { path: names = {}, query = {} } =
    /** @type {{path?: Record<string, string>, query?: Record<string, unknown>}} */ (request);
  const filled = path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(names[name] ?? ""));
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null) search.append(name, String(one));
    }
  }
  const text = search.toString();
  return text ? `${filled}?${text}` : filled;
}

/**
 * A GET's JSON answer.
 * @template {import("newsgraph-api").GetPath} P
 * @param {P} path
 * @param {Request<P>} request
 * @returns {Promise<Json<P>>}
 */
export async function get(path, request) {
  return /** @type {Json<P>} */ (await read(url(path, request)));
}

/**
 * The answer at a URL the contract may not have (see `documentHas`): unchecked, for the
 * caller to look at before use.
 * @param {string} href
 * @returns {Promise<unknown>}
 */
export function getUnchecked(href) {
  return read(href);
}

/** @param {string} href @returns {Promise<unknown>} */
async function read(href) {
  const held = kept.get(href);
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (held) headers["If-None-Match"] = held.etag;
  // The browser's own cache stays out of it: the API answers `max-age=30`, and a page that
  // follows the change feed must see a change at once.
  const response = await fetch(href, { headers, cache: "no-store" });
  if (response.status === 304 && held) {
    keep(href, held);
    return held.body;
  }
  if (!response.ok) throw await problem(response);
  const body = await response.json();
  const etag = response.headers.get("ETag");
  if (etag) keep(href, { etag, body });
  return body;
}

/** @param {string} href @param {{etag: string, body: unknown}} answer */
function keep(href, answer) {
  kept.delete(href);
  kept.set(href, answer);
  if (kept.size > KEPT_ANSWERS) {
    const oldest = kept.keys().next();
    if (!oldest.done) kept.delete(oldest.value);
  }
}

/** @param {Response} response @returns {Promise<ApiError>} */
async function problem(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") {
      return new ApiError(
        response.status,
        body.detail,
        typeof body.code === "string" ? body.code : null,
      );
    }
  } catch {
    // Not JSON: the status line says what there is to say.
  }
  return new ApiError(response.status, `${response.status} ${response.statusText}`, null);
}

/**
 * Every item of a list, following `next_cursor` page after page, at most `max` of them.
 * @template {import("newsgraph-api").ListPath} P
 * @param {P} path
 * @param {Request<P>} request
 * @param {number} [max]
 * @returns {Promise<import("newsgraph-api").Item<P>[]>}
 */
export async function all(path, request, max = 1000) {
  /** @type {import("newsgraph-api").Item<P>[]} */
  const found = [];
  /** @type {string | null | undefined} */
  let cursor;
  const { query = {}, ...rest } = /** @type {{query?: object}} */ (request);
  do {
    const paged = /** @type {Request<P>} */ ({ ...rest, query: { ...query, cursor, limit: 100 } });
    const page =
      /** @type {{items: readonly import("newsgraph-api").Item<P>[], next_cursor: string | null}} */ (
        await get(path, paged)
      );
    found.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && found.length < max);
  return found.slice(0, max);
}

/** @type {Promise<Set<string>> | undefined} */
let documentPaths;

/**
 * Whether the API's OpenAPI document (the one this server serves) has a path: the page uses
 * an operation newer than the contract it was checked against only where the server has it.
 * @param {string} path
 * @returns {Promise<boolean>}
 */
export async function documentHas(path) {
  documentPaths ??= read("/openapi.json").then(
    (document) => {
      const paths = /** @type {{paths?: object}} */ (document).paths;
      return new Set(paths ? Object.keys(paths) : []);
    },
    () => new Set(),
  );
  return (await documentPaths).has(path);
}
