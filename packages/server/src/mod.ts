// Public surface of the server layer.
export {
  ensureNatsServer,
  installFromDebian,
  MIN_VERSION,
  type NatsServerBinary,
  PROJECT_CACHE_DIR,
  parseVersion,
  probe,
} from "./binary.ts";
export { type ConfValue, renderConf } from "./conf.ts";
export { ServerLayerError } from "./errors.ts";
export { type RunningTopology, startTopology } from "./local.ts";
export { freePort, freePorts, isPortFree } from "./ports.ts";
export { checkConfig, type RunningServer, startServer, waitHealthy } from "./process.ts";
export {
  type LeafRemote,
  type ResolverTrust,
  renderServerConfig,
  type ServerSpec,
  type TlsFiles,
} from "./server-config.ts";
export {
  type Plan,
  type PlanOptions,
  parseTopology,
  planTopology,
  TOPOLOGIES,
  type Topology,
} from "./topology.ts";
