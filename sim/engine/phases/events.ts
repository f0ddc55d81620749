/**
 * The events the engine reads, decoded once per log and by argument name: each event's fields are
 * listed by the names its ABI gives them, and the decoder checks at construction that the ABI still
 * has every one of them (a renamed argument fails the run's start, not its numbers).
 */
import type { EventFragment, Interface, Result } from "ethers";
import type { RpcLog } from "../chain";
import type { World } from "../world";

/** The arguments the engine uses of each event it reads, by ABI name. */
export interface EventArgs {
  Kick: { id: bigint; account: string; key: string; lot: bigint; tabWad: bigint; penaltyWad: bigint };
  Take: { id: bigint; amount: bigint; priceWad: bigint; owedWad: bigint };
  Redo: { id: bigint; rewardWad: bigint };
  Backstop: { id: bigint; account: string; lot: bigint };
  AuctionEnded: { id: bigint; account: string };
  InstantLiquidation: { account: string; marketId: string; slice: bigint; priceWad: bigint; bonusWad: bigint };
  ShortfallSettled: { account: string; shortfallWad: bigint };
  Backlogged: { id: bigint; marketId: string; size: bigint; backlog: bigint };
  BacklogReleased: { id: bigint; marketId: string; size: bigint; notionalWad: bigint };
  LevelChanged: { market: string; fromLevel: bigint; toLevel: bigint };
  ActionFailed: { kind: bigint; target: bigint; reason: string };
}
export type EventName = keyof EventArgs;

/** A log the engine reads, decoded. */
export type LabEvent = { [N in EventName]: { name: N; args: EventArgs[N] } }[EventName];

const FIELDS: { [N in EventName]: (keyof EventArgs[N] & string)[] } = {
  Kick: ["id", "account", "key", "lot", "tabWad", "penaltyWad"],
  Take: ["id", "amount", "priceWad", "owedWad"],
  Redo: ["id", "rewardWad"],
  Backstop: ["id", "account", "lot"],
  AuctionEnded: ["id", "account"],
  InstantLiquidation: ["account", "marketId", "slice", "priceWad", "bonusWad"],
  ShortfallSettled: ["account", "shortfallWad"],
  Backlogged: ["id", "marketId", "size", "backlog"],
  BacklogReleased: ["id", "marketId", "size", "notionalWad"],
  LevelChanged: ["market", "fromLevel", "toLevel"],
  ActionFailed: ["kind", "target", "reason"],
};

/** The events each block's log query asks for, by emitter (every other log is left on the node). */
const READ_EVENTS: [keyof World["ifaces"], EventName[]][] = [
  [
    "auction",
    ["Kick", "Take", "Redo", "Backstop", "AuctionEnded", "InstantLiquidation", "Backlogged", "BacklogReleased"],
  ],
  ["vault", ["ShortfallSettled"]],
  ["breaker", ["LevelChanged"]],
  ["agent", ["ActionFailed"]],
];

interface Decodable {
  name: EventName;
  iface: Interface;
  fragment: EventFragment;
  from: Set<string>;
}

/**
 * Decodes the events of READ_EVENTS, looking each one up by its first topic in a table built once
 * per world (ethers' `parseLog` searches the ABI and rehashes each event signature on every call,
 * which cost a sixth of a default run). A log is decoded only if its emitter is the contract the
 * event belongs to: the keepers for `ActionFailed`, the named contract for the rest.
 */
export class EventDecoder {
  readonly topics: string[];
  private readonly byTopic = new Map<string, Decodable>();
  private readonly reasons = new Map<string, string>();
  private readonly errorIfaces: Interface[];

  constructor(w: World) {
    this.errorIfaces = [w.ifaces.auction, w.ifaces.vault, w.ifaces.risk];
    const emitters: Record<keyof World["ifaces"], string[]> = {
      agent: w.agentAddrs.keepers,
      lens: [],
      vault: [w.vaultAddr],
      auction: [w.auctionAddr],
      feed: [],
      risk: [],
      breaker: [w.breakerAddr],
    };
    for (const [key, names] of READ_EVENTS)
      for (const name of names) {
        const iface = w.ifaces[key];
        const fragment = iface.getEvent(name);
        if (fragment === null) throw new Error(`lab: ${key} has no event ${name}`);
        const inputs = new Set(fragment.inputs.map((p) => p.name));
        const missing = FIELDS[name].filter((f) => !inputs.has(f));
        if (missing.length > 0) throw new Error(`lab: event ${name} has no argument ${missing.join(", ")}`);
        const from = new Set(emitters[key].map((a) => a.toLowerCase()));
        this.byTopic.set(fragment.topicHash, { name, iface, fragment, from });
      }
    this.topics = [...this.byTopic.keys()];
  }

  /** The custom error's name of a revert payload (its selector if no contract knows it), cached:
   * a run fails the same few ways many times. */
  reason(data: string): string {
    let name = this.reasons.get(data);
    if (name === undefined) {
      name = data.slice(0, 10);
      for (const iface of this.errorIfaces) {
        const e = iface.getError(data.slice(0, 10));
        if (e !== null) {
          name = e.name;
          break;
        }
      }
      this.reasons.set(data, name);
    }
    return name;
  }

  decode(log: RpcLog): LabEvent | null {
    const e = this.byTopic.get(log.topics[0]?.toLowerCase() ?? "");
    if (e === undefined || !e.from.has(log.address.toLowerCase())) return null;
    const result: Result = e.iface.decodeEventLog(e.fragment, log.data, log.topics);
    const args: Record<string, unknown> = {};
    for (const f of FIELDS[e.name]) args[f] = result.getValue(f);
    return { name: e.name, args } as LabEvent;
  }
}
