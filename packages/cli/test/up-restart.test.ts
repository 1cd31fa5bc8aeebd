// `natschat up` on a data dir it already ran on, for every topology: Ctrl-C, then `up` again
// keeps the users, the revocations (a revoked user is still refused by the servers) and the
// history, and the services work (a new user joins, an old one posts). Through the real CLI.
// Before, `up --topology cluster` failed on its own data dir with "insufficient storage
// resources available", and a restart could wait 60 s on a meta group that never formed.
import { describeUpAgain } from "./up-again.ts";

// the two multi-region topologies are in up-restart-regions.test.ts
describeUpAgain(["single", "cluster"]);
