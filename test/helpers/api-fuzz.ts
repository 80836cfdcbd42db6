import type { FastifyInstance } from "fastify";
import fc from "fast-check";

/**
 * A property-based fuzzer for one API surface, driven by the OpenAPI document the server serves
 * (never by the server's own schemas): it derives requests from each operation's parameters and
 * JSON body, mutates them into hostile ones (wrong types, huge and tiny numbers, NUL, lone
 * surrogates, prototype-named and duplicate keys, deep nesting, wrong content types, malformed
 * query strings and path segments), sends them with app.inject, and holds the surface to its
 * promises: no 5xx, every error in the surface's own format, the server healthy afterwards.
 *
 * Seeded and bounded: the same seed sends the same requests (FUZZ_SEED overrides it, FUZZ_RUNS the
 * count); fast-check reports the seed and path of a failure, and the failing request and answer
 * are in its message. It stops at the first failure; FUZZ_SHRINK=1 shrinks it to a smaller one.
 */

type Schema = { [key: string]: unknown };

/** The parts of an OpenAPI 3.1 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Raw body text (or bytes): exactly what is sent. */
  body?: string | Buffer;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface FuzzOptions {
  app: FastifyInstance;
  /** The served OpenAPI document (fetch it from the app). */
  document: OpenApiDocument;
  /** The surface's mount point, e.g. "/v1": only operations under it are fuzzed. */
  basePath: string;
  /** Sent with every request (a valid key), so requests get past authentication. */
  authHeaders: Record<string, string>;
  /** Whether an error answer (4xx) is in the surface's documented format. */
  isSurfaceError: (response: FuzzResponse) => boolean;
  /** Requests to send (default 2000; FUZZ_RUNS overrides). */
  numRuns?: number;
  /** Default 20261130; FUZZ_SEED overrides. */
  seed?: number;
  /** Answers 200 when the server is healthy afterwards (default /healthz). */
  healthPath?: string;
  /**
   * Called on each request just before it is sent, with a seeded number for any choice it makes
   * (so a seed still replays the run): returns the request to send, e.g. with headers signing
   * its exact body and path. Without it, requests go as generated.
   */
  prepare?: (request: FuzzRequest, pick: number) => FuzzRequest;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  /** Requests per status code. */
  statuses: Record<number, number>;
}

// ---------------------------------------------------------------------------------------------
// Hostile material

/** Keys every plain object already has, and the one JSON.parse turns into a prototype. */
const PROTOTYPE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "__defineGetter__",
  "toJSON",
];

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\udc00\ud800",
  "\u202e\u0007\u001b[31m",
  "\ufeff",
  "😀".repeat(300),
  "x".repeat(5000),
  "1e999",
  "-0",
  "NaN",
  "Infinity",
  "0x10",
  "null",
  "true",
  "{CHECKOUT_SESSION_ID}",
  "javascript:alert(1)",
  "https://127.0.0.1/",
  "http://localhost/",
  "http://[::ffff:0:7f00:1]/",
  "https://a;b.example/",
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  ...PROTOTYPE_KEYS,
];

const HOSTILE_NUMBERS = [
  0,
  -0,
  -1,
  1,
  0.1 + 0.2,
  1e-7,
  5e-324,
  -5e-324,
  1e21,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 31,
  -(2 ** 63),
  123.4567891,
];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 4 },
  { arbitrary: fc.constantFrom(...HOSTILE_NUMBERS), weight: 3 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [1, "a"], { a: 1 }, [[[[]]]]), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
);

/** A plain object's own property, `__proto__` included (as JSON.parse makes it). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Values from JSON Schema

function resolver(document: OpenApiDocument) {
  return (schema: unknown): Schema => {
    let current = (schema ?? {}) as Schema;
    for (let i = 0; i < 20 && typeof current.$ref === "string"; i++) {
      const name = current.$ref.replace("#/components/schemas/", "");
      current = document.components?.schemas?.[name] ?? {};
    }
    return current;
  };
}

/** A string as an API of this kind would want it, guessed from the field's format, examples and name. */
/** Ids of objects the run has created or listed so far (see harvestIds). */
type IdPool = () => string[];

const pooledId = (ids: IdPool) => fc.nat().map((i) => ids()[i % Math.max(ids().length, 1)] ?? "none");

function plausibleString(schema: Schema, name: string, ids: IdPool): fc.Arbitrary<string> {
  const max = typeof schema.maxLength === "number" ? schema.maxLength : 40;
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const choices: Array<fc.WeightedArbitrary<string>> = [
    { arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, Math.max(min, 20)) }), weight: 1 },
  ];
  const examples = Array.isArray(schema.examples) ? schema.examples.filter((e) => typeof e === "string") : [];
  if (examples.length) choices.push({ arbitrary: fc.constantFrom(...(examples as string[])), weight: 3 });
  if (/(^|_)id$/i.test(name)) {
    choices.push({ arbitrary: pooledId(ids), weight: 4 });
    choices.push({ arbitrary: fc.constant(""), weight: 1 }); // no id at all, a classic edge
  }
  if (schema.format === "email" || /email/i.test(name)) {
    choices.push({ arbitrary: fc.constant("ops@shop.example"), weight: 3 });
  }
  if (schema.format === "uri" || /url/i.test(name)) {
    // Only hosts no lookup leaves the machine for (an IP literal, localhost), on a closed port:
    // a URL the server fetches at once (a logo) must never send a fuzzed request anywhere else.
    choices.push({
      arbitrary: fc
        .tuple(fc.constantFrom("https://127.0.0.1:9", "http://127.0.0.1:9", "http://localhost:9"), fc.webPath())
        .map(([origin, path]) => `${origin}${path.startsWith("/") ? path : `/${path}`}`)
        .filter((u) => u.length <= max),
      weight: 1,
    });
    choices.push({
      arbitrary: fc.constantFrom("https://127.0.0.1:9/done?session={CHECKOUT_SESSION_ID}", "https://127.0.0.1:9/cart"),
      weight: 4,
    });
  }
  return fc.oneof(...choices);
}

function plausibleNumber(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof schema.minimum === "number" ? schema.minimum : integer ? -5 : -5;
  const max = typeof schema.maximum === "number" ? schema.maximum : 1000;
  const examples = Array.isArray(schema.examples) ? schema.examples.filter((e) => typeof e === "number") : [];
  const choices: Array<fc.WeightedArbitrary<number>> = [
    {
      arbitrary: integer
        ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
        : fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
      weight: 1,
    },
    // Small positive amounts, which most fields take.
    {
      arbitrary: fc.integer({ min: Math.ceil(Math.max(min, 1)), max: Math.floor(Math.max(Math.min(max, 500), 1)) }),
      weight: 3,
    },
  ];
  if (examples.length) choices.push({ arbitrary: fc.constantFrom(...(examples as number[])), weight: 2 });
  return fc.oneof(...choices);
}

/** Values the schema allows (or nearly: generation is loose where a field's rules are in prose). */
function plausibleValue(
  document: OpenApiDocument,
  ids: IdPool,
  schema: unknown,
  name = "",
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolver(document)(schema);
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const variants = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants)) return fc.oneof(...variants.map((v) => plausibleValue(document, ids, v, name, depth)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "string":
      return plausibleString(s, name, ids);
    case "number":
      return plausibleNumber(s, false);
    case "integer":
      return plausibleNumber(s, true);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return depth > 4
        ? fc.constant([])
        : fc.array(plausibleValue(document, ids, s.items, name, depth + 1), { maxLength: 3 });
    case "object": {
      if (depth > 4) return fc.constant({});
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of Object.entries(properties))
        model[key] = plausibleValue(document, ids, value, key, depth + 1);
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      const generated = fc.record(model, { requiredKeys: required.filter((k) => k in model) });
      // A documented example object is a starting point too (mutations then take it apart).
      const examples = Array.isArray(s.examples) ? s.examples.filter((e) => e && typeof e === "object") : [];
      return examples.length ? fc.oneof(generated, fc.constantFrom(...examples).map(clone)) : generated;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** Every place in a JSON value: the containers and keys that lead to it. */
function placesIn(value: unknown, path: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(path);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) placesIn(v, [...path, i], out);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) placesIn(v, [...path, k], out);
  }
  return out;
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (value && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(copy, k, clone(v));
    return copy;
  }
  return value;
}

type Mutation =
  | { kind: "replace"; at: number; value: unknown }
  | { kind: "delete"; at: number }
  | { kind: "add"; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: hostileValue }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 12 })),
      value: hostileValue,
    }),
    weight: 2,
  },
);

/** `value` with the mutations applied, each at a place chosen among those the value has then. */
function mutate(value: unknown, mutations: Mutation[]): unknown {
  let root = clone(value);
  for (const original of mutations) {
    // A fresh copy of the value put in: fast-check's constants (`[]`, `{}`) are shared by every
    // run, and a later mutation may add to what an earlier one put in (a cycle, or a constant changed).
    const m = "value" in original ? { ...original, value: clone(original.value) } : original;
    const places = placesIn(root);
    const path = places[m.at % places.length]!;
    if (path.length === 0) {
      if (m.kind === "replace") root = m.value;
      else if (m.kind === "add" && root && typeof root === "object" && !Array.isArray(root)) {
        setOwn(root as Record<string, unknown>, m.key, m.value);
      }
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (m.kind === "replace") setOwn(parent as Record<string, unknown>, String(last), m.value);
    else if (m.kind === "delete") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target && typeof target === "object" && !Array.isArray(target)) {
        setOwn(target as Record<string, unknown>, m.key, m.value);
      } else setOwn(parent as Record<string, unknown>, String(last), { [m.key]: m.value });
    }
  }
  return root;
}

/** What is done to the body's text once serialised. */
type TextMutation =
  | "none"
  | "duplicate-key"
  | "deep-array"
  | "deep-object"
  | "number-overflow"
  | "truncated"
  | "trailing-garbage"
  | "bom"
  | "empty"
  | "null"
  | "invalid-utf8"
  | "over-limit";

const TEXT_MUTATIONS: TextMutation[] = [
  "duplicate-key",
  "deep-array",
  "deep-object",
  "number-overflow",
  "truncated",
  "trailing-garbage",
  "bom",
  "empty",
  "null",
  "invalid-utf8",
  "over-limit",
];

function mutateText(text: string, how: TextMutation, depth: number, key: string, hostile: unknown): string | Buffer {
  switch (how) {
    case "none":
      return text;
    case "duplicate-key":
      // JSON.parse keeps the last: the hostile value first, then again after the real one.
      return text.startsWith("{")
        ? `{${JSON.stringify(key)}:${JSON.stringify(hostile) ?? "null"},${text.slice(1, -1)}${text.length > 2 ? "," : ""}${JSON.stringify(key)}:${JSON.stringify(hostile) ?? "null"}}`
        : text;
    case "deep-array":
      return `${"[".repeat(depth)}${"]".repeat(depth)}`;
    case "deep-object":
      return `${`{${JSON.stringify(key)}:`.repeat(depth)}1${"}".repeat(depth)}`;
    case "number-overflow":
      return /\d/.test(text)
        ? text.replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, "1e999")
        : `{${JSON.stringify(key)}:-1e999}`;
    case "truncated":
      return text.slice(0, Math.max(0, text.length - 1 - (depth % 5)));
    case "trailing-garbage":
      return `${text} x`;
    case "bom":
      return `\ufeff${text}`;
    case "empty":
      return "";
    case "null":
      return "null";
    case "invalid-utf8":
      return Buffer.concat([
        Buffer.from(text.slice(0, -1)),
        Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80]),
        Buffer.from(text.slice(-1)),
      ]);
    case "over-limit":
      return `{${JSON.stringify(key)}:"${"x".repeat(200_000)}"}`;
  }
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  "application/json; charset=latin1",
  "application/json;;",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/problem+json",
  "application/jsonx",
  "*/*",
  "",
  null,
];

// ---------------------------------------------------------------------------------------------
// Query strings, paths and headers

/** Raw query-string pieces no encoder would produce. */
const RAW_QUERY_VALUES = ["%00", "%ED%A0%80", "%C0%80", "%FF", "%", "%zz", "%E0%A4%A", "a%00b", "%F0%9F%98%80", "+"];
/** Raw path segments: encoded NUL, slash and dot-dot, invalid escapes, a 150-character id... */
const RAW_PATH_SEGMENTS = [
  "%00",
  "%2F",
  "..",
  "%2e%2e",
  "%25",
  "%ED%A0%80",
  "%C0%80",
  "%F0%9F%98%80",
  "x".repeat(150),
  "constructor",
  "__proto__",
  "a%20b",
  "null",
];

function encodeOrRaw(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80"; // a lone surrogate: its CESU-8 bytes
  }
}

const queryValue = (schema: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: schema.map(encodeOrRaw), weight: 3 },
    { arbitrary: hostileValue.map(encodeOrRaw), weight: 2 },
    { arbitrary: fc.constantFrom(...RAW_QUERY_VALUES), weight: 2 },
  );

/** Header values a client can put on the wire (visible ASCII; control characters never get this far). */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.constantFrom("", " ", "x".repeat(600), "null", "constructor", "__proto__", "%00"),
);

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: unknown }>;
  headers: string[];
  body: unknown | null;
}

function operationsOf(document: OpenApiDocument, basePath: string): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith(basePath)) continue;
    for (const [method, raw] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const op = raw as { parameters?: Array<{ in: string; name: string; schema?: unknown }>; requestBody?: unknown };
      const parameters = op.parameters ?? [];
      const content = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema })),
        headers: parameters.filter((p) => p.in === "header").map((p) => p.name),
        body: content?.["application/json"]?.schema ?? null,
      });
    }
  }
  return operations;
}

// ---------------------------------------------------------------------------------------------
// Requests

function requestsFor(
  document: OpenApiDocument,
  op: Operation,
  ids: IdPool,
  authHeaders: Record<string, string>,
): fc.Arbitrary<FuzzRequest> {
  const segment = fc.oneof(
    { arbitrary: pooledId(ids), weight: 3 },
    { arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map(encodeOrRaw), weight: 2 },
    { arbitrary: fc.constantFrom(...RAW_PATH_SEGMENTS), weight: 2 },
  );
  const query = fc.oneof(
    { arbitrary: fc.constant<string[]>([]), weight: op.query.length ? 1 : 3 },
    fc.array(
      fc.oneof(
        ...op.query.map((q) =>
          queryValue(plausibleValue(document, ids, q.schema, q.name)).map((v) => `${q.name}=${v}`),
        ),
        fc
          .tuple(
            fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.constantFrom("a[b]", "a[]", "%00", "")),
            queryValue(hostileValue),
          )
          .map(([k, v]) => `${k}=${v}`),
      ),
      { minLength: 1, maxLength: op.query.length + 2 },
    ),
  );
  // Optional headers are mostly left out, as clients do; sent, they are a real key or id, or junk.
  const headers = fc.record(
    Object.fromEntries(
      op.headers.map((h) => [
        h,
        fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 3 },
          {
            arbitrary: /subaccount/i.test(h) ? pooledId(ids) : /idempotency/i.test(h) ? fc.uuid() : headerValue,
            weight: 1,
          },
          { arbitrary: headerValue, weight: 1 },
        ),
      ]),
    ),
  );
  const body =
    op.body === null
      ? fc.constant<{ text?: string | Buffer; contentType: string | null }>({ contentType: null })
      : fc
          .record({
            value: plausibleValue(document, ids, op.body),
            // A third of the bodies as the schema has them, so requests also get past validation.
            mutations: fc.oneof(
              fc.constant<Mutation[]>([]),
              fc.array(mutation, { minLength: 1, maxLength: 3 }),
              fc.array(mutation, { minLength: 1, maxLength: 1 }),
            ),
            text: fc.oneof(
              { arbitrary: fc.constant<TextMutation>("none"), weight: 6 },
              { arbitrary: fc.constantFrom(...TEXT_MUTATIONS), weight: 2 },
            ),
            depth: fc.constantFrom(2, 100, 3000, 20_000),
            key: fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 8 })),
            hostile: hostileValue,
            contentType: fc.oneof(
              { arbitrary: fc.constant<string | null>("application/json"), weight: 6 },
              { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 1 },
            ),
          })
          .map((b) => ({
            text: mutateText(JSON.stringify(mutate(b.value, b.mutations)) ?? "null", b.text, b.depth, b.key, b.hostile),
            contentType: b.contentType,
          }));
  return fc
    .record({
      segments: fc.array(segment, { minLength: op.pathParams.length, maxLength: op.pathParams.length }),
      query,
      headers,
      body,
    })
    .map(({ segments, query: pairs, headers: extra, body: b }) => {
      let path = op.path;
      op.pathParams.forEach((name, i) => {
        path = path.replace(`{${name}}`, segments[i] ?? "x");
      });
      const all: Record<string, string> = { ...authHeaders };
      for (const [name, value] of Object.entries(extra)) if (typeof value === "string") all[name] = value;
      if (b.contentType !== null && b.text !== undefined) all["content-type"] = b.contentType;
      return {
        method: op.method,
        url: pairs.length ? `${path}?${pairs.join("&")}` : path,
        headers: all,
        ...(b.text !== undefined ? { body: b.text } : {}),
      };
    });
}

/** Requests no operation describes: other methods on known paths, unknown paths under the base. */
function strayRequests(operations: Operation[], basePath: string, authHeaders: Record<string, string>) {
  const paths = [...new Set(operations.map((o) => o.path.replace(/\{[^}]+\}/g, "x")))];
  return fc
    .record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
      path: fc.oneof(
        fc.constantFrom(...paths),
        fc.constantFrom(`${basePath}/nope`, `${basePath}/`, `${basePath}//x`, `${basePath}/%00`, `${basePath}/%FF`),
      ),
      body: fc.option(fc.constantFrom("{}", "[]", "x"), { nil: undefined }),
    })
    .map(
      ({ method, path, body }): FuzzRequest => ({
        method,
        url: path,
        headers: { ...authHeaders, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body } : {}),
      }),
    );
}

const preview = (value: string | Buffer | undefined, max = 300) => {
  const text = value === undefined ? "" : typeof value === "string" ? value : value.toString("latin1");
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
};

function describeExchange(request: FuzzRequest, response: FuzzResponse) {
  return [
    `request:  ${request.method} ${request.url.slice(0, 300)}`,
    `          headers ${JSON.stringify({ ...request.headers, authorization: request.headers.authorization ? "[key]" : undefined })}`,
    `          body ${preview(request.body)}`,
    `response: ${response.status} ${String(response.headers["content-type"] ?? "(no content-type)")}`,
    `          body ${preview(response.text)}`,
  ].join("\n");
}

/** Collects ids from a successful JSON answer (top-level `id`, `data[].id`), to aim later requests at real objects. */
function harvestIds(json: unknown, into: Set<string>) {
  const take = (v: unknown) => {
    const id = (v as { id?: unknown } | null)?.id;
    if (typeof id === "string" && into.size < 200) into.add(id);
  };
  take(json);
  const data = (json as { data?: unknown } | null)?.data;
  if (Array.isArray(data)) data.forEach(take);
}

/** Runs the fuzzer against one surface; throws (with seed, request and answer) on the first broken promise. */
export async function fuzzSurface(options: FuzzOptions): Promise<FuzzReport> {
  const { app, document, basePath, authHeaders, isSurfaceError } = options;
  const seed = Number(process.env.FUZZ_SEED ?? options.seed ?? 20261130);
  const numRuns = Number(process.env.FUZZ_RUNS ?? options.numRuns ?? 2000);
  const operations = operationsOf(document, basePath);
  if (operations.length === 0) throw new Error(`the document has no operation under ${basePath}`);
  const ids = new Set<string>();
  const idList = () => [...ids];
  const generated = fc.oneof(
    ...operations.map((op) => ({ arbitrary: requestsFor(document, op, idList, authHeaders), weight: 4 })),
    { arbitrary: strayRequests(operations, basePath, authHeaders), weight: 1 },
  );
  const { prepare } = options;
  const request = prepare
    ? fc.tuple(generated, fc.nat()).map(([req, pick]) => ({ generated: req, pick }))
    : generated.map((req) => ({ generated: req, pick: 0 }));
  const statuses: Record<number, number> = {};
  let sent = 0;

  const send = async (req: FuzzRequest): Promise<FuzzResponse> => {
    const res = await app.inject({
      method: req.method as "GET",
      url: req.url,
      headers: req.headers,
      ...(req.body !== undefined ? { payload: req.body } : {}),
    });
    let json: unknown;
    try {
      json = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text: res.body, json };
  };

  try {
    await fc.assert(
      fc.asyncProperty(request, async ({ generated: built, pick }) => {
        const req = prepare ? prepare(built, pick) : built;
        const res = await send(req);
        sent += 1;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 500) throw new Error(`a ${res.status}\n${describeExchange(req, res)}`);
        if (res.status >= 400 && !isSurfaceError(res)) {
          throw new Error(`an error not in the surface's format\n${describeExchange(req, res)}`);
        }
        if (res.status < 300) harvestIds(res.json, ids);
      }),
      { seed, numRuns, endOnFailure: !process.env.FUZZ_SHRINK },
    );
  } catch (error) {
    // fast-check's report carries the seed and path; name the variable that replays it.
    (error as Error).message =
      `fuzzing ${basePath} with FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns} failed:\n${(error as Error).message}`;
    throw error;
  }

  const health = await app.inject({ method: "GET", url: options.healthPath ?? "/healthz" });
  if (health.statusCode !== 200)
    throw new Error(`the server is not healthy after fuzzing: ${health.statusCode} ${health.body}`);
  return { seed, requests: sent, statuses };
}
