import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idParams } from "./cnaught.schemas.js";
import {
  ProjectCategoryWithProjectsSchema,
  ProjectWithCreditIssuancesSchema,
  toWireCategoryWithProjects,
  toWireProjectWithIssuances,
} from "./projects.schemas.js";

/**
 * GET /projects/{id} and /project-categories/{id}: the installation's carbon catalogue, the same
 * for every account (like portfolios). CNaught's client sends neither X-Subaccount-Id nor a body;
 * the catalogue is not scoped, so a subaccount header is not looked at.
 */
export const projectsRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (app, { services }) => {
  app.get(
    "/projects/:id",
    {
      config: { subaccountScoped: false },
      schema: {
        operationId: "GetProjectById",
        summary: "Get project by id",
        description: "Returns information about a project, including credit issuances by vintage year",
        tags: ["Projects"],
        params: idParams,
        response: { 200: ProjectWithCreditIssuancesSchema, ...errorResponses },
      },
    },
    async (request) => toWireProjectWithIssuances(await services.projects.getProject(request.params.id)),
  );

  app.get(
    "/project-categories/:id",
    {
      config: { subaccountScoped: false },
      schema: {
        operationId: "GetProjectCategoryById",
        summary: "Get project category by id",
        description: "Returns information about a project category, including its projects",
        tags: ["Project Categories"],
        params: idParams,
        response: { 200: ProjectCategoryWithProjectsSchema, ...errorResponses },
      },
    },
    async (request) => toWireCategoryWithProjects(await services.projects.getCategory(request.params.id)),
  );
};
