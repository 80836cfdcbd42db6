import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig defaults", () => {
  it("an empty environment gives the embedded store in ./data, port 3000 and admin on 3001", () => {
    const config = loadConfig({});
    expect(config.store).toEqual({ kind: "pglite", dataDir: path.resolve("./data") });
    expect(path.isAbsolute((config.store as { dataDir: string }).dataDir)).toBe(true);
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(3000);
    expect(config.admin).toEqual({ host: "127.0.0.1", port: 3001, token: null });
    expect(config.publicUrl).toBe("http://127.0.0.1:3000");
    expect(config.env).toBe("development");
    expect(config.logLevel).toBe("info");
    expect(config.bodyLimitBytes).toBe(64 * 1024);
    expect(config.shutdownTimeoutMs).toBe(10_000);
    expect(config.trustProxy).toBe(false);
    // The demo account is for the embedded store a new user starts on.
    expect(config.seedDemo).toBe(true);
  });

  it("does not read process.env when given an environment", () => {
    const saved = process.env.PORT;
    process.env.PORT = "4567";
    try {
      expect(loadConfig({}).port).toBe(3000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it("treats empty strings as unset", () => {
    const config = loadConfig({ PORT: "", DATABASE_URL: "", LOG_LEVEL: "", DATA_DIR: "" });
    expect(config.port).toBe(3000);
    expect(config.store.kind).toBe("pglite");
    expect(config.logLevel).toBe("info");
  });

  it("the admin port follows PORT unless ADMIN_PORT is set; PORT=0 gives a random admin port too", () => {
    expect(loadConfig({ PORT: "8080" }).admin.port).toBe(8081);
    expect(loadConfig({ PORT: "8080", ADMIN_PORT: "9999" }).admin.port).toBe(9999);
    expect(loadConfig({ PORT: "0" }).admin.port).toBe(0);
    expect(loadConfig({ PORT: "65535", ADMIN_PORT: "65534" }).admin.port).toBe(65534);
  });

  it("DATA_DIR is resolved to an absolute path", () => {
    const config = loadConfig({ DATA_DIR: "some/dir" });
    expect(config.store).toEqual({ kind: "pglite", dataDir: path.resolve("some/dir") });
  });

  it("the public URL follows HOST and PORT", () => {
    expect(loadConfig({ HOST: "0.0.0.0", PORT: "8080" }).publicUrl).toBe("http://localhost:8080");
    expect(loadConfig({ HOST: "::", PORT: "8080" }).publicUrl).toBe("http://localhost:8080");
    expect(loadConfig({ HOST: "::1", PORT: "8080" }).publicUrl).toBe("http://[::1]:8080");
    expect(loadConfig({ HOST: "kassa.internal" }).publicUrl).toBe("http://kassa.internal:3000");
  });

  it("accepts the loopback admin hosts", () => {
    for (const host of ["127.0.0.1", "::1", "localhost"]) {
      expect(loadConfig({ ADMIN_HOST: host }).admin.host).toBe(host);
    }
  });

  it("parses flags and levels", () => {
    expect(loadConfig({ TRUST_PROXY: "0" }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(loadConfig({ LOG_LEVEL: "silent" }).logLevel).toBe("silent");
    expect(loadConfig({ NODE_ENV: "production" }).env).toBe("production");
  });
});

describe("REDIRECT_ALLOW_PRIVATE_URLS", () => {
  it("allows local redirect URLs except in production, unless set", () => {
    expect(loadConfig({}).redirectUrls).toEqual({ allowPrivate: true });
    expect(loadConfig({ NODE_ENV: "production" }).redirectUrls).toEqual({ allowPrivate: false });
    expect(loadConfig({ NODE_ENV: "production", REDIRECT_ALLOW_PRIVATE_URLS: "true" }).redirectUrls).toEqual({
      allowPrivate: true,
    });
    expect(loadConfig({ REDIRECT_ALLOW_PRIVATE_URLS: "false" }).redirectUrls).toEqual({ allowPrivate: false });
    expect(configError({ REDIRECT_ALLOW_PRIVATE_URLS: "maybe" }).message).toContain("REDIRECT_ALLOW_PRIVATE_URLS");
  });
});

describe("TRUST_PROXY", () => {
  it("takes a list of proxy addresses and ranges (Fastify's trustProxy forms that check the proxy)", () => {
    expect(loadConfig({ TRUST_PROXY: "10.0.0.5" }).trustProxy).toEqual(["10.0.0.5"]);
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, 10.0.0.0/8,fd00::/8, loopback" }).trustProxy).toEqual([
      "127.0.0.1",
      "10.0.0.0/8",
      "fd00::/8",
      "loopback",
    ]);
  });

  it("refuses true (the left-most X-Forwarded-For entry, written by the client) and hop counts", () => {
    for (const value of ["true", "yes", "TRUE", "1", "2"]) {
      const message = configError({ TRUST_PROXY: value }).message;
      expect(message).toContain("TRUST_PROXY");
      expect(message).toContain("proxies' addresses");
    }
  });

  it("refuses addresses and ranges that are not", () => {
    for (const value of ["10.0.0.300", "10.0.0.0/33", "::1/129", "proxy.internal", "10.0.0.1,", "10.0.0.0/8/1"]) {
      expect(configError({ TRUST_PROXY: value }).message).toContain("TRUST_PROXY");
    }
  });
});

describe("loadConfig with DATABASE_URL", () => {
  const url = "postgresql://kassa:s3cret-pw@db.internal:5432/kassa";

  it("selects the PostgreSQL store with the pool size", () => {
    const config = loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: "25" });
    expect(config.store).toEqual({ kind: "postgres", url, poolSize: 25 });
  });

  it("accepts postgres:// as well and defaults the pool to 10", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://localhost/kassa" });
    expect(config.store).toEqual({ kind: "postgres", url: "postgres://localhost/kassa", poolSize: 10 });
  });

  it("seeds the demo account on PostgreSQL only when DEMO_SEED=true", () => {
    expect(loadConfig({ DATABASE_URL: url }).seedDemo).toBe(false);
    expect(loadConfig({ DATABASE_URL: url, DEMO_SEED: "true" }).seedDemo).toBe(true);
    expect(loadConfig({ DEMO_SEED: "false" }).seedDemo).toBe(false);
  });
});

describe("PUBLIC_URL", () => {
  it("is used as given, without trailing slashes", () => {
    expect(loadConfig({ PUBLIC_URL: "https://pay.example.com" }).publicUrl).toBe("https://pay.example.com");
    expect(loadConfig({ PUBLIC_URL: "https://pay.example.com/" }).publicUrl).toBe("https://pay.example.com");
    expect(loadConfig({ PUBLIC_URL: "https://pay.example.com///" }).publicUrl).toBe("https://pay.example.com");
    expect(loadConfig({ PUBLIC_URL: "https://example.com/kassa/" }).publicUrl).toBe("https://example.com/kassa");
  });

  it("must be an http(s) URL", () => {
    expect(configError({ PUBLIC_URL: "ftp://example.com" }).message).toContain("PUBLIC_URL");
    expect(configError({ PUBLIC_URL: "not a url" }).message).toContain("PUBLIC_URL");
  });
});

describe("LOGO_*", () => {
  it("allows logo URLs on private addresses except in production, unless set; 1 MiB and 10 s by default", () => {
    expect(loadConfig({}).logos).toEqual({ allowPrivateUrls: true, maxBytes: 1048576, timeoutMs: 10000 });
    expect(loadConfig({ NODE_ENV: "production" }).logos.allowPrivateUrls).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", LOGO_ALLOW_PRIVATE_URLS: "true" }).logos.allowPrivateUrls).toBe(true);
    expect(loadConfig({ LOGO_ALLOW_PRIVATE_URLS: "no" }).logos.allowPrivateUrls).toBe(false);
    expect(loadConfig({ LOGO_MAX_BYTES: "2048", LOGO_FETCH_TIMEOUT_MS: "500" }).logos).toMatchObject({
      maxBytes: 2048,
      timeoutMs: 500,
    });
  });
});

describe("bad values throw a ConfigError naming the variable", () => {
  const cases: Array<[string, Record<string, string>]> = [
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "70000" }],
    ["PORT", { PORT: "-1" }],
    ["PORT", { PORT: "80.5" }],
    ["ADMIN_PORT", { ADMIN_PORT: "abc" }],
    ["ADMIN_PORT", { PORT: "65535" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["DATABASE_POOL_SIZE", { DATABASE_POOL_SIZE: "0" }],
    ["ADMIN_HOST", { ADMIN_HOST: "0.0.0.0" }],
    ["ADMIN_HOST", { ADMIN_HOST: "10.0.0.5" }],
    ["NODE_ENV", { NODE_ENV: "staging" }],
    ["DEMO_SEED", { DEMO_SEED: "maybe" }],
    ["TRUST_PROXY", { TRUST_PROXY: "sure" }],
    ["BODY_LIMIT_BYTES", { BODY_LIMIT_BYTES: "10" }],
    ["SHUTDOWN_TIMEOUT_MS", { SHUTDOWN_TIMEOUT_MS: "-5" }],
    ["LOGO_ALLOW_PRIVATE_URLS", { LOGO_ALLOW_PRIVATE_URLS: "maybe" }],
    ["LOGO_MAX_BYTES", { LOGO_MAX_BYTES: "100" }],
    ["LOGO_MAX_BYTES", { LOGO_MAX_BYTES: "20000000" }],
    ["LOGO_FETCH_TIMEOUT_MS", { LOGO_FETCH_TIMEOUT_MS: "61000" }],
  ];

  it.each(cases)("%s in %j", (name, env) => {
    const error = configError(env);
    expect(error.name).toBe("ConfigError");
    expect(error.message).toMatch(/^Invalid configuration:/);
    expect(error.message).toContain(`${name}:`);
  });

  it("echoes ordinary bad values so the operator sees what was read", () => {
    expect(configError({ PORT: "abc" }).message).toContain('(got "abc")');
    expect(configError({ LOG_LEVEL: "loud" }).message).toContain('(got "loud")');
  });

  it("names every bad variable at once", () => {
    const message = configError({ PORT: "abc", LOG_LEVEL: "loud", ADMIN_HOST: "0.0.0.0" }).message;
    expect(message).toContain("PORT:");
    expect(message).toContain("LOG_LEVEL:");
    expect(message).toContain("ADMIN_HOST:");
  });

  it("never echoes DATABASE_URL, which may hold a password", () => {
    const bad = "mysql://admin:hunter2-very-secret@db.internal:3306/shop";
    const message = configError({ DATABASE_URL: bad }).message;
    expect(message).toContain("DATABASE_URL");
    expect(message).not.toContain(bad);
    expect(message).not.toContain("hunter2-very-secret");
    expect(message).not.toContain("db.internal");
  });

  it("never echoes a valid DATABASE_URL when another variable is wrong", () => {
    const good = "postgresql://admin:hunter2-very-secret@db.internal:5432/kassa";
    const message = configError({ DATABASE_URL: good, PORT: "abc", LOG_LEVEL: "loud" }).message;
    expect(message).toContain("PORT");
    expect(message).not.toContain("hunter2-very-secret");
    expect(message).not.toContain(good);
  });
});

describe("ADMIN_TOKEN", () => {
  it("is passed through and never echoed when invalid", () => {
    expect(loadConfig({ ADMIN_TOKEN: "a-long-enough-admin-token" }).admin.token).toBe("a-long-enough-admin-token");
    let message = "";
    try {
      loadConfig({ ADMIN_TOKEN: "short-secret" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("ADMIN_TOKEN");
    expect(message).not.toContain("short-secret");
  });
});

describe("LEANRAILS_API_VERSION", () => {
  it("defaults to the latest LeanRails version and takes a known one", () => {
    expect(loadConfig({}).leanrails.defaultApiVersion).toBe("2026-03-09");
    expect(loadConfig({ LEANRAILS_API_VERSION: "2026-03-09" }).leanrails.defaultApiVersion).toBe("2026-03-09");
  });

  it("refuses a version LeanRails does not have, naming the variable", () => {
    expect(configError({ LEANRAILS_API_VERSION: "2025-01-01" }).message).toContain("LEANRAILS_API_VERSION");
  });
});

describe("OPENCHARGE_*", () => {
  it("is off without an OCID; the base path defaults to /opencharge", () => {
    expect(loadConfig({}).opencharge).toEqual({
      ocid: null,
      privateKey: null,
      basePath: "/opencharge",
      accountId: null,
      name: "Kassa",
      currencies: ["USD"],
    });
  });

  it("takes an OCID, a key, a base path, an account, a name and currencies", () => {
    const key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    expect(
      loadConfig({
        OPENCHARGE_OCID: "900",
        OPENCHARGE_PRIVATE_KEY: key,
        OPENCHARGE_BASE_PATH: "/oc/v0",
        OPENCHARGE_ACCOUNT: "acct_1",
        OPENCHARGE_NAME: "Corner Gateway",
        OPENCHARGE_CURRENCIES: "USD,EUR,USDC",
      }).opencharge,
    ).toEqual({
      ocid: "900",
      privateKey: key,
      basePath: "/oc/v0",
      accountId: "acct_1",
      name: "Corner Gateway",
      currencies: ["USD", "EUR", "USDC"],
    });
  });

  it("refuses bad values, naming the variable and never echoing the key", () => {
    const secret = "zz".repeat(32);
    const error = configError({
      OPENCHARGE_OCID: "0900",
      OPENCHARGE_PRIVATE_KEY: secret,
      OPENCHARGE_BASE_PATH: "/opencharge/",
      OPENCHARGE_CURRENCIES: "usd",
    });
    for (const name of ["OPENCHARGE_OCID", "OPENCHARGE_PRIVATE_KEY", "OPENCHARGE_BASE_PATH", "OPENCHARGE_CURRENCIES"]) {
      expect(error.message).toContain(name);
    }
    expect(error.message).not.toContain(secret);
    expect(configError({ OPENCHARGE_BASE_PATH: "/v1" }).message).toContain("OPENCHARGE_BASE_PATH");
    expect(configError({ OPENCHARGE_BASE_PATH: "/pay/oc" }).message).toContain("OPENCHARGE_BASE_PATH");
  });
});
