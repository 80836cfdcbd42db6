import { z } from "zod";
import type { Subaccount } from "../../core/subaccounts/subaccounts.repository.js";
import { formatTimestamp } from "../../core/time.js";
import { httpsUrlProblem } from "../../core/urls.js";

const httpsUrl = z
  .string()
  .max(2048)
  .refine((v) => httpsUrlProblem(v) === null, "must be an absolute https URL");

export const SubaccountParams = z
  .object({
    name: z.string().trim().min(1).max(256),
    email: z.email().max(320).nullish(),
    default_portfolio_id: z.string().max(64).nullish(),
    logo_url: httpsUrl.nullish().describe("Shown on the hosted checkout page"),
  })
  .meta({ id: "SubaccountParams" });

export const SubaccountBody = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    created_on: z.string(),
    default_portfolio_id: z.string().nullable(),
    logo_url: z.string().nullable(),
  })
  .meta({ id: "Subaccount" });

export const SubaccountList = z.object({ data: z.array(SubaccountBody) }).meta({ id: "SubaccountList" });

export const fromWireSubaccount = (p: z.infer<typeof SubaccountParams>) => ({
  name: p.name,
  email: p.email ?? null,
  logoUrl: p.logo_url ?? null,
  defaultPortfolioId: p.default_portfolio_id ?? null,
});

export const toWireSubaccount = (s: Subaccount): z.infer<typeof SubaccountBody> => ({
  id: s.id,
  name: s.name,
  email: s.email,
  created_on: formatTimestamp(s.createdAt),
  default_portfolio_id: s.defaultPortfolioId,
  logo_url: s.logoUrl,
});
