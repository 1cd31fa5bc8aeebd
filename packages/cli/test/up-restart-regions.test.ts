// `natschat up` again on its own data dir, for the leaf and supercluster topologies (see
// up-again.ts; single and cluster are in up-restart.test.ts).
import { describeUpAgain } from "./up-again.ts";

describeUpAgain(["leaf", "supercluster"]);
