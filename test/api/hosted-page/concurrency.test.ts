import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { createSession, GOOD_CARD, openPage, submit } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe(`concurrent submits of one session (${storeKind})`, () => {
  it("N POSTs with 4242 at once: one succeeded payment, one order, every answer redirects to success", async () => {
    const N = 8;
    const { merchant, session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    const form = { ...GOOD_CARD, csrf_token: opened.csrf! };
    const answers = await Promise.all(
      Array.from({ length: N }, () => submit(t.url, session.id, form, { cookie: opened.cookie })),
    );
    const success = `https://shop.example/thanks?session=${session.id}`;
    expect(answers.map((a) => [a.status, a.headers.get("location")])).toEqual(
      Array.from({ length: N }, () => [303, success]),
    );

    const payments = await t.services.repos.payments.listForSession(session.id);
    expect(payments.filter((p) => p.status === "succeeded")).toHaveLength(1);
    expect(payments).toHaveLength(1);
    const orders = await t.db.prisma.order.findMany({ where: { checkoutSessionId: session.id } });
    expect(orders).toHaveLength(1);
    const completed = await t.db.prisma.event.count({
      where: { subjectId: session.id, type: "checkout_session.completed" },
    });
    expect(completed).toBe(1);
    const read = await merchant.api("GET", `/v1/checkout/sessions/${session.id}`);
    expect(read.body.state).toBe("complete");
  });

  it("a decline racing a good card: the session completes once and the decline is recorded", async () => {
    const { session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    const good = { ...GOOD_CARD, csrf_token: opened.csrf! };
    const bad = { ...good, card_number: "4000000000000002" };
    const answers = await Promise.all([
      submit(t.url, session.id, good, { cookie: opened.cookie }),
      submit(t.url, session.id, bad, { cookie: opened.cookie }),
    ]);
    expect(answers[0]!.status).toBe(303);
    // The decline is either charged first (402) or arrives after the payment (303, nothing charged).
    expect([303, 402]).toContain(answers[1]!.status);
    const payments = await t.services.repos.payments.listForSession(session.id);
    expect(payments.filter((p) => p.status === "succeeded")).toHaveLength(1);
    expect(payments.length).toBe(answers[1]!.status === 402 ? 2 : 1);
    expect(await t.db.prisma.order.count({ where: { checkoutSessionId: session.id } })).toBe(1);
  });
});
