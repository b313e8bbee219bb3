import { afterAll, beforeAll, expect, it } from "vitest";
import { sessionize } from "../../actors/session/reducer.js";
import { eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";

// A visitor's actor keeps its sessions of the last 24 hours; events from before that (a retried old
// request, a very late event) are placed from the log instead, as a rebuild would place them.
let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream" });
});
afterAll(() => pulse?.dispose());

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const page = (id: string, minute: number) => ({ id, visitor: "old-v", name: "pageview", url: `https://a.example/${id}`, ts: T0 + minute * MIN });

interface Row {
  session_id: string;
  start: string;
  events: number;
  pageviews: number;
}

it("a retried request and a late event from before the visitor's last day join their old session, not a new one", async () => {
  const store = pulse.store;
  if (!store) throw new Error("the test process owns the store");
  const sessions = () =>
    store.query<Row>(`SELECT session_id, toString(start) AS start, events, pageviews FROM ${store.database}.sessions FINAL WHERE site = 'site-a' AND visitor_id = 'old-v' ORDER BY start`, {});
  const send = async (events: readonly ReturnType<typeof page>[]): Promise<void> => {
    expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events })).status).toBe(202);
  };
  const old = [page("a1", 0), page("a2", 5)];
  await send(old);
  // Two days later: the morning's session is now beyond what the actor keeps.
  const later = [page("b1", 48 * 60), page("b2", 48 * 60 + 3)];
  await send(later);
  await eventually(sessions, (r) => r.length === 2, 20_000);

  // The tracker retries the old request: the old session keeps both its events.
  await send(old);
  // A late event of the old session, within the timeout of its end.
  const late = page("a3", 20);
  await send([late]);
  const expected = sessionize([...old, late, ...later].map((e, i) => ({ ...e, site: "site-a", seq: i + 1, receivedAt: 0, referrer: "", props: {} })), { timeoutMs: 30 * MIN, retainMs: Number.POSITIVE_INFINITY });
  const rows = await eventually(sessions, (r) => r.length === 2 && r[0]?.events === 3, 20_000);
  expect(rows.map((r) => [r.session_id, r.events, r.pageviews])).toEqual(expected.map((s) => [s.id, s.events, s.pageviews]));
  const [count] = await store.query<{ n: string }>(`SELECT toString(count()) AS n FROM ${store.database}.events FINAL WHERE site = 'site-a' AND visitor_id = 'old-v'`, {});
  expect(count?.n).toBe("5");
});
