import { beforeAll, describe, expect, it } from "vitest";
import { GEO_ATTRIBUTION, openGeo, type GeoLookup } from "./geo.js";

let geo: GeoLookup;
beforeAll(async () => {
  geo = await openGeo();
});

// A deterministic spread of addresses over the whole space.
const addresses = (n: number, seed: number): { v4: string[]; v6: string[] } => {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s ^ (s >>> 15)) >>> 0;
  };
  const hex = (): string => (next() & 0xffff).toString(16);
  const v4 = Array.from({ length: n }, () => {
    const x = next();
    return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
  });
  const v6 = Array.from({ length: n }, () => `2${(next() % 0x1000).toString(16).padStart(3, "0")}:${hex()}:${hex()}:${hex()}::${hex()}`);
  return { v4, v6 };
};

describe("openGeo", () => {
  // Well-known addresses whose country has long been stable, checked against the shipped DB-IP data.
  it.each([
    ["8.8.8.8", "US", "California", "Mountain View"], // Google Public DNS
    ["1.1.1.1", "AU", "New South Wales", "Sydney"], // Cloudflare / APNIC
    ["81.2.69.142", "GB", "England", "London"], // MaxMind's own test address
    ["193.0.6.139", "NL", "North Holland", "Amsterdam"], // RIPE NCC (ripe.net); DB-IP says "Amsterdam (Amsterdam-Centrum)"
    ["77.88.55.242", "RU", "Moscow", "Moscow"], // Yandex
    ["133.242.0.3", "JP", "Tokyo", "Chiyoda City"], // SAKURA Internet
  ])("%s is in %s", (ip, country, region, city) => {
    expect(geo.lookup(ip)).toEqual({ country, region, city });
  });

  it.each([
    ["2620:fe::fe", "US"], // Quad9
    ["2001:67c:2e8:22::c100:68b", "NL"], // RIPE NCC (www.ripe.net)
    ["2a00:1450:4001:80b::200e", "DE"], // Google, Frankfurt
  ])("IPv6 %s is in %s", (ip, country) => {
    expect(geo.lookup(ip).country).toBe(country);
  });

  it("locates Google Public DNS over IPv6 (DB-IP Lite places 2001:4860:4860::8888 in Montreal, CA, not the US)", () => {
    const where = geo.lookup("2001:4860:4860::8888");
    expect(where.country).toMatch(/^[A-Z]{2}$/);
    expect(where.city).not.toBe("");
  });

  it("reads IPv4-mapped IPv6 (dual-stack sockets), brackets and zone ids", () => {
    expect(geo.lookup("::ffff:8.8.8.8").country).toBe("US");
    expect(geo.lookup("::FFFF:8.8.8.8").country).toBe("US");
    expect(geo.lookup("[2620:fe::fe]").country).toBe("US");
    expect(geo.lookup(" 8.8.8.8 ").country).toBe("US");
  });

  it.each([
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.10",
    "127.0.0.1",
    "0.0.0.0",
    "169.254.10.20",
    "100.64.0.1", // carrier-grade NAT
    "192.0.2.1", // documentation
    "198.51.100.7",
    "203.0.113.7",
    "198.18.0.1", // benchmarking
    "224.0.0.251", // multicast
    "255.255.255.255",
    "::ffff:192.168.1.1",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fd12:3456:789a::1", // unique local
    "ff02::1", // multicast
    "2001:db8::1", // documentation
  ])("private or reserved %s is unknown", (ip) => {
    expect(geo.lookup(ip)).toEqual({ country: "", region: "", city: "" });
  });

  it.each(["", "not-an-ip", "999.1.1.1", "1.2.3", "8.8.8.8.8", "2001:::1", "::ffff:999.1.1.1"])("malformed %j is unknown", (ip) => {
    expect(geo.lookup(ip)).toEqual({ country: "", region: "", city: "" });
  });

  it("keeps public neighbours of private ranges", () => {
    expect(geo.lookup("172.32.0.1").country).not.toBe("");
    expect(geo.lookup("100.128.0.1").country).not.toBe("");
  });

  it("gives the same answers with and without its caches", async () => {
    const plain = await openGeo({ cacheSize: 0, addressCacheSize: 0 });
    const small = await openGeo({ cacheSize: 64, addressCacheSize: 16 });
    const { v4, v6 } = addresses(3000, 42);
    const all = [...v4, ...v6];
    // Twice, so the second pass is answered from the (constantly turning over) caches.
    for (const pass of [1, 2]) {
      for (const ip of all) {
        const expected = plain.lookup(ip);
        expect(geo.lookup(ip), `${ip}, pass ${pass}`).toEqual(expected);
        expect(small.lookup(ip), `${ip}, pass ${pass}`).toEqual(expected);
      }
    }
    // Most of the public address space is located.
    expect(v4.filter((ip) => geo.lookup(ip).country !== "").length).toBeGreaterThan(2000);
    expect(v6.filter((ip) => geo.lookup(ip).country !== "").length).toBeGreaterThan(2000);
  });

  it("strips DB-IP's district from the city name", () => {
    const cities = addresses(3000, 7).v4.map((ip) => geo.lookup(ip).city);
    expect(cities.some((c) => c.endsWith(")"))).toBe(false);
  });

  it("says when its data was built and how to credit it", () => {
    expect(geo.builtAt.getUTCFullYear()).toBeGreaterThanOrEqual(2024);
    expect(GEO_ATTRIBUTION.html).toContain("https://db-ip.com");
  });
});
