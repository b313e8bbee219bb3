import type { QueryParams } from "../../../infra/clickhouse/store.js";

/** Bound parameters of one query: every value a client sent goes here, never into the SQL text. */
export class Params {
  readonly values: Record<string, string | number | readonly string[]> = {};
  private n = 0;

  /** A fixed name, e.g. `site`; the SQL refers to it as `{site:String}`. */
  set(name: string, value: string | number | readonly string[]): void {
    this.values[name] = value;
  }

  /** A fresh parameter; returns its reference, e.g. `{p3:String}`. */
  bind(type: "String" | "Float64" | "Int64" | "UInt64" | "Array(String)", value: string | number | readonly string[]): string {
    const name = `p${this.n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }

  get all(): QueryParams {
    return this.values;
  }
}
