// Which v2 signers the upgrade trusts (cli/upgrade.ts trustedSigners): a key the registry issued
// a name to, and a revoked key only for what it signed before its revocation.
import type { RegistryRecord } from "@natschat/access";
import { describe, expect, it } from "vitest";
import { trustedSigners } from "../src/upgrade.ts";

const ALICE = `U${"A".repeat(55)}`;
const MALLORY = `U${"M".repeat(55)}`;
const OTHER = `U${"O".repeat(55)}`;
const REVOKED_AT = "2026-11-20T12:00:00.000Z";
const revokedAt = Date.parse(REVOKED_AT) / 1000;

const records: Record<string, RegistryRecord> = {
  [ALICE]: { name: "alice", key: ALICE, issued: "2026-11-01T00:00:00.000Z" },
  [MALLORY]: {
    name: "mallory",
    key: MALLORY,
    issued: "2026-11-01T00:00:00.000Z",
    revoked: true,
    revokedAt: REVOKED_AT,
  },
};

describe("the signers a v2 migration trusts", () => {
  const trusted = trustedSigners((key) => records[key]);

  it("trusts a registered key and no unregistered one", () => {
    expect(trusted(ALICE, revokedAt + 1e6)).toBe(true);
    expect(trusted(OTHER, 0)).toBe(false);
  });

  it("trusts a revoked key only for what it signed before its revocation", () => {
    expect(trusted(MALLORY, revokedAt - 60)).toBe(true);
    expect(trusted(MALLORY, revokedAt)).toBe(true);
    expect(trusted(MALLORY, revokedAt + 1)).toBe(false);
  });

  it("trusts no key whose record is another key's, or revoked without a time", () => {
    expect(trustedSigners(() => records[ALICE])(OTHER, 0)).toBe(false);
    const noTime = { ...records[MALLORY], revokedAt: undefined } as unknown as RegistryRecord;
    expect(trustedSigners(() => noTime)(MALLORY, 0)).toBe(false);
  });
});
