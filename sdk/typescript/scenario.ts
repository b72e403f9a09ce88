/**
 * An SDK user's scenario in TypeScript: types generated from openapi/openapi.json by
 * openapi-typescript (into ./schema.d.ts, not committed), calls made with openapi-fetch.
 * tests/contract/test_generated_client.py generates the types, compiles this with
 * `tsc --strict`, runs it against a live server (NEWSGRAPH_URL, NEWSGRAPH_KEY: a write key)
 * and checks the JSON summary it prints on stdout. NEWSGRAPH_SOURCE names the source it creates.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = required("NEWSGRAPH_URL");
const key = required("NEWSGRAPH_KEY");
const sourceSlug = required("NEWSGRAPH_SOURCE");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function fail(what: string, problem: Problem | undefined, response: Response): never {
  throw new Error(`${what}: HTTP ${response.status} ${problem?.code ?? ""} ${problem?.detail ?? ""}`);
}

const client = createClient<paths>({ baseUrl });
const writer = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

// Every event, three a page, by cursor; and the same list in one page to compare with.
const paged: string[] = [];
let cursor: string | undefined;
for (let pages = 0; ; pages++) {
  if (pages > 1000) throw new Error("paging did not end");
  const { data, error, response } = await client.GET("/v1/events", {
    params: { query: { limit: 3, cursor } },
  });
  // The list also answers CSV (a string) when asked: this client asks for JSON.
  if (!data || typeof data === "string") fail("list events", error, response);
  paged.push(...data.items.map((event) => event.slug));
  if (!data.next_cursor) break;
  cursor = data.next_cursor;
}
const whole = await client.GET("/v1/events", { params: { query: { limit: 100 } } });
if (!whole.data || typeof whole.data === "string") {
  fail("list events", whole.error, whole.response);
}

// A dispute's timeline in Russia's names for the entities.
const timeline = await client.GET("/v1/disputes/{dispute}/timeline", {
  params: { path: { dispute: "kuril-islands-dispute" }, query: { pov: "russia" } },
});
if (!timeline.data) fail("timeline", timeline.error, timeline.response);
const timelineNames = new Set<string>();
for (const entry of timeline.data.items) {
  if (entry.location) timelineNames.add(entry.location.name);
  for (const participant of entry.participants) timelineNames.add(participant.entity.name);
}

// A chart and a sidebar: the dispute's events by year, and the sources of an entity's articles.
const histogram = await client.GET("/v1/events/histogram", {
  params: { query: { interval: "year", dispute: "kuril-islands-dispute" } },
});
if (!histogram.data) fail("event histogram", histogram.error, histogram.response);
const facets = await client.GET("/v1/articles/facets", {
  params: { query: { entity: ["japan"], field: ["source"] } },
});
if (!facets.data) fail("article facets", facets.error, facets.response);

// A conditional GET: the ETag back in If-None-Match, answered 304 with no body.
const first = await client.GET("/v1/events/{event}", {
  params: { path: { event: paged[0] ?? "" } },
});
if (!first.data) fail("get event", first.error, first.response);
const etag = first.response.headers.get("ETag") ?? "";
const again = await client.GET("/v1/events/{event}", {
  params: { path: { event: paged[0] ?? "" }, header: { "If-None-Match": etag } },
});

// A create retried with the same Idempotency-Key: the same answer, one source.
const body: components["schemas"]["SourceCreate"] = {
  slug: sourceSlug,
  name: "Newsgraph TypeScript SDK",
  kind: "online",
};
const idempotencyKey = `ts-sdk-${sourceSlug}`;
const created = await writer.POST("/v1/sources", {
  params: { header: { "Idempotency-Key": idempotencyKey } },
  body,
});
if (!created.data) fail("create source", created.error, created.response);
const retried = await writer.POST("/v1/sources", {
  params: { header: { "Idempotency-Key": idempotencyKey } },
  body,
});
if (!retried.data) fail("retry create source", retried.error, retried.response);

// An update, then another with the ETag the first one made stale: 412, a typed problem.
const createdEtag = created.response.headers.get("ETag") ?? "";
const updated = await writer.PATCH("/v1/sources/{source}", {
  params: { path: { source: sourceSlug }, header: { "If-Match": createdEtag } },
  body: { name: "Newsgraph TypeScript SDK, renamed" },
});
if (!updated.data) fail("update source", updated.error, updated.response);
const stale = await writer.PATCH("/v1/sources/{source}", {
  params: { path: { source: sourceSlug }, header: { "If-Match": createdEtag } },
  body: { name: "lost update" },
});
const staleCode: Problem["code"] | null = stale.error ? stale.error.code : null;

// The NDJSON export: one JSON document a line.
const exported = await client.GET("/v1/export", { parseAs: "text" });
if (exported.data === undefined) fail("export", exported.error, exported.response);
const exportLines = exported.data.split("\n").filter((line) => line !== "");
const exportRecords = exportLines.map((line) => {
  const record = JSON.parse(line) as { type: string; slug?: string };
  return record.slug === undefined ? record.type : `${record.type}:${record.slug}`;
});

console.log(
  JSON.stringify({
    paged_events: paged,
    listed_events: whole.data.items.map((event) => event.slug),
    timeline_pov: timeline.data.pov?.slug ?? null,
    timeline_events: timeline.data.items.map((entry) => entry.slug),
    timeline_names: [...timelineNames].sort(),
    histogram: {
      placed: histogram.data.buckets
        .filter((bucket) => bucket.count > 0)
        .map((bucket) => [bucket.start, bucket.count]),
      spanning: histogram.data.spanning,
      total: histogram.data.total,
    },
    facets: {
      fields: facets.data.facets.map((facet) => facet.field),
      sources: (facets.data.facets[0]?.values ?? []).map((value) => [value.slug, value.count]),
      total: facets.data.total,
    },
    conditional: { etag, first: first.response.status, again: again.response.status },
    create: {
      first: { status: created.response.status, id: created.data.id, body: created.data },
      retry: { status: retried.response.status, id: retried.data.id, body: retried.data },
    },
    update: { status: updated.response.status, version: updated.data.version },
    stale: { status: stale.response.status, code: staleCode },
    export: {
      status: exported.response.status,
      content_type: exported.response.headers.get("Content-Type"),
      records: exportRecords,
    },
  }),
);
