// What the history service shares with the access service: the structured logger (JSON lines,
// levels, seeds/JWTs/creds masked), so both services' lines read alike, and the start-up retries.
export {
  bounded,
  createLogger,
  type Logger,
  silentLogger,
  withRetries,
} from "@natschat/access";
