import { describe, expect, it } from "vitest";
import { parseRebuildArgs } from "./args.js";
import { dryRunReport } from "./dry-run.js";
import { estimate, progressLine } from "./progress.js";

describe("pulse rebuild arguments", () => {
  it("reads every option, both spellings, and takes the configured log by default", () => {
    expect(parseRebuildArgs(["--site", "a.example", "--from=2026-11-01", "--to", "2026-11-02", "--session-timeout", "45m", "--dry-run"], "jetstream")).toEqual({
      kind: "rebuild",
      args: { site: "a.example", fromTs: Date.UTC(2026, 10, 1), toTs: Date.UTC(2026, 10, 3), sessionTimeoutMs: 2_700_000, source: "jetstream", dryRun: true },
    });
    expect(parseRebuildArgs(["--source", "es", "--to", "2026-11-02T10:00:00Z"], "jetstream")).toMatchObject({ args: { source: "elasticsearch", toTs: Date.UTC(2026, 10, 2, 10), fromTs: undefined } });
    expect(parseRebuildArgs([], "elasticsearch")).toMatchObject({ args: { source: "elasticsearch", site: undefined, sessionTimeoutMs: undefined, dryRun: false } });
    expect(parseRebuildArgs(["--rollback"], "jetstream")).toEqual({ kind: "rollback" });
    expect(parseRebuildArgs(["--site", "x", "--help"], "jetstream")).toEqual({ kind: "help" });
  });

  it.each([
    [["--bogus"], /unknown option "--bogus"/],
    [["--site"], /--site needs a value/],
    [["--site", "--dry-run"], /--site needs a value/],
    [["--site", "a", "--site", "b"], /given twice/],
    [["--from", "yesterday"], /--from takes a date/],
    [["--from", "2026-11-05", "--to", "2026-11-01"], /must come before/],
    [["--session-timeout", "soon"], /--session-timeout must look like/],
    [["--session-timeout", "10ms"], /at least 1s/],
    [["--source", "kafka"], /--source takes es or jetstream/],
    [["--rollback", "--site", "a"], /--rollback takes no other option/],
  ])("refuses %j with a clear reason", (argv, reason) => {
    expect(() => parseRebuildArgs(argv, "jetstream")).toThrow(reason);
  });
});

describe("rebuild progress", () => {
  it("draws a bar with count, rate and remaining time", () => {
    const { rate, etaSeconds } = estimate(0, 0.25, 500_000, 2_000);
    expect(rate).toBe(250_000);
    expect(etaSeconds).toBe(6);
    expect(progressLine({ type: "progress", phase: "building", done: 0.25, events: 500_000, rate, etaSeconds }, 8)).toBe("[##......]  25% 500,000 events  250,000 ev/s  eta 6s  building");
  });

  it("estimates a resumed run from what it did itself", () => {
    expect(estimate(0.5, 0.75, 100, 1_000).etaSeconds).toBe(1);
    expect(estimate(0.5, 0.5, 0, 1_000).etaSeconds).toBeUndefined();
  });
});

describe("dry-run report", () => {
  it("says per site how sessions, users and bounce rate would change", () => {
    const now = [{ site: "a", sessions: 200, users: 50, engaged: 150, events: 0 }];
    const after = [
      { site: "a", sessions: 180, users: 50, engaged: 144, events: 900 },
      { site: "b", sessions: 3, users: 2, engaged: 0, events: 3 },
    ];
    expect(dryRunReport(now, after, 2).split("\n")).toEqual([
      "dry run: nothing was written; counts of version 2 (now) and of the rebuild (after), bots left out",
      "a: sessions 200 -> 180 (-10.0%); users 50 -> 50; bounce rate 25.0% -> 20.0%",
      "b: sessions 0 -> 3; users 0 -> 2; bounce rate - -> 100.0%",
    ]);
  });
});
