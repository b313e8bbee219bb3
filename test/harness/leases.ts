import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "../../infra/nats/streams.js";

/** Who holds each partition right now, read straight from the lease bucket: partition → worker id. */
export const leaseHolders = async (nc: NatsConnection, namespace: string): Promise<Map<number, string>> => {
  const kv = await new Kvm(nc).open(natsNames(namespace).leaseBucket);
  const out = new Map<number, string>();
  for await (const key of await kv.keys("p.*")) {
    const e = await kv.get(key);
    if (e?.operation === "PUT") out.set(Number(key.slice(2)), new TextDecoder().decode(e.value));
  }
  return out;
};

/** The worker ids of a process, as they appear in lease values. */
export const ownedBy = (holders: ReadonlyMap<number, string>, pid: number | undefined): number[] =>
  [...holders].filter(([, id]) => id.includes(`-${pid}-`)).map(([p]) => p).sort((a, b) => a - b);
