import { InvalidInput } from "../../core/errors.js";

/** Small readers of untrusted JSON; every failure names the field it is about. */

export const invalid = (message: string): InvalidInput => new InvalidInput("invalid_query", message);

/** A client's text quoted in an error, cut short so that an error never echoes a huge value. */
export const quote = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export const object = (v: unknown, field: string): Record<string, unknown> => {
  if (!isObject(v)) throw invalid(`"${field}" must be an object`);
  return v;
};

export const onlyKeys = (o: Record<string, unknown>, known: readonly string[], field: string): void => {
  const unknown = Object.keys(o).find((k) => !known.includes(k));
  if (unknown !== undefined) throw invalid(`unknown field ${quote(unknown)} in "${field}"; known: ${known.join(", ")}`);
};

export const array = (v: unknown, field: string, min: number, max: number): unknown[] => {
  if (!Array.isArray(v)) throw invalid(`"${field}" must be an array`);
  if (v.length < min || v.length > max) throw invalid(`"${field}" must hold ${min === max ? min : `${min} to ${max}`} items, got ${v.length}`);
  return v;
};

export const string = (v: unknown, field: string, maxLength = 1000): string => {
  if (typeof v !== "string") throw invalid(`"${field}" must be a string`);
  if (v.length > maxLength) throw invalid(`"${field}" is longer than ${maxLength} characters`);
  return v;
};

export const boolean = (v: unknown, field: string, fallback: boolean): boolean => {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw invalid(`"${field}" must be true or false`);
  return v;
};

/** An integer within bounds; GA4 sends 64-bit integers as strings, so digit strings are taken too. */
export const integer = (v: unknown, field: string, min: number, max: number, fallback?: number): number => {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = typeof v === "string" && /^-?\d{1,16}$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max) throw invalid(`"${field}" must be an integer from ${min} to ${max}, got ${quote(v)}`);
  return n;
};

export const site = (v: unknown): string => {
  if (typeof v !== "string" || v === "") throw invalid(`"site" is required`);
  return string(v, "site", 256);
};
