import { fnv1a } from "./hash.js";

/** Every event of one visitor maps to one partition, so one owner sees them in order. */
export const visitorPartition = (site: string, visitor: string, partitions: number): number =>
  fnv1a(`${site}\u001f${visitor}`) % partitions;

export const visitorKey = (site: string, visitor: string): string => `${site}\u001f${visitor}`;
