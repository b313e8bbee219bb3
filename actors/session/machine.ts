import { assign, createActor, setup, type ActorRefFrom } from "xstate";
import type { PulseEvent } from "../../src/core/event.js";
import { emptyVisitor, ingest, type IngestResult, type SessionRules, type VisitorState } from "./reducer.js";

interface VisitorContext {
  readonly rules: SessionRules;
  readonly state: VisitorState;
  readonly last: IngestResult | undefined;
}

type VisitorEvent = { type: "hydrate"; events: readonly PulseEvent[] } | { type: "ingest"; events: readonly PulseEvent[] };

/**
 * One live visitor. The machine owns the lifecycle; the session rules live in
 * the pure reducer, which it calls once per slice of a batch, not once per event.
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
    // A new actor first replays what the log already holds for the visitor, so a restart does not split sessions.
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
      },
    },
  },
});

export type VisitorActor = ActorRefFrom<typeof visitorMachine>;

export const spawnVisitor = (rules: SessionRules): VisitorActor => createActor(visitorMachine, { input: { rules } }).start();

/** Sends a slice and returns what the reducer made of it. xstate processes `send` synchronously. */
export const ingestSlice = (actor: VisitorActor, events: readonly PulseEvent[]): IngestResult => {
  actor.send({ type: "ingest", events });
  const { last } = actor.getSnapshot().context;
  if (!last) throw new Error("visitor actor is not hydrated");
  return last;
};
