import { describe, expect, it } from "vitest";
import { WatermarkPipeline, type QueueState } from "./watermark.js";

const q = (first: number, last: number): QueueState => ({ first, last, messages: Math.max(0, last - first + 1) });
const empty = (last: number): QueueState => ({ first: last + 1, last, messages: 0 });

describe("WatermarkPipeline", () => {
  it("is the time of the observation when both queues are empty", () => {
    const p = new WatermarkPipeline();
    expect(p.watermark).toBeUndefined();
    expect(p.observe(1000, empty(10), empty(5))).toBe(1000);
    expect(p.observe(1100, empty(10), empty(5))).toBe(1100);
  });

  it("waits until the ingest batches stored before a snapshot are processed, then until their projection rows are inserted", () => {
    const p = new WatermarkPipeline();
    // At 1000 the ingest stream holds batches 8..10; nothing is complete yet.
    expect(p.observe(1000, q(8, 10), empty(20))).toBeUndefined();
    // Batches up to 10 processed (11 is new), their rows are projection messages up to 23, not inserted yet.
    expect(p.observe(1100, q(11, 11), q(21, 23))).toBeUndefined();
    // Projection messages up to 22 inserted: 23 is still out, so 1000 is not complete either.
    expect(p.observe(1200, q(11, 12), q(23, 24))).toBeUndefined();
    // 23 inserted: the snapshot of 1000 is complete. That of 1100 only now has its batches processed (rows up to 24).
    expect(p.observe(1300, q(12, 12), q(24, 24))).toBe(1000);
    // Everything inserted and batch 12 processed: the snapshots of 1100 to 1300 are complete, not that of 1400 (batch 13).
    expect(p.observe(1400, q(13, 13), empty(24))).toBe(1300);
  });

  it("counts a batch in the middle that is still unacked as unfinished", () => {
    const p = new WatermarkPipeline();
    // Batches 3 and 5..9 are acked but 4 is not: the stream's first sequence stays at 4.
    expect(p.observe(1000, { first: 4, last: 9, messages: 1 }, empty(0))).toBeUndefined();
    expect(p.observe(1100, { first: 4, last: 9, messages: 1 }, empty(0))).toBeUndefined();
    expect(p.observe(1200, empty(9), empty(0))).toBe(1200);
  });

  it("never goes back", () => {
    const p = new WatermarkPipeline();
    expect(p.observe(2000, empty(1), empty(1))).toBe(2000);
    expect(p.observe(1500, empty(1), empty(1))).toBe(2000);
  });

  it("keeps a bounded number of snapshots while the pipeline is stalled, and recovers", () => {
    const p = new WatermarkPipeline();
    for (let t = 0; t < 1000; t++) expect(p.observe(t, q(1, 1 + t), empty(0))).toBeUndefined();
    // Once everything drains, the newest snapshot still held completes; later ones come with later observations.
    const w = p.observe(5000, empty(1000), empty(0));
    expect(w).toBeDefined();
    expect(w).toBeLessThan(5000);
    expect(p.observe(5100, empty(1000), empty(0))).toBe(5100);
  });
});
