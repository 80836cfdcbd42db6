import type { Decimal } from "../../core/money/money.js";
import type { OrderCertificate } from "../../core/orders/orders.types.js";
import type { OrderProjectAllocation } from "../../core/projects/projects.types.js";
import { formatDecimal } from "../hosted-page/format.js";

/**
 * What a certificate shows, in the words and order both renderings (the HTML page and the PDF)
 * use: whom the credits were retired for, how much, when, and from which projects with which
 * serial numbers. Built once from the core's certificate; the renderings only lay it out.
 */
export interface CertificateView {
  orderId: string;
  orderNumber: string;
  buyer: string;
  description: string | null;
  /** "1,250.5 kg" */
  amount: string;
  /** "1.2505 tonnes" */
  tonnes: string;
  /** "27 November 2026" (UTC) */
  retiredOn: string;
  retiredAt: Date;
  projects: ProjectView[];
}

export interface ProjectView {
  name: string;
  /** Type, location and registry, as far as the catalogue knows them: "Forestry · Nowhere · Example Registry". */
  facts: string[];
  registryUrl: string | null;
  amount: string;
  /** "2019, 2020" */
  vintages: string;
  retirements: { serialNumberRange: string | null; url: string | null }[];
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** A date for a certificate, in UTC: "27 November 2026". */
export const formatDate = (date: Date) => `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;

const kg = (amount: Decimal) => `${formatDecimal(amount)} kg`;

/** An http(s) URL as a link target; anything else is no link. */
export function httpUrl(url: string | undefined | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function projectView(a: OrderProjectAllocation): ProjectView {
  const d = a.project.details;
  return {
    name: a.project.name,
    facts: [a.project.type, d.locationName, d.registryName].filter((f): f is string => Boolean(f)),
    registryUrl: httpUrl(d.registryUrl),
    amount: kg(a.amountKg),
    vintages: a.vintageYears.join(", "),
    retirements: a.retirements.map((r) => ({ serialNumberRange: r.serialNumberRange ?? null, url: httpUrl(r.url) })),
  };
}

export function certificateView({ order, buyer }: OrderCertificate): CertificateView {
  const retiredAt = order.fulfilledAt ?? order.createdAt;
  return {
    orderId: order.id,
    orderNumber: order.orderNumber,
    buyer,
    description: order.description,
    amount: kg(order.amountKg),
    tonnes: `${formatDecimal(order.amountKg.div(1000))} tonnes`,
    retiredOn: formatDate(retiredAt),
    retiredAt,
    projects: order.projectAllocations.map(projectView),
  };
}
