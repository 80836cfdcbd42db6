import type { Decimal } from "../money/money.js";
import type { Project } from "../projects/projects.types.js";
import type { EquivalentKey } from "./equivalents.js";

/**
 * An impact report: the credits an account (or one subaccount) has had retired, that is the kg of
 * its fulfilled orders, in a window of fulfilment time, by category and project of the catalogue,
 * with what that is equivalent to. An API adapter renders it in its own wire shape; the public
 * impact page shows it to people.
 */

/** Which fulfilments count: fulfilled at or after `from` and before `to` (either may be open). */
export interface ImpactWindow {
  from: Date | null;
  to: Date | null;
}

export interface ProjectImpact {
  project: Project;
  offsetKg: Decimal;
  /** The vintages the credits came from, each once, oldest first. */
  vintageYears: number[];
}

export interface CategoryImpact {
  category: { id: string; name: string; description: string | null };
  offsetKg: Decimal;
  /** Most kg first. */
  projects: ProjectImpact[];
}

export interface Impact {
  /** The account's or the subaccount's name. */
  name: string;
  /** The subaccount's re-hosted logo (accounts have none), or null. */
  logoId: string | null;
  /** kg CO2e of all fulfilled orders in the window, allocated to projects or not. */
  totalKg: Decimal;
  equivalents: Record<EquivalentKey, Decimal>;
  /** `from`, or when the account (or subaccount) was created. */
  since: Date;
  /** `to`, or null: up to now. */
  to: Date | null;
  /**
   * The kg allocated to projects, by the projects' categories, most kg first. Kg of orders
   * fulfilled without project allocations (or from a project without a category) count in
   * `totalKg` only.
   */
  categories: CategoryImpact[];
}

/** Whose impact: the account's own page has no subaccount. */
export interface ImpactOwner {
  accountId: string;
  subaccountId: string | null;
}

/** A public impact page's settings. */
export interface ImpactPage extends ImpactOwner {
  id: string;
  /** The page is at /impact/<slug>. */
  slug: string;
  enabled: boolean;
  /** The equivalents the page shows, in this order. */
  equivalents: EquivalentKey[];
  createdAt: Date;
  updatedAt: Date;
}

/** Where a page is served, under PUBLIC_URL. */
export const impactPagePath = (slug: string) => `/impact/${slug}`;
