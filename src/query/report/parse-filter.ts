import { array, boolean, integer, invalid, object, onlyKeys, quote, string } from "./input.js";
import type { FieldTest, FilterExpression, NumericOperation, StringMatch } from "./spec.js";

const MATCH_TYPES: readonly StringMatch[] = ["EXACT", "BEGINS_WITH", "ENDS_WITH", "CONTAINS", "FULL_REGEXP", "PARTIAL_REGEXP"];
const OPERATIONS: readonly NumericOperation[] = ["EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL"];
const MAX_DEPTH = 6;
const MAX_LEAVES = 50;

// ClickHouse matches with RE2, which has no lookaround and no backreferences; JavaScript has both.
const RE2_UNSUPPORTED = /\(\?<?[=!]|\\[1-9]|\\k</;

const regex = (value: string, field: string): void => {
  try {
    new RegExp(value);
  } catch {
    throw invalid(`"${field}" is not a valid regular expression: ${quote(value)}`);
  }
  if (RE2_UNSUPPORTED.test(value)) throw invalid(`"${field}" uses lookaround or a backreference, which regular expressions here do not support`);
};

/** GA4 numbers: {int64Value: "5"} or {doubleValue: 1.5}; a bare number is taken too. */
const numberValue = (v: unknown, field: string): number => {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  const o = object(v, field);
  onlyKeys(o, ["int64Value", "doubleValue"], field);
  if (o["int64Value"] !== undefined) return integer(o["int64Value"], `${field}.int64Value`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const d = o["doubleValue"];
  if (typeof d !== "number" || !Number.isFinite(d)) throw invalid(`"${field}" needs int64Value or a finite doubleValue`);
  return d;
};

const fieldTest = (f: Record<string, unknown>, at: string): FieldTest => {
  const kinds = ["stringFilter", "inListFilter", "numericFilter", "betweenFilter", "emptyFilter"].filter((k) => f[k] !== undefined);
  if (kinds.length !== 1) throw invalid(`"${at}" needs exactly one of stringFilter, inListFilter, numericFilter, betweenFilter, emptyFilter`);
  const kind = kinds[0] as string;
  const o = object(f[kind], `${at}.${kind}`);
  const here = `${at}.${kind}`;
  if (kind === "stringFilter") {
    onlyKeys(o, ["matchType", "value", "caseSensitive"], here);
    const matchType = o["matchType"] ?? "EXACT";
    if (!MATCH_TYPES.includes(matchType as StringMatch)) throw invalid(`"${here}.matchType" must be one of ${MATCH_TYPES.join(", ")}, got ${quote(matchType)}`);
    const value = string(o["value"], `${here}.value`);
    if (matchType === "FULL_REGEXP" || matchType === "PARTIAL_REGEXP") regex(value, `${here}.value`);
    return { kind: "string", matchType: matchType as StringMatch, value, caseSensitive: boolean(o["caseSensitive"], `${here}.caseSensitive`, false) };
  }
  if (kind === "inListFilter") {
    onlyKeys(o, ["values", "caseSensitive"], here);
    const values = array(o["values"], `${here}.values`, 1, 1000).map((v, i) => string(v, `${here}.values[${i}]`));
    return { kind: "inList", values, caseSensitive: boolean(o["caseSensitive"], `${here}.caseSensitive`, false) };
  }
  if (kind === "numericFilter") {
    onlyKeys(o, ["operation", "value"], here);
    const operation = o["operation"];
    if (!OPERATIONS.includes(operation as NumericOperation)) throw invalid(`"${here}.operation" must be one of ${OPERATIONS.join(", ")}, got ${quote(operation)}`);
    return { kind: "numeric", operation: operation as NumericOperation, value: numberValue(o["value"], `${here}.value`) };
  }
  if (kind === "betweenFilter") {
    onlyKeys(o, ["fromValue", "toValue"], here);
    const from = numberValue(o["fromValue"], `${here}.fromValue`);
    const to = numberValue(o["toValue"], `${here}.toValue`);
    if (to < from) throw invalid(`"${here}.toValue" is below its fromValue`);
    return { kind: "between", from, to };
  }
  onlyKeys(o, [], here);
  return { kind: "empty" };
};

/** Parses GA4's FilterExpression. Field names are checked later, against the catalogue. */
export const parseFilter = (raw: unknown, at: string): FilterExpression => {
  let leaves = 0;
  const walk = (v: unknown, here: string, depth: number): FilterExpression => {
    if (depth > MAX_DEPTH) throw invalid(`"${at}" is nested deeper than ${MAX_DEPTH} levels`);
    const o = object(v, here);
    const keys = Object.keys(o);
    if (keys.length !== 1) throw invalid(`"${here}" needs exactly one of andGroup, orGroup, notExpression, filter`);
    const key = keys[0] as string;
    if (key === "andGroup" || key === "orGroup") {
      const group = object(o[key], `${here}.${key}`);
      onlyKeys(group, ["expressions"], `${here}.${key}`);
      const items = array(group["expressions"], `${here}.${key}.expressions`, 1, MAX_LEAVES).map((x, i) => walk(x, `${here}.${key}.expressions[${i}]`, depth + 1));
      return { kind: key === "andGroup" ? "and" : "or", items };
    }
    if (key === "notExpression") return { kind: "not", item: walk(o[key], `${here}.notExpression`, depth + 1) };
    if (key === "filter") {
      if (++leaves > MAX_LEAVES) throw invalid(`"${at}" holds more than ${MAX_LEAVES} filters`);
      const f = object(o[key], `${here}.filter`);
      onlyKeys(f, ["fieldName", "stringFilter", "inListFilter", "numericFilter", "betweenFilter", "emptyFilter"], `${here}.filter`);
      return { kind: "filter", field: string(f["fieldName"], `${here}.filter.fieldName`, 200), test: fieldTest(f, `${here}.filter`) };
    }
    throw invalid(`unknown field ${quote(key)} in "${here}"; known: andGroup, orGroup, notExpression, filter`);
  };
  return walk(raw, at, 0);
};

/** Every field name a filter mentions. */
export const filterFields = (f: FilterExpression | undefined): string[] => {
  if (!f) return [];
  if (f.kind === "filter") return [f.field];
  if (f.kind === "not") return filterFields(f.item);
  return f.items.flatMap(filterFields);
};
