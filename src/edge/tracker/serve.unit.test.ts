import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import uWS from "uWebSockets.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptsGzip, etagMatches, handleTrackerScript, trackerScript } from "./serve.js";

const SOURCE = readFileSync(new URL("./pulse.js", import.meta.url));

describe("trackerScript", () => {
  it("holds pulse.js, its gzip (under 2 kB) and a weak ETag", () => {
    const s = trackerScript();
    expect(s.body.equals(SOURCE)).toBe(true);
    expect(gunzipSync(s.gzipped).equals(SOURCE)).toBe(true);
    expect(s.gzipped.length).toBeLessThan(2048);
    expect(s.etag).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);
    expect(trackerScript()).toBe(s);
  });
});

describe("acceptsGzip", () => {
  it.each([
    ["", false],
    ["gzip", true],
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.5", true],
    ["GZIP", true],
    ["x-gzip", true],
    ["gzip;q=0", false],
    ["gzip; q=0.0", false],
    ["identity", false],
    ["deflate, br", false],
    ["*", true],
    ["*;q=0", false],
    ["gzip;q=0, *", false],
  ])("%j -> %s", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe("etagMatches", () => {
  const tag = `W/"abc"`;
  it.each([
    ["", false],
    [`W/"abc"`, true],
    [`"abc"`, true],
    [`"x", W/"abc"`, true],
    ["*", true],
    [`"abcd"`, false],
    [`W/"ab"`, false],
  ])("%j -> %s", (header, expected) => {
    expect(etagMatches(header, tag)).toBe(expected);
  });
});

describe("handleTrackerScript on a uWS app", () => {
  let listen: uWS.us_listen_socket | undefined;
  let base = "";
  beforeAll(async () => {
    const handler = handleTrackerScript();
    const app = uWS.App().get("/pulse.js", handler);
    await new Promise<void>((resolve, reject) =>
      app.listen("127.0.0.1", 0, (token) => {
        if (!token) return reject(new Error("cannot listen"));
        listen = token;
        base = `http://127.0.0.1:${uWS.us_socket_local_port(token)}`;
        resolve();
      }),
    );
  });
  afterAll(() => {
    if (listen) uWS.us_listen_socket_close(listen);
  });

  it("answers GET with the script and its headers, gzip by negotiation", async () => {
    const plain = await fetch(`${base}/pulse.js`, { headers: { "accept-encoding": "identity" } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(plain.headers.get("access-control-allow-origin")).toBe("*");
    expect(plain.headers.get("etag")).toBe(trackerScript().etag);
    expect(Buffer.from(await plain.arrayBuffer()).equals(SOURCE)).toBe(true);
    // fetch asks for gzip by default and inflates the body itself.
    const zipped = await fetch(`${base}/pulse.js`);
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(await zipped.arrayBuffer()).equals(SOURCE)).toBe(true);
  });

  it("answers 304 without a body when the ETag matches", async () => {
    const res = await fetch(`${base}/pulse.js`, { headers: { "if-none-match": trackerScript().etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe(trackerScript().etag);
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(await res.text()).toBe("");
  });
});
