import { z } from "zod";
import type { Subaccount } from "../../core/subaccounts/subaccounts.repository.js";
import { formatTimestamp } from "../../core/time.js";
import { logoPath } from "../../core/subaccounts/logos.js";
import { httpUrlProblem } from "../../core/urls.js";

/** A logo to download: http or https (where it may point is checked when it is downloaded). */
export const LogoUrl = z
  .string()
  .max(2048)
  .refine((v) => httpUrlProblem(v) === null, "must be an absolute http or https URL")
  .describe(
    "URL of a public PNG, JPEG, WebP or SVG image, served with its Content-Type; Kassa downloads it and hosts the copy",
  );

export const SubaccountParams = z
  .object({
    name: z.string().trim().min(1).max(256),
    email: z.email().max(320).nullish(),
    default_portfolio_id: z.string().max(64).nullish(),
    logo_url: LogoUrl.nullish(),
  })
  .meta({ id: "SubaccountParams" });

/** PUT /v1/subaccounts/{id}: every property but the logo, which it keeps (a logo_url sent is ignored). */
export const UpdateSubaccountParams = SubaccountParams.omit({ logo_url: true }).meta({ id: "UpdateSubaccountOptions" });

export const SubaccountBody = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    created_on: z.string(),
    default_portfolio_id: z.string().nullable(),
    logo_url: z.string().nullable().describe("The logo as Kassa hosts it (under PUBLIC_URL/logos/), or null"),
  })
  .meta({ id: "Subaccount" });

export const SubaccountList = z.object({ data: z.array(SubaccountBody) }).meta({ id: "SubaccountList" });

export const fromWireSubaccountUpdate = (p: z.infer<typeof UpdateSubaccountParams>) => ({
  name: p.name,
  email: p.email ?? null,
  defaultPortfolioId: p.default_portfolio_id ?? null,
});

export const fromWireSubaccount = (p: z.infer<typeof SubaccountParams>) => ({
  ...fromWireSubaccountUpdate(p),
  logoUrl: p.logo_url ?? null,
});

/** The body of POST /v1/subaccounts/{id}/logo. */
export const SubaccountLogoUrlParams = z.object({ logo_url: LogoUrl }).meta({ id: "SubaccountLogoUrlOptions" });

/** A subaccount as CNaught shows it: its logo at Kassa's own URL. */
export const toWireSubaccount = (s: Subaccount, publicUrl: string): z.infer<typeof SubaccountBody> => ({
  id: s.id,
  name: s.name,
  email: s.email,
  created_on: formatTimestamp(s.createdAt),
  default_portfolio_id: s.defaultPortfolioId,
  logo_url: s.logoId ? publicUrl + logoPath(s.logoId) : null,
});
