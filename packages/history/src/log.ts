// The history service logs through the same structured logger as the access service (JSON
// lines, levels, seeds/JWTs/creds masked), so both services' lines read alike.
export { createLogger, type Logger, silentLogger } from "@natschat/access";
