// The JetStream meta group checks startTopology relies on, over views like those the servers'
// /jsz gave: a formed group, a group still electing, a member that is not current yet, and the
// nats-server 2.10 start-up case of a settled group that left one server out, and the servers a
// group is stuck on after a restart of every server (no leader, or a peer never current).
import {
  leftOutOfMetaGroup,
  type MetaView,
  metaGroupProblem,
  stuckInMetaGroup,
} from "@natschat/server";
import { describe, expect, it } from "vitest";

/** Views of servers east-1..3 that all name `leader`; the leader knows `peers`, `current` of them current. */
function views(
  leader: string,
  clusterSize: number,
  peers: string[],
  current: string[] = peers,
): MetaView[] {
  return ["east-1", "east-2", "east-3"].map((server) => ({
    server,
    leader,
    clusterSize,
    peers: server === leader ? peers : [],
    currentPeers: server === leader ? current : [],
  }));
}

describe("meta group checks", () => {
  it("a formed group: no problem, nobody left out", () => {
    const v = views("east-2", 3, ["east-1", "east-3"]);
    expect(metaGroupProblem(v)).toBeUndefined();
    expect(leftOutOfMetaGroup(v)).toEqual([]);
  });

  it("servers that disagree on the leader are still electing, not leaving anyone out", () => {
    const v = views("east-2", 3, ["east-1", "east-3"]);
    (v[0] as MetaView).leader = undefined;
    expect(metaGroupProblem(v)).toMatch(/disagree on the meta leader/);
    expect(leftOutOfMetaGroup(v)).toEqual([]);
  });

  it("a member the leader knows but does not see current yet is waited for, not restarted", () => {
    const v = views("east-2", 3, ["east-1", "east-3"], ["east-1"]);
    expect(metaGroupProblem(v)).toMatch(/does not yet see east-3 as current/);
    expect(leftOutOfMetaGroup(v)).toEqual([]);
    // seen current in an earlier poll counts (the flag flickers under load)
    expect(metaGroupProblem(v, new Set(["east-3"]))).toBeUndefined();
  });

  it("a settled group of 2 that does not know east-1 has left east-1 out", () => {
    const v = views("east-2", 2, ["east-3"]);
    expect(metaGroupProblem(v)).toMatch(/does not yet see east-1 as current/);
    expect(leftOutOfMetaGroup(v)).toEqual(["east-1"]);
  });

  it("no leader view (the leader is not one of these servers) leaves nobody out", () => {
    const v = views("west-1", 2, []);
    expect(metaGroupProblem(v)).toMatch(/not one of this topology's servers/);
    expect(leftOutOfMetaGroup(v)).toEqual([]);
  });

  it("with no leader every server is one the group is stuck on", () => {
    const v = views("east-2", 3, ["east-1", "east-3"]);
    for (const x of v) x.leader = undefined;
    expect(stuckInMetaGroup(v, new Set())).toEqual(["east-1", "east-2", "east-3"]);
    (v[1] as MetaView).leader = "east-2";
    expect(stuckInMetaGroup(v, new Set())).toEqual(["east-1", "east-2", "east-3"]);
  });

  it("with a leader, only the peers it never saw current", () => {
    const v = views("east-1", 3, ["east-2", "east-3"], ["east-3"]);
    expect(stuckInMetaGroup(v, new Set())).toEqual(["east-2"]);
    expect(stuckInMetaGroup(v, new Set(["east-2"]))).toEqual([]);
    expect(stuckInMetaGroup(views("east-1", 3, ["east-2", "east-3"]), new Set())).toEqual([]);
    // a formed group of one server is never stuck
    expect(stuckInMetaGroup([{ server: "n1", peers: [], currentPeers: [] }], new Set())).toEqual(
      [],
    );
  });
});
