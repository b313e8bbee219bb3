import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { inject } from "vitest";
import { uniqueNamespace } from "../../test/harness/pulse.js";
import { eventLogContract } from "../eventlog/contract.js";
import { jetstreamEventLog } from "./eventlog.js";
import { natsNames } from "./streams.js";

eventLogContract("jetstream", async () => {
  const nc = await connect({ servers: inject("natsUrl") });
  const log = jetstreamEventLog(jetstream(nc), await jetstreamManager(nc), natsNames(uniqueNamespace()), 60_000);
  return { ...log, close: async () => nc.close() };
});
