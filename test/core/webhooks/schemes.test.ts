import { certificateUrlsFor } from "../../../src/api/certificates/certificates.urls.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { apiLifecycles, NOTIFICATION_FORMATS } from "../../../src/api/notification-formats.js";
import { createTestPaymentProvider } from "../../../src/core/payments/test-provider.js";
import { createServices } from "../../../src/core/services.js";
import type { RequestSigner, ResponseJudge } from "../../../src/core/webhooks/signing.js";
import type { Database } from "../../../src/db/database.js";
import { createTestDatabase } from "../../helpers/database.js";
import { placeOrder, type Receiver, startReceiver, TEST_WEBHOOK_SETTINGS } from "./support.js";

/**
 * The outbox's schemes given from outside: a signer that sees the URL and answers a promise, a
 * signer that fails, and a judge that reads the receiver's body (delivered, retry, or final).
 */

const SCHEME = "test-scheme";
let db: Database;
let drop: () => Promise<void>;
let receiver: Receiver;
let signerFails = false;

const signer: RequestSigner = async (input) => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  if (signerFails) throw new Error("no key today");
  return { "x-signed-path": new URL(input.url).pathname, "content-type": "application/json" };
};

/** "ok" delivers, "no:<reason>" is final, anything else is retried. */
const judge: ResponseJudge = ({ body }) =>
  body === "ok"
    ? null
    : body.startsWith("no:")
      ? { problem: `refused: ${body.slice(3)}`, final: true }
      : { problem: "not yet", final: false };

const services = () =>
  createServices(
    db,
    () => new Date(),
    {
      lifecycles: (core) => apiLifecycles(core, { publicUrl: "https://kassa.test" }),
      notificationFormats: NOTIFICATION_FORMATS,
      certificateUrls: certificateUrlsFor("https://kassa.test"),
      paymentProvider: createTestPaymentProvider(),
      webhookSigners: { [SCHEME]: signer },
      webhookJudges: { [SCHEME]: judge },
    },
    { webhooks: { ...TEST_WEBHOOK_SETTINGS, retryBaseMs: 10, retryMaxMs: 20 } },
  );

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  receiver = await startReceiver();
});
afterEach(() => {
  signerFails = false;
  receiver.state.body = null;
  receiver.requests.splice(0);
});
afterAll(async () => {
  await receiver?.close();
  await drop?.();
});

/** An order's delivery, switched to the test scheme. */
async function delivery() {
  const s = services();
  const { order } = await placeOrder(s, receiver.url);
  const row = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { subjectId: order.id } });
  await db.prisma.webhookDelivery.update({ where: { id: row.id }, data: { signature: SCHEME } });
  return { s, id: row.id };
}

const stateOf = (id: string) =>
  db.prisma.webhookDelivery.findUniqueOrThrow({
    where: { id },
    include: { attempts: { orderBy: { attempt: "asc" } } },
  });

describe("outbox schemes given from outside", () => {
  it("an asynchronous signer sees the delivery's URL; the judge's 'delivered' ends it", async () => {
    const { s, id } = await delivery();
    receiver.state.body = "ok";
    await s.webhooks.deliverDue();
    expect(receiver.requests.map((r) => r.headers["x-signed-path"])).toEqual(["/hooks"]);
    expect((await stateOf(id)).status).toBe("succeeded");
  });

  it("a 2xx the judge does not accept is retried; a final refusal is given up at once, with its reason", async () => {
    const { s, id } = await delivery();
    receiver.state.body = "later";
    await s.webhooks.deliverDue();
    expect((await stateOf(id)).status).toBe("pending");
    await new Promise((resolve) => setTimeout(resolve, 40));
    receiver.state.body = "no:duplicate";
    await s.webhooks.deliverDue();
    const after = await stateOf(id);
    expect(after.status).toBe("failed");
    expect(after.attempts.map((a) => [a.responseStatus, a.outcome, a.error])).toEqual([
      [200, "failed", "not yet"],
      [200, "gave_up", "refused: duplicate"],
    ]);
  });

  it("a signer that fails sends nothing; the attempt records why and is retried", async () => {
    const { s, id } = await delivery();
    signerFails = true;
    await s.webhooks.deliverDue();
    expect(receiver.requests).toHaveLength(0);
    const after = await stateOf(id);
    expect(after.status).toBe("pending");
    expect(after.attempts[0]).toMatchObject({ outcome: "failed", error: "signing failed: no key today" });
  });
});
