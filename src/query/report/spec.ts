/**
 * Report requests after validation. Field names are still the client's (a dimension may be
 * asked for by its GA4 name or its short name); the catalogue in fields.ts resolves them.
 */

export type StringMatch = "EXACT" | "BEGINS_WITH" | "ENDS_WITH" | "CONTAINS" | "FULL_REGEXP" | "PARTIAL_REGEXP";
export type NumericOperation = "EQUAL" | "LESS_THAN" | "LESS_THAN_OR_EQUAL" | "GREATER_THAN" | "GREATER_THAN_OR_EQUAL";

/** What one filter checks about one field. */
export type FieldTest =
  | { readonly kind: "string"; readonly matchType: StringMatch; readonly value: string; readonly caseSensitive: boolean }
  | { readonly kind: "inList"; readonly values: readonly string[]; readonly caseSensitive: boolean }
  | { readonly kind: "numeric"; readonly operation: NumericOperation; readonly value: number }
  | { readonly kind: "between"; readonly from: number; readonly to: number }
  | { readonly kind: "empty" };

/** GA4's FilterExpression: andGroup, orGroup, notExpression, filter. */
export type FilterExpression =
  | { readonly kind: "and" | "or"; readonly items: readonly FilterExpression[] }
  | { readonly kind: "not"; readonly item: FilterExpression }
  | { readonly kind: "filter"; readonly field: string; readonly test: FieldTest };

/** A day (YYYY-MM-DD) or GA4's relative days: today, yesterday, NdaysAgo; resolved in the site's time zone. */
export interface DateRange {
  readonly startDate: string;
  readonly endDate: string;
  readonly name: string;
}

export type OrderBy =
  | { readonly kind: "metric"; readonly name: string; readonly desc: boolean }
  | { readonly kind: "dimension"; readonly name: string; readonly desc: boolean; readonly orderType: "ALPHANUMERIC" | "CASE_INSENSITIVE_ALPHANUMERIC" | "NUMERIC" };

/** What runReport and runRealtimeReport share. */
interface TableSpec {
  readonly site: string;
  readonly dimensions: readonly string[];
  readonly metrics: readonly string[];
  readonly dimensionFilter: FilterExpression | undefined;
  readonly metricFilter: FilterExpression | undefined;
  readonly orderBys: readonly OrderBy[];
  readonly limit: number;
  readonly offset: number;
  /** metricAggregations: ["TOTAL"]. */
  readonly totals: boolean;
  readonly keepEmptyRows: boolean;
}

/** GA4's runReport. */
export interface RunReportSpec extends TableSpec {
  readonly kind: "report";
  readonly dateRanges: readonly DateRange[];
}

/** GA4's runRealtimeReport: the last minutes, by event time. */
export interface RealtimeSpec extends TableSpec {
  readonly kind: "realtime";
  readonly minuteRanges: readonly { readonly name: string; readonly startMinutesAgo: number; readonly endMinutesAgo: number }[];
}

/** Ordered steps; a visitor (or session) reaches step N when it did steps 1..N in order within the window. */
export interface FunnelSpec {
  readonly kind: "funnel";
  readonly site: string;
  readonly dateRange: DateRange;
  readonly steps: readonly { readonly name: string; readonly filter: FilterExpression }[];
  readonly scope: "visitor" | "session";
  readonly windowMinutes: number;
  readonly dimensionFilter: FilterExpression | undefined;
}

/** Weekly cohorts by first visit, and the share of each that came back in week N. */
export interface RetentionSpec {
  readonly kind: "retention";
  readonly site: string;
  readonly dateRange: DateRange;
  readonly weeks: number;
}

/** The first spec: `{site, from, to, metrics: [pageviews|visitors|sessions], dimensions: [date]}`, UTC days. */
export interface LegacySpec {
  readonly site: string;
  readonly from: string;
  readonly to: string;
  readonly metrics: readonly ("pageviews" | "visitors" | "sessions")[];
  readonly dimensions: readonly "date"[];
}

export type ReportSpec = LegacySpec | RunReportSpec | RealtimeSpec | FunnelSpec | RetentionSpec;
