import pg from "pg";
import type { ChangeFeed, ChangeListener } from "./database.js";

/** How long a lost listening connection waits before it connects again. */
const RELISTEN_DELAY_MS = 1000;

/**
 * How often the listening connection proves it is alive, and how long it may take to answer. A
 * connection dropped silently (an idle flow forgotten by a NAT or a firewall) raises no error:
 * without this, the caches would go on trusting a feed that no longer reaches them.
 */
const HEARTBEAT = { intervalMs: 10_000, timeoutMs: 5_000 };

/**
 * LISTEN on a connection of its own (outside the pool), opened at the first `listen` and opened
 * again whenever it is lost; listeners hear `live(false)` at once on a loss, so caches that rely
 * on the feed stop trusting themselves until it is back.
 */
export function postgresChangeFeed(url: string, heartbeatTiming = HEARTBEAT): ChangeFeed & { close(): Promise<void> } {
  const channels = new Map<string, ChangeListener[]>();
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const tell = (listening: boolean) => {
    for (const listeners of channels.values()) for (const l of listeners) l.live(listening);
  };
  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`;

  async function connect() {
    if (closed || client) return;
    const c = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: heartbeatTiming.timeoutMs,
    });
    client = c;
    const lost = () => {
      if (client !== c) return;
      client = null;
      clearInterval(heartbeat);
      tell(false);
      c.end().catch(() => {});
      if (!closed) retry = setTimeout(() => void connect(), RELISTEN_DELAY_MS);
    };
    c.on("error", lost);
    c.on("end", lost);
    c.on("notification", (n) => {
      for (const l of channels.get(n.channel) ?? []) l.message(n.payload ?? "");
    });
    try {
      await c.connect();
      for (const channel of channels.keys()) await c.query(`LISTEN ${quote(channel)}`);
      if (client !== c) return;
      heartbeat = setInterval(() => {
        const late = setTimeout(lost, heartbeatTiming.timeoutMs);
        c.query("SELECT 1").then(
          () => clearTimeout(late),
          () => lost(),
        );
      }, heartbeatTiming.intervalMs);
      heartbeat.unref();
      tell(true);
    } catch {
      lost();
    }
  }

  return {
    listen(channel, listener) {
      const listeners = channels.get(channel);
      if (listeners) listeners.push(listener);
      else channels.set(channel, [listener]);
      if (client) {
        const c = client;
        c.query(`LISTEN ${quote(channel)}`).then(
          () => listener.live(true),
          () => c.emit("error", new Error("LISTEN failed")),
        );
      } else void connect();
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = client;
      client = null;
      clearInterval(heartbeat);
      await c?.end().catch(() => {});
    },
  };
}
