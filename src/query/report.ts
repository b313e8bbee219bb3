/** Reports: the spec a client sends and its compiler to SQL. The parts live in ./report/. */
export { parseReportSpec } from "./report/parse.js";
export { compileReport } from "./report/compile.js";
export type { ReportSpec } from "./report/spec.js";
export type { ReportContext } from "./report/context.js";
export type { ReportTable } from "./report/answer.js";
