// Public surface of the test support package (used by tests only).
export { type CliResult, NATSCHAT_BIN, runCli, startCli, stopCli } from "./cli.ts";
export { eventually, within } from "./deadline.ts";
export { startTestDirectory, type TestDirectory } from "./directory.ts";
export { startTestHistory } from "./history.ts";
export { probePublish, probeSubscribe, type Verdict } from "./permissions.ts";
export { startTestStack, type TestStack } from "./stack.ts";
export { withChatStreams } from "./streams.ts";
export {
  connectChatUser,
  type MintedUser,
  mintChatUser,
  nativeCredsAuthenticator,
  type SimulatedUser,
  simulateUser,
} from "./users.ts";
