// Public surface of the deploy layer: Kubernetes material rendered from the same trust tree and
// server specs that `natschat up` runs locally.
export { certManagerResources, issuerRef } from "./cert-manager.ts";
export { chartConfigDoc, chartConfigText, mergeOverwrite } from "./chart-config.ts";
export { DOCKERFILE, DOCKERIGNORE } from "./dockerfile.ts";
export { DeployError } from "./errors.ts";
export { edgeValues, NATS_CHART_VERSION, regionValues, type Values } from "./helm-values.ts";
export {
  APP_PATHS,
  accessDeployment,
  generatedSecrets,
  historyDeployment,
  kustomization,
  namespaceManifest,
  type PublicTrust,
  type SecretSpec,
  secretSpecs,
  webDeployment,
  webService,
} from "./manifests.ts";
export {
  certificateHosts,
  DEFAULT_DEPLOY_OPTIONS,
  type DeployOptions,
  names,
  resolveDeployOptions,
} from "./options.ts";
export {
  type Rendered,
  type RenderedFile,
  type RenderInputs,
  readRenderInputs,
  renderDeployment,
  renderToDir,
  writeRendered,
} from "./render.ts";
export {
  allPodSpecs,
  type EdgeAccounts,
  edgePodSpec,
  POD_PATHS,
  PORTS,
  REGION_SIZE,
  regionPodSpec,
} from "./specs.ts";
