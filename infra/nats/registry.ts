import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A site as the registry keeps it. Secrets are stored hashed and shown once, when made. */
export interface SiteRecord {
  readonly id: string;
  /** Hostnames events may come from; empty: any. */
  readonly hostnames: readonly string[];
  readonly timezone: string;
  readonly sessionTimeoutMs: number;
  /** GA4 measurement id that writes to this site, if any. */
  readonly measurementId: string;
  /** sha256 of the GA4 api_secret (the ingest secret). */
  readonly ingestSecretHash: string;
  readonly created: string;
}

export interface TokenRecord {
  readonly id: string;
  readonly hash: string;
  readonly sites: readonly string[];
  readonly created: string;
  readonly revoked: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

const sameHash = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Sites, query tokens and the daily visitor-id salts, in one NATS KV bucket, watched so that
 * every process sees changes within moments. Keys: `site.<id>`, `token.<id>`, `salt.<yyyy-mm-dd>`.
 */
export class SiteRegistry {
  private readonly sites = new Map<string, SiteRecord>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly salts = new Map<string, string>();
  private stopWatch: (() => void) | undefined;
  private byMeasurementId = new Map<string, SiteRecord>();
  private sitesVersion = 0;
  private indexedVersion = -1;

  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string): Promise<SiteRegistry> {
    const registry = new SiteRegistry(await new Kvm(nc).create(bucket, { history: 1 }));
    await registry.watch();
    return registry;
  }

  private async watch(): Promise<void> {
    const iter = await this.kv.watch({ key: ">" });
    let ready!: () => void;
    const initial = new Promise<void>((r) => (ready = r));
    this.stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        const [kind, ...rest] = e.key.split(".");
        const id = rest.join(".");
        const gone = e.operation !== "PUT";
        const table = kind === "site" ? this.sites : kind === "token" ? this.tokens : kind === "salt" ? this.salts : undefined;
        if (kind === "site") this.sitesVersion++;
        if (table && gone) table.delete(id);
        else if (kind === "site") this.sites.set(id, e.json<SiteRecord>());
        else if (kind === "token") this.tokens.set(id, e.json<TokenRecord>());
        else if (kind === "salt") this.salts.set(id, decoder.decode(e.value));
        if (e.delta === 0) ready();
      }
    })();
    // An empty bucket has nothing to replay; the first look is then complete at once.
    const status = await this.kv.status();
    if (status.values === 0) ready();
    await initial;
  }

  close(): void {
    this.stopWatch?.();
  }

  site(id: string): SiteRecord | undefined {
    return this.sites.get(id);
  }

  list(): SiteRecord[] {
    return [...this.sites.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The site a GA4 measurement id writes to, if its api_secret matches. */
  siteForGa4(measurementId: string, apiSecret: string): SiteRecord | undefined {
    const s = this.siteForMeasurementId(measurementId);
    return s && sameHash(s.ingestSecretHash, sha256(apiSecret)) ? s : undefined;
  }

  siteForMeasurementId(measurementId: string): SiteRecord | undefined {
    // Asked on every GA4 and gtag request: an index, rebuilt only after the sites change.
    if (this.sitesVersion !== this.indexedVersion) {
      this.byMeasurementId = new Map([...this.sites.values()].filter((x) => x.measurementId).map((x) => [x.measurementId, x]));
      this.indexedVersion = this.sitesVersion;
    }
    return this.byMeasurementId.get(measurementId);
  }

  /** Creates a site and returns its ingest secret, which is not kept in clear anywhere. */
  async addSite(input: Omit<SiteRecord, "ingestSecretHash" | "created">): Promise<{ site: SiteRecord; ingestSecret: string }> {
    const ingestSecret = randomBytes(18).toString("base64url");
    const site: SiteRecord = { ...input, ingestSecretHash: sha256(ingestSecret), created: new Date().toISOString() };
    await this.kv.create(`site.${site.id}`, encoder.encode(JSON.stringify(site)));
    this.sitesVersion++;
    this.sites.set(site.id, site);
    return { site, ingestSecret };
  }

  /** Registers a site without a secret of our choosing, e.g. from configuration; leaves an existing one alone. */
  async ensureSite(site: SiteRecord): Promise<void> {
    if (this.sites.has(site.id)) return;
    await this.kv.create(`site.${site.id}`, encoder.encode(JSON.stringify(site))).catch(() => undefined);
    this.sitesVersion++;
    this.sites.set(site.id, this.sites.get(site.id) ?? site);
  }

  async rotateSecret(id: string): Promise<string> {
    const site = this.sites.get(id);
    if (!site) throw new Error(`no site "${id}"`);
    const ingestSecret = randomBytes(18).toString("base64url");
    const next = { ...site, ingestSecretHash: sha256(ingestSecret) };
    await this.kv.put(`site.${id}`, encoder.encode(JSON.stringify(next)));
    this.sitesVersion++;
    this.sites.set(id, next);
    return ingestSecret;
  }

  /** A new session timeout for a site; workers read it per site, so it applies to the next events. */
  async setSessionTimeout(id: string, sessionTimeoutMs: number): Promise<void> {
    const site = this.sites.get(id);
    if (!site) return;
    const next = { ...site, sessionTimeoutMs };
    await this.kv.put(`site.${id}`, encoder.encode(JSON.stringify(next)));
    this.sitesVersion++;
    this.sites.set(id, next);
  }

  async removeSite(id: string): Promise<boolean> {
    if (!this.sites.has(id)) return false;
    await this.kv.delete(`site.${id}`);
    this.sitesVersion++;
    this.sites.delete(id);
    return true;
  }

  /** A query token for some sites: `pq_<id>_<secret>`, shown once; only its hash is kept. */
  async createToken(sites: readonly string[]): Promise<{ token: string; record: TokenRecord }> {
    for (const s of sites) if (!this.sites.has(s)) throw new Error(`no site "${s}"`);
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(24).toString("base64url");
    const record: TokenRecord = { id, hash: sha256(secret), sites: [...sites], created: new Date().toISOString(), revoked: false };
    await this.kv.create(`token.${id}`, encoder.encode(JSON.stringify(record)));
    this.tokens.set(id, record);
    return { token: `pq_${id}_${secret}`, record };
  }

  async revokeToken(id: string): Promise<boolean> {
    const t = this.tokens.get(id);
    if (!t) return false;
    const next = { ...t, revoked: true };
    await this.kv.put(`token.${id}`, encoder.encode(JSON.stringify(next)));
    this.tokens.set(id, next);
    return true;
  }

  listTokens(): TokenRecord[] {
    return [...this.tokens.values()];
  }

  /** The sites a token may read, or undefined when the token is unknown, malformed or revoked. */
  tokenSites(token: string): readonly string[] | undefined {
    const m = /^pq_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(token);
    if (!m) return undefined;
    const t = this.tokens.get(m[1] as string);
    if (!t || t.revoked || !sameHash(t.hash, sha256(m[2] as string))) return undefined;
    return t.sites;
  }

  /**
   * The salt of derived visitor ids for a UTC day: made by whichever process needs it first, the
   * same for all. Salts older than yesterday are deleted, so none is kept longer than 48 hours.
   */
  async salt(day: string): Promise<string> {
    const known = this.salts.get(day);
    if (known) return known;
    const made = randomBytes(16).toString("hex");
    await this.kv.create(`salt.${day}`, encoder.encode(made)).catch(() => undefined);
    const stored = await this.kv.get(`salt.${day}`);
    const salt = stored ? decoder.decode(stored.value) : made;
    this.salts.set(day, salt);
    const yesterday = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    for (const old of [...this.salts.keys()].filter((d) => d < yesterday)) {
      this.salts.delete(old);
      await this.kv.purge(`salt.${old}`).catch(() => undefined);
    }
    return salt;
  }
}
