// Public surface of @natschat/e2e: what the hardening tests and the load benchmark share:
// deadlines, a controllable TCP proxy, topologies with proxied links, access-service replicas
// as child processes, and registration bursts with their accounting.

export { eventually, within } from "@natschat/testing";
export {
  type AttackStack,
  aliceDmsBob,
  attackSend,
  connectUser,
  copiesOf,
  flood,
  type Outcome,
  refusals,
  startAttackStack,
  stillStored,
  storeGenuine,
  subjects,
  V3,
} from "./attack.ts";
export {
  type Accounting,
  type AttemptResult,
  account,
  type Burst,
  type BurstOptions,
  burstNames,
  fetchRegistry,
  formatAccounting,
  roleConnections,
  settleAccounting,
  startBurst,
} from "./burst.ts";
export { type LinkedStack, startLinkedStack } from "./linked-stack.ts";
export { TcpProxy } from "./proxy.ts";
export {
  pingReplicas,
  type ReplicaOptions,
  type ReplicaProcess,
  servedByReplica,
  startReplica,
} from "./replica.ts";
export { SessionPool, texts, waitForPost, waitOnline } from "./sessions.ts";
