import { createHash } from "node:crypto";

/** A short deterministic id from parts; the separator keeps ("ab","c") apart from ("a","bc"). */
export const stableId = (...parts: readonly (string | number)[]): string =>
  createHash("sha256").update(parts.join("\u001f")).digest("base64url").slice(0, 22);

/** 32-bit FNV-1a, for spreading keys over partitions. */
export const fnv1a = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};
