import { describe, expect, it } from "vitest";
import { InvalidInput } from "../core/errors.js";
import { messageId, parseClientMessage } from "./protocol.js";

const query = { site: "site1", from: "2026-03-01", to: "2026-03-02", metrics: ["pageviews"], dimensions: ["date"] };

const refused = (text: string): InvalidInput => {
  try {
    parseClientMessage(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return e as InvalidInput;
  }
  throw new Error(`expected ${text} to be refused`);
};

// `peekId` became private while these tests were written; `messageId` is its exported wrapper over raw text.
describe("messageId", () => {
  const id = (raw: unknown): string | null => messageId(JSON.stringify(raw));

  it.each([["a"], ["q-1"], ["req_2.part:3"], ["A".repeat(64)], ["0"]])("reads the id %j", (value) => {
    expect(id({ id: value })).toBe(value);
    expect(id({ id: value, op: "nonsense", query: 5 })).toBe(value);
  });

  it.each([
    ["an empty id", { id: "" }],
    ["a 65-character id", { id: "A".repeat(65) }],
    ["a space", { id: "a b" }],
    ["a slash", { id: "a/b" }],
    ["a newline", { id: "abc\n" }],
    ["a quote", { id: 'a"b' }],
    ["a numeric id", { id: 12 }],
    ["no id", { op: "cancel" }],
  ])("returns null for %s", (_what, raw) => {
    expect(id(raw)).toBeNull();
  });

  it.each([["null"], ['"id"'], ["42"], ["true"], ['["q1"]']])("returns null for the non-object JSON %s", (text) => {
    expect(messageId(text)).toBeNull();
  });

  it.each([["{"], [""], ['{"id":"q1"'], ["{id:'q1'}"]])("returns null instead of throwing for invalid JSON %j", (text) => {
    expect(messageId(text)).toBeNull();
  });
});

describe("parseClientMessage", () => {
  it("parses a query and validates its spec", () => {
    expect(parseClientMessage(JSON.stringify({ op: "query", id: "q1", query }))).toEqual({
      op: "query",
      id: "q1",
      query: { site: "site1", from: "2026-03-01", to: "2026-03-02", metrics: ["pageviews"], dimensions: ["date"] },
    });
  });

  it("parses subscribe like a query, and unsubscribe like cancel", () => {
    expect(parseClientMessage(JSON.stringify({ op: "subscribe", id: "s1", query }))).toEqual({ op: "subscribe", id: "s1", query });
    expect(parseClientMessage(JSON.stringify({ op: "unsubscribe", id: "s1" }))).toEqual({ op: "unsubscribe", id: "s1" });
    expect(refused(JSON.stringify({ op: "subscribe", id: "s2", query: { ...query, filters: [] } })).code).toBe("invalid_query");
    expect(refused(JSON.stringify({ op: "subscribe", id: "s3" })).code).toBe("invalid_query");
  });

  it("fills the defaults of the spec", () => {
    const m = parseClientMessage(JSON.stringify({ op: "query", id: "q1", query: { site: "s", from: "2026-01-01", to: "2026-01-01" } }));
    expect(m.op === "query" && m.query).toEqual({ site: "s", from: "2026-01-01", to: "2026-01-01", metrics: ["pageviews", "visitors", "sessions"], dimensions: [] });
  });

  it("parses a cancel and drops anything else", () => {
    expect(parseClientMessage(JSON.stringify({ op: "cancel", id: "q1", query: "ignored" }))).toEqual({ op: "cancel", id: "q1" });
  });

  it.each([["{"], [""], ["undefined"], ["{'op':'cancel'}"], ['{"op":"cancel","id":"a"} trailing']])("refuses invalid JSON %j", (text) => {
    const e = refused(text);
    expect(e.code).toBe("invalid_json");
    expect(e.status).toBe(400);
  });

  it.each([
    ["no id", { op: "cancel" }],
    ["a bad id", { op: "cancel", id: "has space" }],
    ["a numeric id", { op: "query", id: 1, query }],
  ])("refuses a message with %s as invalid_message", (_what, msg) => {
    const e = refused(JSON.stringify(msg));
    expect(e.code).toBe("invalid_message");
    expect(e.message).toContain('"id"');
  });

  it.each([["null"], ["[]"], ['"cancel"'], ["7"]])("refuses the non-object JSON %s as invalid_message", (text) => {
    expect(refused(text).code).toBe("invalid_message");
  });

  it.each([["watch"], [undefined], ["QUERY"], [1]])("refuses op %j as invalid_message", (op) => {
    const e = refused(JSON.stringify({ op, id: "q1", query }));
    expect(e.code).toBe("invalid_message");
    expect(e.message).toContain('unknown "op"');
  });

  it("refuses a query without a valid spec as invalid_query, while its id can still be read", () => {
    const text = JSON.stringify({ op: "query", id: "q9", query: { ...query, metrics: ["bounces"] } });
    expect(refused(text).code).toBe("invalid_query");
    expect(messageId(text)).toBe("q9");
    expect(refused(JSON.stringify({ op: "query", id: "q9" })).code).toBe("invalid_query");
    expect(refused(JSON.stringify({ op: "query", id: "q9", query: { ...query, to: "2026-02-01" } })).code).toBe("invalid_query");
  });
});
