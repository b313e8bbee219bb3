/**
 * Tests share a busy machine, where the edge's load shedding (event-loop delay, backlog age, memory)
 * would refuse requests that the tests expect to be taken; test/e2e/overload.e2e.test.ts turns it on.
 */
export const NO_SHEDDING = { PULSE_MAX_LOOP_DELAY: "0", PULSE_MAX_INGEST_AGE: "0", PULSE_MAX_MEMORY_MB: "0" } as const;
