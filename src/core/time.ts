/** The wire's timestamp form: UTC ISO 8601 with six fractional digits, `2022-07-31T18:00:00.000000Z`. */
export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, -1)}000Z`;
}

export const formatNullableTimestamp = (date: Date | null): string | null => (date ? formatTimestamp(date) : null);

export const addHours = (date: Date, hours: number) => new Date(date.getTime() + hours * 3_600_000);

/** Injected wherever "now" matters, so tests can move time. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
