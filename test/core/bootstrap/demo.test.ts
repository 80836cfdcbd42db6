import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoIfEmpty } from "../../../src/core/bootstrap/demo.js";
import { apiClient, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";

/** The demo an empty store starts with, as its key sees it through the CNaught API. */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

interface WireProject {
  id: string;
  name: string;
  registry_url?: string;
}

describe(`demo seed (${storeKind})`, () => {
  it("gives the demo portfolio allocations to a small, clearly fictional catalogue; a second seed does nothing", async () => {
    const seed = await seedDemoIfEmpty(t.services);
    expect(seed).not.toBeNull();
    const api = apiClient(t.url, seed!.apiKey);

    const portfolio = await api("GET", `/v1/portfolios/${seed!.portfolioId}`);
    expect(portfolio.status, portfolio.text).toBe(200);
    const allocations = portfolio.body.category_allocations as {
      allocated_fraction: number;
      category: { id: string; name: string; projects: WireProject[] };
    }[];
    expect(allocations.map((a) => a.allocated_fraction)).toEqual([0.5, 0.3, 0.2]);
    const projects = allocations.flatMap((a) => a.category.projects);
    expect(allocations.length).toBeGreaterThanOrEqual(2);
    expect(projects.length).toBeGreaterThanOrEqual(4);
    for (const named of [...allocations.map((a) => a.category), ...projects]) {
      expect(named.name).toMatch(/^Example .*\(fictional\)$/);
    }

    // Every project has issuances, and its registry link is on a host no registry owns.
    for (const p of projects) {
      const project = await api("GET", `/v1/projects/${p.id}`);
      expect(project.status).toBe(200);
      expect(project.body.credit_issuances.length).toBeGreaterThan(0);
      expect(new URL(project.body.registry_url).hostname).toBe("registry.example");
    }
    const issuances = await t.db.prisma.creditIssuance.findMany({
      where: { projectId: { in: projects.map((p) => p.id) } },
    });
    for (const i of issuances) expect(i.serialPrefix).toMatch(/^EXR-\d{4}-\d{4}$/);

    const category = await api("GET", `/v1/project-categories/${allocations[0]!.category.id}`);
    expect(category.body).toEqual(allocations[0]!.category);

    expect(await seedDemoIfEmpty(t.services)).toBeNull();
    expect((await api("GET", `/v1/portfolios/${seed!.portfolioId}`)).body).toEqual(portfolio.body);
  });
});
