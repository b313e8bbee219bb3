/** A standard dashboard: what an analytics home page asks for, for the last 30 days. */
const last30 = [{ startDate: "29daysAgo", endDate: "today" }];

export const dashboard = (site: string): readonly { readonly name: string; readonly spec: Record<string, unknown> }[] => [
  { name: "KPIs with totals", spec: { site, dateRanges: last30, metrics: ["activeUsers", "sessions", "screenPageViews", "bounceRate", "averageSessionDuration"], metricAggregations: ["TOTAL"] } },
  { name: "visitors, sessions, views by day", spec: { site, dateRanges: last30, dimensions: ["date"], metrics: ["activeUsers", "sessions", "screenPageViews"] } },
  { name: "this 30 days vs previous, by day", spec: { site, dateRanges: [...last30, { startDate: "59daysAgo", endDate: "30daysAgo" }], dimensions: ["date"], metrics: ["sessions"] } },
  { name: "top pages", spec: { site, dateRanges: last30, dimensions: ["pagePath"], metrics: ["screenPageViews", "activeUsers"], orderBys: [{ metric: { metricName: "screenPageViews" }, desc: true }], limit: 10 } },
  { name: "top landing pages", spec: { site, dateRanges: last30, dimensions: ["landingPage"], metrics: ["sessions", "bounceRate"], orderBys: [{ metric: { metricName: "sessions" }, desc: true }], limit: 10 } },
  { name: "channels", spec: { site, dateRanges: last30, dimensions: ["sessionDefaultChannelGroup"], metrics: ["sessions", "engagementRate", "activeUsers"] } },
  { name: "sources / media", spec: { site, dateRanges: last30, dimensions: ["sessionSource", "sessionMedium"], metrics: ["sessions"], orderBys: [{ metric: { metricName: "sessions" }, desc: true }], limit: 10 } },
  { name: "countries", spec: { site, dateRanges: last30, dimensions: ["country"], metrics: ["activeUsers"], orderBys: [{ metric: { metricName: "activeUsers" }, desc: true }], limit: 10 } },
  { name: "devices", spec: { site, dateRanges: last30, dimensions: ["deviceCategory"], metrics: ["sessions", "activeUsers"] } },
  { name: "browsers", spec: { site, dateRanges: last30, dimensions: ["browser"], metrics: ["activeUsers"], orderBys: [{ metric: { metricName: "activeUsers" }, desc: true }], limit: 10 } },
  { name: "events and key events", spec: { site, dateRanges: last30, dimensions: ["eventName"], metrics: ["eventCount", "keyEvents"] } },
  { name: "realtime: last 30 minutes by minute", spec: { site, kind: "realtime", dimensions: ["minutesAgo"], metrics: ["activeUsers", "screenPageViews"] } },
];
