import { afterAll, beforeAll, it } from "vitest";
import { startTestPulse, type TestPulse } from "../harness/pulse.js";
import { runIngestScenario } from "./scenario.js";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "elasticsearch" });
});
afterAll(() => pulse?.dispose());

it("counts 1,000 events from 100 visitors exactly, with the Elasticsearch event log", () => runIngestScenario(pulse), 120_000);
