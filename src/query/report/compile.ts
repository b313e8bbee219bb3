import { funnelAnswer, legacyAnswer, retentionAnswer, tableAnswer, type Fetch, type ReportTable } from "./answer.js";
import { compileFunnel, type CompiledFunnel } from "./compile-funnel.js";
import { compileRetention, type CompiledRetention } from "./compile-retention.js";
import { compileTable, type CompiledTable } from "./compile-table.js";
import { fromLegacy } from "./legacy.js";
import type { ReportContext } from "./context.js";
import type { ReportSpec } from "./spec.js";

export type Compiled = CompiledTable | CompiledFunnel | CompiledRetention;

/** A compiled report: its SQL, and how to make the answer from what that SQL returns. */
export interface CompiledReport {
  readonly compiled: Compiled;
  answer(fetch: Fetch): Promise<ReportTable>;
}

/**
 * Compiles any report spec to bound SQL. Pure: the site's settings and the clock come in `ctx`,
 * and the only effect, running the SQL, is the `fetch` handed to `answer`.
 */
export const compileReport = (spec: ReportSpec, ctx: ReportContext): CompiledReport => {
  if (!("kind" in spec)) {
    // The first spec's days are UTC days, whatever the site's zone.
    const compiled = compileTable(fromLegacy(spec), { ...ctx, timezone: "UTC" });
    return { compiled, answer: async (fetch) => legacyAnswer(spec, await tableAnswer(compiled, fetch)) };
  }
  switch (spec.kind) {
    case "report":
    case "realtime": {
      const compiled = compileTable(spec, ctx);
      return { compiled, answer: (fetch) => tableAnswer(compiled, fetch) };
    }
    case "funnel": {
      const compiled = compileFunnel(spec, ctx);
      return { compiled, answer: (fetch) => funnelAnswer(compiled, fetch) };
    }
    case "retention": {
      const compiled = compileRetention(spec, ctx);
      return { compiled, answer: (fetch) => retentionAnswer(compiled, fetch) };
    }
  }
};
