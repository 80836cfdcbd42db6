/**
 * Who is asking: the authenticated account and, when the request named one, the subaccount it
 * is scoped to. Every read and write of tenant data goes through a Scope.
 */
export interface Scope {
  accountId: string;
  /** Set only when the caller scoped the request to a subaccount (X-Subaccount-Id). */
  subaccountId: string | null;
}

/**
 * Whether an object owned by (accountId, subaccountId) is visible in `scope`. Without a
 * subaccount the whole account is in scope; with one, only that subaccount's objects.
 */
export const inScope = (scope: Scope, owner: { accountId: string; subaccountId: string | null }) =>
  owner.accountId === scope.accountId && (scope.subaccountId === null || owner.subaccountId === scope.subaccountId);
