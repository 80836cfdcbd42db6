/**
 * The load generator: a child process forked by run.ts (never the server's process). It receives
 * one LoadJob over IPC, drives it with autocannon, answers a LoadMessage and exits.
 */
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import { figuresOf, mergeSlices } from "./figures.js";
import { OC_CREATE_PATH, signedCreate } from "./opencharge.js";
import {
  CREATE_BODY,
  LEANRAILS_CREATE_BODY,
  LEANRAILS_SESSIONS_PATH,
  type KassaOnlyScenario,
  type LoadJob,
  type LoadMessage,
  POLLS_PER_CREATE,
  type RunJob,
  type ScenarioName,
  SESSIONS_PATH,
  type SeedJob,
  type Target,
} from "./scenarios.js";

/** autocannon's default; a request without an answer by then counts as a socket error. */
const TIMEOUT_S = 10;

function send(message: LoadMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error("load.ts must be forked with an IPC channel (see run.ts)"));
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

function headers(target: Target, json: boolean): Record<string, string> {
  return {
    authorization: target.authorization,
    ...(json ? { "content-type": "application/json" } : {}),
  };
}

function createRequest(target: Target, onResponse?: autocannon.Request["onResponse"]): autocannon.Request {
  return {
    method: "POST",
    path: SESSIONS_PATH,
    headers: headers(target, true),
    body: CREATE_BODY,
    // autocannon hands setupRequest a fresh copy (headers included) for every request.
    setupRequest: (request) => {
      request.headers = { ...request.headers, "idempotency-key": randomUUID() };
      return request;
    },
    ...(onResponse ? { onResponse } : {}),
  };
}

function pollRequest(target: Target, ids: readonly string[]): autocannon.Request {
  if (ids.length === 0) throw new Error("polling needs pre-created session ids");
  return {
    method: "GET",
    path: SESSIONS_PATH,
    headers: headers(target, false),
    setupRequest: (request) => {
      request.path = `${SESSIONS_PATH}/${ids[Math.floor(Math.random() * ids.length)]}`;
      return request;
    },
  };
}

/** A LeanRails create with two line items and a fresh Idempotency-Key (required on its POSTs). */
function leanrailsCreateRequest(authorization: string): autocannon.Request {
  return {
    method: "POST",
    path: LEANRAILS_SESSIONS_PATH,
    headers: { authorization, "content-type": "application/json" },
    body: LEANRAILS_CREATE_BODY,
    setupRequest: (request) => {
      request.headers = { ...request.headers, "idempotency-key": randomUUID() };
      return request;
    },
  };
}

/** A signed Opencharge create, signed afresh (order id, nonce, timestamp) for every request. */
function openchargeCreateRequest(): autocannon.Request {
  return {
    method: "POST",
    path: OC_CREATE_PATH,
    setupRequest: (request) => {
      const { body, headers } = signedCreate();
      request.headers = headers;
      request.body = body;
      return request;
    },
  };
}

function requestsFor(
  scenario: ScenarioName | KassaOnlyScenario,
  target: Target,
  ids: readonly string[],
): autocannon.Request[] {
  switch (scenario) {
    case "opencharge-create":
      return [openchargeCreateRequest()];
    case "create":
      return [createRequest(target)];
    case "leanrails-create":
      return [
        target.leanrailsAuthorization ? leanrailsCreateRequest(target.leanrailsAuthorization) : createRequest(target),
      ];
    case "get":
      return [pollRequest(target, ids)];
    case "mixed": {
      // Each connection loops over this sequence.
      const poll = pollRequest(target, ids);
      return [createRequest(target), ...Array.from({ length: POLLS_PER_CREATE }, () => ({ ...poll }))];
    }
  }
}

async function seed(job: SeedJob): Promise<void> {
  const ids: string[] = [];
  const result = await autocannon({
    url: job.target.url,
    connections: job.connections,
    amount: job.count,
    timeout: TIMEOUT_S,
    requests: [
      createRequest(job.target, (status, body) => {
        if (status === 201) ids.push((JSON.parse(body) as { id: string }).id);
      }),
    ],
  });
  await send({ type: "seeded", ids, figures: figuresOf(result) });
}

async function run(job: RunJob): Promise<void> {
  const options: autocannon.Options = {
    url: job.target.url,
    connections: job.connections,
    timeout: TIMEOUT_S,
    requests: requestsFor(job.scenario, job.target, job.ids),
  };
  if (job.warmupS > 0) await autocannon({ ...options, duration: job.warmupS });
  await send({ type: "measuring" });
  if (job.raw) {
    const raw = await autocannon({
      ...options,
      duration: job.durationS,
      skipAggregateResult: true,
    } as autocannon.Options);
    await send({ type: "figures", figures: mergeSlices([raw]), raw });
    return;
  }
  const result = await autocannon({ ...options, duration: job.durationS });
  await send({ type: "figures", figures: figuresOf(result) });
}

process.once("message", (job: LoadJob) => {
  (job.kind === "seed" ? seed(job) : run(job))
    .then(() => process.disconnect?.())
    .catch(async (error: unknown) => {
      await send({ type: "failed", message: error instanceof Error ? error.message : String(error) }).catch(() => {});
      process.exit(1);
    });
});
