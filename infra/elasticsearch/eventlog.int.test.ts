import { inject } from "vitest";
import { uniqueNamespace } from "../../test/harness/pulse.js";
import { eventLogContract } from "../eventlog/contract.js";
import { elasticsearchEventLog } from "./eventlog.js";

eventLogContract("elasticsearch", async () => elasticsearchEventLog(inject("elasticsearchUrl"), uniqueNamespace()));
