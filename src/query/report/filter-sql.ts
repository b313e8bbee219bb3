import type { Params } from "./params.js";
import type { FieldTest, FilterExpression } from "./spec.js";

/**
 * A filter as a SQL condition. `field` gives the SQL expression of a field name (from the
 * catalogue, or a metric's column) and whether it is a number; values are bound parameters.
 */
export type FieldSql = (name: string) => { readonly sql: string; readonly numeric: boolean };

const OPS = { EQUAL: "=", LESS_THAN: "<", LESS_THAN_OR_EQUAL: "<=", GREATER_THAN: ">", GREATER_THAN_OR_EQUAL: ">=" } as const;

const test = (col: string, numeric: boolean, t: FieldTest, p: Params): string => {
  const num = numeric ? col : `toFloat64OrNull(${col})`;
  const str = numeric ? `toString(${col})` : col;
  switch (t.kind) {
    case "numeric":
      return `${num} ${OPS[t.operation]} ${p.bind("Float64", t.value)}`;
    case "between":
      return `${num} BETWEEN ${p.bind("Float64", t.from)} AND ${p.bind("Float64", t.to)}`;
    case "empty":
      return numeric ? `${col} = 0` : `${col} = ''`;
    case "inList":
      return t.caseSensitive
        ? `has(${p.bind("Array(String)", t.values)}, ${str})`
        : `has(arrayMap(x -> lowerUTF8(x), ${p.bind("Array(String)", t.values)}), lowerUTF8(${str}))`;
    case "string": {
      const [c, v] = t.caseSensitive ? [str, p.bind("String", t.value)] : [`lowerUTF8(${str})`, `lowerUTF8(${p.bind("String", t.value)})`];
      const flags = t.caseSensitive ? "" : "(?i)";
      switch (t.matchType) {
        case "EXACT":
          return `${c} = ${v}`;
        case "BEGINS_WITH":
          return `startsWith(${c}, ${v})`;
        case "ENDS_WITH":
          return `endsWith(${c}, ${v})`;
        case "CONTAINS":
          return `position(${c}, ${v}) > 0`;
        // The whole pattern is one bound value; the anchors are added here, around it, not spliced into SQL.
        case "FULL_REGEXP":
          return `match(${str}, ${p.bind("String", `${flags}^(?:${t.value})$`)})`;
        case "PARTIAL_REGEXP":
          return `match(${str}, ${p.bind("String", `${flags}${t.value}`)})`;
      }
    }
  }
};

export const filterSql = (f: FilterExpression, field: FieldSql, p: Params): string => {
  switch (f.kind) {
    case "and":
    case "or":
      return `(${f.items.map((x) => filterSql(x, field, p)).join(f.kind === "and" ? " AND " : " OR ")})`;
    case "not":
      return `NOT (${filterSql(f.item, field, p)})`;
    case "filter": {
      const { sql, numeric } = field(f.field);
      return `(${test(sql, numeric, f.test, p)})`;
    }
  }
};
