import net from "node:net";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { postgresChangeFeed } from "../../src/db/database.js";
import { waitFor } from "../helpers/processes.js";

/**
 * The LISTEN connection the caches rely on: it says when it is not listening (so they stop
 * trusting themselves), also when the connection dies silently, and comes back by itself. The
 * connection goes through a TCP relay the test can cut or freeze, like a network would.
 */

const DATABASE_URL = process.env.DATABASE_URL ?? "";
const target = new URL(DATABASE_URL);

/** A TCP relay to PostgreSQL; `freeze` stops passing bytes without closing anything; `cut` resets. */
async function relay() {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    for (const [from, to] of [pair, [upstream, client]] as const) {
      from.on("data", (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on("close", () => {
        to.destroy();
        pairs.delete(pair);
      });
      from.on("error", () => {});
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(DATABASE_URL);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: url.toString(),
    connections: () => pairs.size,
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    cut: () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function watchedFeed(url: string) {
  const feed = postgresChangeFeed(url, { intervalMs: 200, timeoutMs: 300 });
  cleanups.push(() => feed.close());
  const seen: string[] = [];
  const states: boolean[] = [];
  feed.listen("kassa_feed_test", { message: (p) => seen.push(p), live: (l) => states.push(l) });
  await waitFor(() => states.at(-1) === true, 10_000, "the feed to listen");
  return { seen, states, live: () => states.at(-1) === true };
}

async function sendNotify(payload: string) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query("SELECT pg_notify('kassa_feed_test', $1)", [payload]);
  } finally {
    await client.end();
  }
}

describe("the change feed's listening connection", () => {
  it("hears NOTIFYs, says so when the connection is reset, and listens again by itself", async () => {
    const r = await relay();
    cleanups.push(r.close);
    const feed = await watchedFeed(r.url);
    await sendNotify("one");
    await waitFor(() => feed.seen.includes("one"), 10_000, "the first notification");

    r.cut();
    await waitFor(() => feed.states.includes(false), 10_000, "the feed to report the loss");
    await waitFor(() => feed.live(), 10_000, "the feed to listen again");
    await sendNotify("two");
    await waitFor(() => feed.seen.includes("two"), 10_000, "a notification after the reconnect");
  });

  it("notices a connection that dies silently (no error, no close) through its heartbeat", async () => {
    const r = await relay();
    cleanups.push(r.close);
    const feed = await watchedFeed(r.url);
    r.freeze(); // bytes stop flowing; nothing is closed, nothing errors
    await waitFor(() => !feed.live(), 10_000, "the heartbeat to notice");
    expect(feed.states).toEqual([true, false]);
    r.thaw();
    await waitFor(() => feed.live(), 10_000, "the feed to listen again");
    await sendNotify("after");
    await waitFor(() => feed.seen.includes("after"), 10_000, "a notification after the silent loss");
  });
});
