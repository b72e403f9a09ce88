// @ts-check
/**
 * Time drawn as bands on a common axis. The API gives every time as EDTF with its earliest and
 * latest day; a band runs from the one to the other, so `1945` is a year wide, `2021-10-07` a
 * thin stroke and `1945/..` runs on to the axis's end (drawn open), and no partial date is ever
 * drawn as a point it does not name. Positions are percentages of the track, so the drawing
 * follows the page's width.
 */

import { h } from "./dom.js";

/** @typedef {import("newsgraph-api").Schemas["TimeRead"]} Time */
/** @typedef {{earliest: string | null, latest: string | null}} Bounds */
/** @typedef {{start: number, end: number}} Axis  Days since 1970-01-01, the end exclusive. */

const DAY = 86_400_000;

/** @param {string} date `YYYY-MM-DD` @returns {number} */
function day(date) {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY);
}

/** @param {number} year @returns {number} */
function yearStart(year) {
  return Math.floor(Date.UTC(year, 0, 1) / DAY);
}

/** @param {number} days @returns {number} */
function yearOf(days) {
  return new Date(days * DAY).getUTCFullYear();
}

/**
 * The whole years that hold every bound of these times, or null when none has a bound.
 * @param {readonly (Bounds | null | undefined)[]} times
 * @returns {Axis | null}
 */
export function axisFor(times) {
  /** @type {number[]} */
  const days = [];
  for (const time of times) {
    if (time?.earliest) days.push(day(time.earliest));
    if (time?.latest) days.push(day(time.latest) + 1);
  }
  if (days.length === 0) return null;
  const first = yearOf(Math.min(...days));
  const last = yearOf(Math.max(...days) - 1);
  return { start: yearStart(first), end: yearStart(last + 1) };
}

/** Where a day is along the track, leaving a margin at each end so that a day at either end of
 * the axis is still seen. @param {number} days @param {Axis} axis */
function percent(days, axis) {
  return 1 + (98 * (days - axis.start)) / (axis.end - axis.start);
}

/**
 * The track of one time: a band from its earliest to its latest day, open (dashed) on the side
 * it has no bound; empty when it has none at all. Hidden from assistive technology: the time
 * is written out beside it.
 * @param {Time | null | undefined} time
 * @param {Axis | null} axis
 * @returns {HTMLElement}
 */
export function track(time, axis) {
  const element = h("div", { class: "track", "aria-hidden": "true" });
  if (!axis || !time || (!time.earliest && !time.latest)) return element;
  const start = time.earliest ? day(time.earliest) : axis.start;
  const end = time.latest ? day(time.latest) + 1 : axis.end;
  const band = h("span", { class: "band" });
  band.classList.toggle("open-start", !time.earliest);
  band.classList.toggle("open-end", !time.latest);
  band.classList.toggle("point", end - start <= 1);
  place(band, start, end, axis);
  element.append(band);
  return element;
}

/** @param {HTMLElement} element @param {number} start @param {number} end @param {Axis} axis */
function place(element, start, end, axis) {
  element.style.left = `${percent(start, axis)}%`;
  element.style.width = `${percent(end, axis) - percent(start, axis)}%`;
}

/**
 * What the page reads of a histogram (GET /v1/events/histogram, /v1/articles/histogram):
 * counts per bucket of time, and apart from them the items whose time reaches over more than
 * one bucket (with the buckets they may fall in) and the undated ones.
 * @typedef {object} Counts
 * @property {{key: string, start: string, end: string, count: number}[]} buckets
 * @property {{start: string | null, end: string | null, count: number}[]} spanning_ranges
 * @property {number} spanning
 * @property {number} undated
 */

/**
 * The days a histogram covers, as times `axisFor` takes.
 * @param {Counts} counts
 * @returns {Bounds[]}
 */
export function countedTimes(counts) {
  return [
    ...counts.buckets
      .filter((bucket) => bucket.count)
      .map((bucket) => ({ earliest: bucket.start, latest: bucket.end })),
    ...counts.spanning_ranges.map((range) => ({ earliest: range.start, latest: range.end })),
  ];
}

/**
 * A histogram on the axis: each bucket's count as a bar as wide as the bucket, and under the
 * bars the spanning items as bands over the buckets they may fall in, never put in one of them.
 * Hidden from assistive technology: `countsText` writes the same numbers out.
 * @param {Counts} counts
 * @param {Axis} axis
 * @returns {HTMLElement}
 */
export function countsTrack(counts, axis) {
  const element = h("div", { class: "track counts", "aria-hidden": "true" });
  const most = Math.max(1, ...counts.buckets.map((bucket) => bucket.count));
  for (const bucket of counts.buckets) {
    if (!bucket.count) continue;
    const bar = h("span", { class: "count" });
    place(bar, day(bucket.start), day(bucket.end) + 1, axis);
    bar.style.height = `${(70 * bucket.count) / most}%`;
    element.append(bar);
  }
  for (const range of counts.spanning_ranges) {
    const band = h("span", { class: "band spanning" });
    band.classList.toggle("open-start", !range.start);
    band.classList.toggle("open-end", !range.end);
    place(
      band,
      range.start ? day(range.start) : axis.start,
      range.end ? day(range.end) + 1 : axis.end,
      axis,
    );
    element.append(band);
  }
  return element;
}

/**
 * A histogram's numbers as words: each bucket that counts something, then the spanning and
 * undated items.
 * @param {Counts} counts
 * @returns {string}
 */
export function countsText(counts) {
  const buckets = counts.buckets
    .filter((bucket) => bucket.count)
    .map((bucket) => `${bucket.key}: ${bucket.count}`);
  return [
    ...buckets,
    `spanning more than one year: ${counts.spanning}`,
    `undated: ${counts.undated}`,
  ].join(" · ");
}

/** Steps between labelled years, the first that keeps the labels to a handful. */
const STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

/**
 * The axis: a tick and its year at round years along it.
 * @param {Axis} axis
 * @returns {HTMLElement}
 */
export function scale(axis) {
  const first = yearOf(axis.start);
  const last = yearOf(axis.end - 1) + 1;
  const step = STEPS.find((each) => (last - first) / each <= 8) ?? 1000;
  const element = h("div", { class: "scale", "aria-hidden": "true" });
  for (let year = Math.ceil(first / step) * step; year <= last; year += step) {
    const tick = h("span", { class: "tick" }, String(year));
    tick.style.left = `${percent(yearStart(year), axis)}%`;
    element.append(tick);
  }
  return element;
}
