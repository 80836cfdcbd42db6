import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogueFile } from "../../src/admin/catalogue-file.js";
import { buildAdminApp } from "../../src/app.js";
import { Decimal } from "../../src/core/money/money.js";
import { apiClient, createMerchant, startTestApp, type TestApp } from "../helpers/app.js";
import { storeKind } from "../helpers/database.js";
import { cleanEnv, cleanUp, launch, ROOT, tempDir, within } from "../helpers/processes.js";

/**
 * `kassa catalog import FILE.json` and `kassa catalog export` as operators run them: the real CLI
 * (a child process) through the admin API of an app on this file's database; what they load is
 * what GET /v1/projects/{id}, /v1/project-categories/{id} and /v1/portfolios/{id} then show.
 */

let t: TestApp;
let admin: FastifyInstance;
let env: NodeJS.ProcessEnv;
let dir: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
  const adminUrl = new URL(await admin.listen({ host: "127.0.0.1", port: 0 }));
  dir = await tempDir("kassa-catalogue-cli-");
  // DATA_DIR: should the admin API not answer, the CLI's in-process fallback opens a scratch store.
  env = cleanEnv({ ADMIN_HOST: "127.0.0.1", ADMIN_PORT: adminUrl.port, DATA_DIR: dir });
});
afterAll(async () => {
  await admin?.close();
  await t?.close();
  await cleanUp();
});

const parse = (text: string) => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

async function run(command: string, args: string[]) {
  const proc = launch(command, args, env);
  const { code } = await within(proc.exited, 60_000, `${command} ${args.join(" ")}`);
  return { code, json: parse(proc.stdout), error: parse(proc.stderr), stdout: proc.stdout, stderr: proc.stderr };
}

const kassa = (...args: string[]) => run(process.execPath, [path.join(ROOT, "bin/kassa.js"), ...args]);

let files = 0;
async function file(content: unknown) {
  const name = path.join(dir, `catalogue-${++files}.json`);
  await writeFile(name, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return name;
}

/** A catalogue file as an operator writes one (the README's shape). */
const catalogueFile = (portfolioId: string): CatalogueFile => ({
  categories: [
    {
      id: "cliForest",
      name: "Example Forests (fictional)",
      description: "Trees planted on example land.",
      primary_image_url: "https://images.example/forests.jpg",
    },
    { id: "cliSoil", name: "Example Soil (fictional)" },
  ],
  projects: [
    {
      id: "cliRidge",
      category_id: "cliForest",
      name: "Example Ridge Reforestation (fictional)",
      type: "Reforestation",
      un_sdg_goals: [13, 15],
      developer: "Example Growers (fictional)",
      registry_name: "Example Registry",
      registry_url: "https://registry.example/projects/R-1",
      location_name: "Example Ridge",
      location_latitude: -3.5,
      location_longitude: 101.25,
      lifetime: { start_year: 2018, end_year: 2048 },
      news_articles: [
        {
          title: "Example news",
          url: "https://news.example/r1",
          author: "E. Reporter",
          published_on: "2025-01-02",
          cnaught_take: "Worth a read.",
        },
      ],
      credit_issuances: [
        { vintage_year: 2022, total_amount: 1200, serial_prefix: "EXR-2022" },
        { vintage_year: 2023, total_amount: 950.25, serial_prefix: "EXR-2023" },
      ],
    },
    {
      id: "cliFarm",
      category_id: "cliSoil",
      name: "Example Farm Soil Carbon (fictional)",
      type: "Soil carbon",
      un_sdg_goals: [2],
      credit_issuances: [{ vintage_year: 2024, total_amount: 300 }],
    },
  ],
  portfolios: [
    {
      id: portfolioId,
      summary: "Forests and soil",
      description: "An example blend.",
      primary_image_url: "https://images.example/blend.jpg",
      category_allocations: [
        { category_id: "cliForest", allocated_fraction: 0.75 },
        { category_id: "cliSoil", allocated_fraction: 0.25 },
      ],
    },
  ],
});

describe(`kassa catalog import / export (${storeKind})`, () => {
  it("imports a file, which the CNaught API then shows; export prints it back and re-importing changes nothing", async () => {
    const merchant = await createMerchant(t.services);
    const portfolioId = merchant.portfolio!.id;
    const imported = await kassa("catalog", "import", await file(catalogueFile(portfolioId)));
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json).toEqual({
      imported: {
        categories: { total: 2, changed: 2 },
        projects: { total: 2, changed: 2 },
        credit_issuances: { total: 3, changed: 3 },
        portfolios: { total: 1, changed: 1 },
      },
    });

    const api = apiClient(t.url, merchant.key);
    const ridge = await api("GET", "/v1/projects/cliRidge");
    expect(ridge.status).toBe(200);
    expect(ridge.body).toEqual({
      id: "cliRidge",
      name: "Example Ridge Reforestation (fictional)",
      type: "Reforestation",
      developer: "Example Growers (fictional)",
      registry_name: "Example Registry",
      registry_url: "https://registry.example/projects/R-1",
      location_name: "Example Ridge",
      location_latitude: -3.5,
      location_longitude: 101.25,
      un_sdg_goals: [13, 15],
      lifetime: { start_year: 2018, end_year: 2048 },
      news_articles: [
        {
          title: "Example news",
          url: "https://news.example/r1",
          author: "E. Reporter",
          published_on: "2025-01-02",
          cnaught_take: "Worth a read.",
        },
      ],
      credit_issuances: [
        { vintage_year: 2022, total_amount: 1200 },
        { vintage_year: 2023, total_amount: 950.25 },
      ],
    });
    const farm = {
      id: "cliFarm",
      name: "Example Farm Soil Carbon (fictional)",
      type: "Soil carbon",
      un_sdg_goals: [2],
    };
    expect((await api("GET", "/v1/project-categories/cliSoil")).body).toEqual({
      id: "cliSoil",
      name: "Example Soil (fictional)",
      projects: [farm],
    });
    const portfolio = await api("GET", `/v1/portfolios/${portfolioId}`);
    expect(portfolio.body).toMatchObject({
      summary: "Forests and soil",
      description: "An example blend.",
      primary_image_url: "https://images.example/blend.jpg",
    });
    expect(
      portfolio.body.category_allocations.map((a: { allocated_fraction: number; category: { id: string } }) => [
        a.allocated_fraction,
        a.category.id,
      ]),
    ).toEqual([
      [0.75, "cliForest"],
      [0.25, "cliSoil"],
    ]);
    expect(portfolio.body.category_allocations[1].category).toEqual({
      id: "cliSoil",
      name: "Example Soil (fictional)",
      projects: [farm],
    });

    const exported = await kassa("catalog", "export");
    expect(exported.code, exported.stderr).toBe(0);
    const mine = {
      categories: exported.json.categories.filter((c: { id: string }) => c.id.startsWith("cli")),
      projects: exported.json.projects.filter((p: { id: string }) => p.id.startsWith("cli")),
      portfolios: exported.json.portfolios.filter((p: { id: string }) => p.id === portfolioId),
    };
    // What was written, with the absent category fields as nulls and a missing serial prefix as null.
    const { categories = [], projects = [], portfolios } = catalogueFile(portfolioId);
    expect(mine).toEqual({
      categories: [categories[0], { ...categories[1], description: null, primary_image_url: null }],
      projects: [
        projects[0],
        { ...projects[1], credit_issuances: [{ vintage_year: 2024, total_amount: 300, serial_prefix: null }] },
      ],
      portfolios,
    });

    // The whole export, imported again (from standard input), changes nothing.
    const exportFile = await file(exported.stdout);
    const again = await run("bash", ["-c", `"${process.execPath}" bin/kassa.js catalog import - < "${exportFile}"`]);
    expect(again.code, again.stderr).toBe(0);
    for (const counts of Object.values(again.json.imported) as { changed: number }[]) expect(counts.changed).toBe(0);
    expect((await kassa("catalog", "export")).stdout).toBe(exported.stdout);
  });

  it("refuses a bad file, naming each bad entry by its path, and changes nothing", async () => {
    const merchant = await createMerchant(t.services);
    const portfolioId = merchant.portfolio!.id;
    const before = (await kassa("catalog", "export")).stdout;

    // Shape: a misspelt key and a wrong type.
    const shape = catalogueFile(portfolioId);
    Object.assign(shape.projects![0]!, { summery: "typo" });
    Object.assign(shape.projects![1]!, { un_sdg_goals: "2" });
    const misshapen = await kassa("catalog", "import", await file(shape));
    expect(misshapen.code).toBe(1);
    expect(misshapen.error.error.code).toBe("invalid_parameters");
    expect(Object.keys(misshapen.error.error.fields).sort()).toEqual(["projects.0.summery", "projects.1.un_sdg_goals"]);

    // Values: fractions that do not sum to 1, a bad URL, a negative amount, a repeated vintage.
    const values = catalogueFile(portfolioId);
    values.portfolios![0]!.category_allocations![1]!.allocated_fraction = 0.2;
    values.projects![0]!.registry_url = "ftp://registry.example/r";
    values.projects![0]!.credit_issuances![1]!.total_amount = -5;
    values.projects![1]!.credit_issuances!.push({ vintage_year: 2024, total_amount: 1 });
    const invalid = await kassa("catalog", "import", await file(values));
    expect(invalid.code).toBe(1);
    expect(invalid.error.error.fields).toEqual({
      "portfolios.0.category_allocations": [expect.stringContaining("sum to exactly 1")],
      "projects.0.registry_url": [expect.any(String)],
      "projects.0.credit_issuances.1.total_amount": [expect.any(String)],
      "projects.1.credit_issuances.1.vintage_year": [expect.stringContaining("repeats")],
    });

    // References: the categories and portfolio named must exist in the file or the store. The
    // file's first entries are fine on their own; none of them is written.
    const refs = catalogueFile("noSuchPortfolio");
    refs.categories![0]!.id = "cliNewForest";
    refs.projects![0]!.category_id = "cliNewForest";
    refs.projects![1]!.category_id = "cliNoSuchCategory";
    refs.portfolios![0]!.category_allocations![0]!.category_id = "cliNoSuchCategory";
    const unresolved = await kassa("catalog", "import", await file(refs));
    expect(unresolved.code).toBe(1);
    expect(Object.keys(unresolved.error.error.fields).sort()).toEqual([
      "portfolios.0.category_allocations.0.category_id",
      "portfolios.0.id",
      "projects.1.category_id",
    ]);

    const notJson = await kassa("catalog", "import", await file("{ not json"));
    expect(notJson.code).toBe(1);
    expect(Object.keys(notJson.error.error.fields)).toEqual(["catalogue"]);

    expect((await kassa("catalog", "export")).stdout).toBe(before);
    expect((await apiClient(t.url, merchant.key)("GET", "/v1/project-categories/cliNewForest")).status).toBe(404);
  });

  it("refuses to shrink an issuance below what is already retired", async () => {
    const merchant = await createMerchant(t.services);
    const content = catalogueFile(merchant.portfolio!.id);
    expect((await kassa("catalog", "import", await file(content))).code).toBe(0);
    // Orders retire credits (fulfilment's work); here the store is set as it would leave it.
    await t.db.prisma.creditIssuance.update({
      where: { projectId_vintageYear: { projectId: "cliFarm", vintageYear: 2024 } },
      data: { retiredKg: new Decimal("250000").toFixed() },
    });
    content.projects![1]!.credit_issuances = [{ vintage_year: 2024, total_amount: 200 }];
    const shrunk = await kassa("catalog", "import", await file(content));
    expect(shrunk.code).toBe(1);
    expect(shrunk.error.error.fields).toEqual({
      "projects.1.credit_issuances.0.total_amount": ["must be at least the 250 tonnes already retired"],
    });
    content.projects![1]!.credit_issuances = [{ vintage_year: 2024, total_amount: 250 }];
    expect((await kassa("catalog", "import", await file(content))).code).toBe(0);
    const row = await t.db.prisma.creditIssuance.findUniqueOrThrow({
      where: { projectId_vintageYear: { projectId: "cliFarm", vintageYear: 2024 } },
    });
    expect([row.totalAmount.toString(), row.retiredKg.toString()]).toEqual(["250", "250000"]);
  });
});
