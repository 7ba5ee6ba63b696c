import { formatNumber } from '$lib/format.ts';

/** A count as the admin page shows it: a dash when the figure is missing, not a misleading 0. */
export const formatCount = (n: number | null | undefined, locale: string): string =>
  n === null || n === undefined ? '—' : formatNumber(n, locale);
