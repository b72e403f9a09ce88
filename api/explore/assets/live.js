// @ts-check
/**
 * Following the change feed from a page. `feedEnd` reads GET /v1/changes to where it ends now
 * and gives that position; the page then reads what it shows, and `follow` opens
 * GET /v1/changes/stream after that position. Taking the position first means a change
 * committed while the page was reading is never missed: at worst it is refreshed once more
 * (and a conditional read of something unchanged is a 304).
 */

import { get, url } from "./client.js";

/** @typedef {import("newsgraph-api").Schemas["ResourceType"]} ResourceType */
/** @typedef {import("newsgraph-api").Schemas["ChangeRead"]} Change */

/** Pages of the feed read to find its end; past them the stream catches up by itself. */
const CATCH_UP_PAGES = 20;

/**
 * The position after the last change to these types that can be read now (null when the
 * feed holds none).
 * @param {ResourceType[]} types
 * @returns {Promise<string | null>}
 */
export async function feedEnd(types) {
  /** @type {string | null} */
  let position = null;
  for (let page = 0; page < CATCH_UP_PAGES; page++) {
    /** @type {import("newsgraph-api").Json<"/v1/changes">} */
    const feed = await get("/v1/changes", {
      query: { type: types, limit: 100, ...(position ? { after: position } : {}) },
    });
    position = feed.next_cursor ?? position;
    if (!feed.has_more) break;
  }
  return position;
}

/**
 * Calls `onChange` with every change to these types after `position`, as it is committed,
 * and `onState` as the stream connects ("open"), drops ("reconnecting": the browser connects
 * again by itself, resuming after the last change it received) or is refused ("stopped": an
 * error answer, such as 503 when the server streams to as many pages as it will). Returns
 * what stops it.
 * @param {ResourceType[]} types
 * @param {string | null} position
 * @param {(change: Change) => void} onChange
 * @param {(state: "open" | "reconnecting" | "stopped") => void} onState
 * @returns {() => void}
 */
export function follow(types, position, onChange, onState) {
  const source = new EventSource(
    url("/v1/changes/stream", { query: { type: types, ...(position ? { after: position } : {}) } }),
  );
  source.addEventListener("open", () => onState("open"));
  source.addEventListener("error", () =>
    onState(source.readyState === EventSource.CLOSED ? "stopped" : "reconnecting"),
  );
  source.addEventListener("change", (event) => {
    onChange(/** @type {Change} */ (JSON.parse(/** @type {MessageEvent<string>} */ (event).data)));
  });
  return () => source.close();
}
