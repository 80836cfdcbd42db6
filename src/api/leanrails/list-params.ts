import { z } from "zod";

/** Stripe's list parameters: `limit` (1-100; the services check the range), and object-id cursors. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().optional().describe("1 to 100, default 10"),
  starting_after: z.string().min(1).max(255).optional().describe("An object id: the page after it"),
  ending_before: z.string().min(1).max(255).optional().describe("An object id: the page before it"),
});

export const fromWireListQuery = (q: z.output<typeof ListQuery>) => ({
  limit: q.limit,
  startingAfter: q.starting_after,
  endingBefore: q.ending_before,
});

export const IdParams = z.object({ id: z.string().min(1).max(255) });

/** `{object: "list", data, has_more, url, next_cursor}`: the cursor is the last object's id while there are more. */
export const listOf = <T extends { id: string }>(data: T[], hasMore: boolean, url: string) => ({
  object: "list" as const,
  data,
  has_more: hasMore,
  url,
  next_cursor: hasMore ? (data.at(-1)?.id ?? null) : null,
});
