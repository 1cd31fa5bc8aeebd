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
export {
  type CertPair,
  type CertReport,
  createCa,
  ensureDevCerts,
  issueServerCert,
  LOCAL_HOSTS,
  missingHosts,
  spkiSha256,
  tlsLayout,
} from "./certs.ts";
export { type ConfValue, renderConf } from "./conf.ts";
export { ServerLayerError } from "./errors.ts";
export {
  dialHost,
  isHostLike,
  isLoopbackHost,
  isWildcardHost,
  reachableHosts,
} from "./hosts.ts";
export { type LayoutServer, type LayoutShape, layoutServers } from "./layout.ts";
export {
  type JszMetaCluster,
  leftOutOfMetaGroup,
  type MetaView,
  metaGroupProblem,
  metaViewOf,
  metaViews,
  missingConnections,
  type RunningTopology,
  startTopology,
  stuckInMetaGroup,
  waitConnected,
  waitMetaGroup,
} from "./local.ts";
export {
  checkMetaGroup,
  type MonitoredServer,
  metaViewsAt,
  monitoredServers,
} from "./meta-check.ts";
export { freePort, freePorts, isPortFree } from "./ports.ts";
export { checkConfig, type RunningServer, startServer, waitHealthy } from "./process.ts";
export {
  JETSTREAM_DOMAIN,
  JETSTREAM_LIMITS,
  type LeafRemote,
  type ResolverTrust,
  renderServerConfig,
  type ServerSpec,
  serverSettings,
  type TlsFiles,
} from "./server-config.ts";
export {
  type Plan,
  type PlanOptions,
  parseRegions,
  parseTopology,
  planTopology,
  type StoragePlacement,
  storagePlacement,
  TOPOLOGIES,
  type Topology,
  topologyShape,
} from "./topology.ts";
