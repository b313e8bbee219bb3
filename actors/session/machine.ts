import { assign, createActor, setup, type ActorRefFrom } from "xstate";
import type { PulseEvent } from "../../src/core/event.js";
import { emptyVisitor, ingest, type IngestResult, type SessionRules, type VisitorState } from "./reducer.js";

interface VisitorContext {
  readonly rules: SessionRules;
  readonly state: VisitorState;
  /** The result of the slice being handled, cleared once the worker has read it. */
  readonly last: IngestResult | undefined;
}

type VisitorEvent =
  | { type: "hydrate"; events: readonly PulseEvent[] }
  | { type: "ingest"; events: readonly PulseEvent[] }
  | { type: "settled" }
  | { type: "passivate" };

/**
 * One live visitor: hydrating → active → passivated. The machine owns the lifecycle; the
 * session rules live in the pure reducer, which it calls once per slice of a batch, not
 * once per event. A passivated visitor leaves only its recent events behind, from which
 * the same state is rebuilt when it comes back.
 */
export const visitorMachine = setup({
  types: {
    context: {} as VisitorContext,
    events: {} as VisitorEvent,
    input: {} as { rules: SessionRules },
  },
}).createMachine({
  id: "visitor",
  context: ({ input }) => ({ rules: input.rules, state: emptyVisitor, last: undefined }),
  initial: "hydrating",
  states: {
    // A new actor first replays what the log (or its snapshot) holds, so a restart, a takeover
    // or a passivation does not split sessions.
    hydrating: {
      on: {
        hydrate: {
          target: "active",
          actions: assign(({ context, event }) => ({ state: ingest(context.state, event.events, context.rules).state })),
        },
      },
    },
    active: {
      on: {
        ingest: {
          actions: assign(({ context, event }) => {
            const last = ingest(context.state, event.events, context.rules);
            return { state: last.state, last };
          }),
        },
        settled: { actions: assign({ last: undefined }) },
        passivate: { target: "passivated" },
      },
    },
    passivated: { type: "final" },
  },
});

export type VisitorActor = ActorRefFrom<typeof visitorMachine>;

export const spawnVisitor = (rules: SessionRules, history: readonly PulseEvent[]): VisitorActor => {
  const actor = createActor(visitorMachine, { input: { rules } }).start();
  actor.send({ type: "hydrate", events: history });
  return actor;
};

/** Sends a slice and returns what the reducer made of it. xstate processes `send` synchronously. */
export const ingestSlice = (actor: VisitorActor, events: readonly PulseEvent[]): IngestResult => {
  actor.send({ type: "ingest", events });
  const { last } = actor.getSnapshot().context;
  if (!last) throw new Error("visitor actor is not active");
  actor.send({ type: "settled" });
  return last;
};

/** Stops the actor and returns what it takes to bring it back: its retained events, in log order. */
export const passivate = (actor: VisitorActor): readonly PulseEvent[] => {
  const { events } = actor.getSnapshot().context.state;
  actor.send({ type: "passivate" });
  actor.stop();
  return events;
};
