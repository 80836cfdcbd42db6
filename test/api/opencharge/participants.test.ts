import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOperation } from "../../../src/admin/admin.operations.js";
import { parseCommand } from "../../../src/cli/main.js";
import { parsePublicKey } from "../../../src/api/opencharge/keys.js";
import { kassaJobs } from "../../../src/workers/jobs.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { VECTOR } from "./fixtures.js";
import { referenceSign } from "./reference-signer.js";
import {
  anOrder,
  createBody,
  GATEWAY_KEY,
  MERCHANT_KEY,
  registerParticipants,
  signedFetch,
  sortedJson,
  STRANGER_KEY,
} from "./support.js";

/** Kassa with the known-answer vector's key as its identity, mounted at /oc. */
let t: TestApp;
let off: TestApp;
let tmp: string;
const ops = () => ({ services: t.services, db: t.db });

beforeAll(async () => {
  [t, off] = await Promise.all([
    startTestApp({ OPENCHARGE_OCID: "200", OPENCHARGE_PRIVATE_KEY: VECTOR.privateKey, OPENCHARGE_BASE_PATH: "/oc" }),
    startTestApp({}),
  ]);
  tmp = await mkdtemp(path.join(os.tmpdir(), "kassa-oc-"));
});
afterAll(async () => {
  await Promise.all([t?.close(), off?.close()]);
  await rm(tmp, { recursive: true, force: true });
});

describe("identity", () => {
  it("OPENCHARGE_PRIVATE_KEY is Kassa's key: metadata publishes the vector's public key at the base path", async () => {
    const res = await fetch(`${t.url}/oc/metadata.json`);
    expect(res.status).toBe(200);
    const metadata = (await res.json()) as { config: { publicKey: string; endpoint: string } };
    expect(metadata.config.publicKey).toBe(VECTOR.publicKey);
    expect(metadata.config.endpoint).toBe(`${TEST_PUBLIC_URL}/oc`);
    expect(await runOperation(ops(), "opencharge.identity", {})).toMatchObject({
      ocid: "200",
      public_key: VECTOR.publicKey,
    });
    // Nothing is served at the default path when another is configured.
    expect((await fetch(`${t.url}/opencharge/metadata.json`)).status).toBe(404);
  });

  it("every instance prunes nonces while the API is on", () => {
    expect(kassaJobs(t.services).map((j) => j.name)).toContain("prune-opencharge-nonces");
    expect(kassaJobs(off.services).map((j) => j.name)).not.toContain("prune-opencharge-nonces");
  });

  it("is off without OPENCHARGE_OCID: no routes, and the commands say so", async () => {
    const res = await fetch(`${off.url}/opencharge/metadata.json`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    await expect(runOperation({ services: off.services, db: off.db }, "opencharge.identity", {})).rejects.toMatchObject(
      {
        code: "invalid_state",
      },
    );
    await expect(
      runOperation({ services: off.services, db: off.db }, "opencharge.participants.list", {}),
    ).rejects.toMatchObject({ code: "invalid_state" });
  });
});

describe("participants", () => {
  it("add, list and remove; a removed caller is UNKNOWN_OCID", async () => {
    await registerParticipants(t);
    const listed = (await runOperation(ops(), "opencharge.participants.list", {})) as Array<Record<string, unknown>>;
    expect(listed.map((p) => [p.ocid, p.name, p.role])).toEqual([
      ["500", "Merchant Store", "merchant"],
      ["600", "Gateway", "merchant-gateway"],
    ]);
    expect(listed[0]!.public_key).toBe(MERCHANT_KEY.publicHex);
    // Each participant is a subaccount of the Opencharge account, named as it (the hosted page shows it).
    const sub = await t.db.prisma.subaccount.findUniqueOrThrow({ where: { id: listed[0]!.subaccount_id as string } });
    expect(sub.name).toBe("Merchant Store");

    const body = createBody(anOrder(new Date(), { accepts: [200] }));
    expect((await signedFetch(t.url, "/oc/checkout/create", body)).status).toBe(200);
    await runOperation(ops(), "opencharge.participants.remove", { ocid: "600" });
    const refused = await signedFetch(t.url, "/oc/checkout/create", createBody(anOrder(new Date())));
    expect([refused.status, refused.body.error.code]).toEqual([401, "UNKNOWN_OCID"]);
    await expect(runOperation(ops(), "opencharge.participants.remove", { ocid: "600" })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("an OCID registered already is a conflict", async () => {
    const add = () =>
      runOperation(ops(), "opencharge.participants.add", {
        ocid: "700",
        name: "Twice",
        public_key: STRANGER_KEY.publicHex,
        endpoint: "https://twice.example",
      });
    await add();
    await expect(add()).rejects.toMatchObject({ code: "conflict" });
  });

  it("keys in 130 or 66 hex are kept as 128 hex; bad input is refused field by field", async () => {
    const compressed = parsePublicKey(GATEWAY_KEY.publicHex).compressedHex;
    for (const [ocid, key] of [
      ["701", `04${GATEWAY_KEY.publicHex}`],
      ["702", compressed],
    ] as const) {
      const added = await runOperation(ops(), "opencharge.participants.add", {
        ocid,
        name: "Keyed",
        public_key: key,
        endpoint: "https://keyed.example",
      });
      expect(added).toMatchObject({ public_key: GATEWAY_KEY.publicHex });
    }
    await expect(
      runOperation(ops(), "opencharge.participants.add", {
        ocid: "0701",
        name: " ",
        public_key: `02${"f".repeat(64)}`,
        endpoint: "ftp://x.example",
        role: "bank",
      }),
    ).rejects.toMatchObject({
      code: "invalid_parameters",
      details: {
        fields: {
          ocid: [expect.any(String)],
          name: [expect.any(String)],
          public_key: [expect.stringContaining("Invalid public key")],
          endpoint: [expect.any(String)],
          role: [expect.any(String)],
        },
      },
    });
  });

  it("imports a participant from its metadata.json file (kassa opencharge participants import --file)", async () => {
    const config = {
      publicKey: STRANGER_KEY.publicHex,
      endpoint: "https://imported.example/opencharge",
      capabilities: ["transfer.webhook"],
      settlement: { currencies: ["USD"], accepts: [200] },
    };
    const document = {
      opencharge: "0.1",
      name: "Imported Gateway",
      config,
      signature: referenceSign(sortedJson(config), STRANGER_KEY).rsv,
    };
    const file = path.join(tmp, "metadata.json");
    await writeFile(file, JSON.stringify(document));
    const { command, args } = parseCommand([
      "opencharge",
      "participants",
      "import",
      "--ocid",
      "710",
      "--file",
      file,
      "--role",
      "merchant-gateway",
    ]);
    expect(command.operation).toBe("opencharge.participants.import");
    const added = await runOperation(ops(), command.operation, args);
    expect(added).toMatchObject({
      ocid: "710",
      name: "Imported Gateway",
      public_key: STRANGER_KEY.publicHex,
      endpoint: "https://imported.example/opencharge",
      role: "merchant-gateway",
    });

    // A document whose signature does not cover its config is refused.
    const forged = { ...document, config: { ...config, endpoint: "https://evil.example" } };
    await expect(
      runOperation(ops(), "opencharge.participants.import", { ocid: "711", metadata: JSON.stringify(forged) }),
    ).rejects.toMatchObject({ code: "invalid_parameters" });
  });

  it("the CLI knows the three-word commands", () => {
    expect(parseCommand(["opencharge", "identity"]).command.operation).toBe("opencharge.identity");
    expect(parseCommand(["opencharge", "participants", "list"]).command.operation).toBe("opencharge.participants.list");
    expect(parseCommand(["opencharge", "participants", "remove", "500"]).args).toEqual({ ocid: "500" });
    expect(
      parseCommand([
        "opencharge",
        "participants",
        "add",
        "--ocid",
        "500",
        "--name",
        "Shop",
        "--public-key",
        "ab",
        "--endpoint",
        "https://x",
      ]).args,
    ).toEqual({ ocid: "500", name: "Shop", public_key: "ab", endpoint: "https://x" });
    expect(parseCommand(["opencharge", "proofs", "--limit", "5"]).args).toEqual({ limit: "5" });
  });
});
