/**
 * The types the explorer's modules (api/explore/assets/*.js) name in their JSDoc as
 * `import("newsgraph-api")`: the schemas and paths generated from openapi/openapi.json into
 * generated/openapi.d.ts (by `make check`, never edited by hand), and the few shapes the
 * client derives from them. A path, parameter or field the page uses and the contract no longer
 * has is a type error, and `make check` fails.
 */
import type { components, paths } from "./generated/openapi";

export type Schemas = components["schemas"];

/** The paths that have a GET operation. */
export type GetPath = {
  [P in keyof paths]: paths[P] extends { get: object } ? P : never;
}[keyof paths];

type Get<P extends GetPath> = paths[P]["get"];

/** What a GET takes: its path parameters and its query parameters, as the contract types them. */
export type Request<P extends GetPath> = Pick<Get<P>["parameters"], "path" | "query">;

/** The JSON body of a GET's 200 answer. */
export type Json<P extends GetPath> = Get<P>["responses"] extends {
  200: { content: { "application/json": infer Body } };
}
  ? Body
  : never;

/** The GETs that answer a page of a list, paged with `cursor`. */
export type ListPath = {
  [P in GetPath]: Json<P> extends { items: readonly unknown[]; next_cursor: string | null }
    ? NonNullable<Request<P>["query"]> extends { cursor?: string }
      ? P
      : never
    : never;
}[GetPath];

/** An item of a list. */
export type Item<P extends ListPath> = Json<P> extends { items: readonly (infer One)[] } ? One : never;
