/**
 * A condition keeping the rows of an hourly rollup table that readers take: those of each hour's generation
 * recorded last in rollup_generations (see src/projection/rollups.ts).
 */
export const currentHours = (db: string): string => `(site, hour, gen) IN (SELECT site, period, max(gen) FROM ${db}.rollup_generations WHERE grain = 'hour' GROUP BY site, period)`;
