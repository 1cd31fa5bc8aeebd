import { describe, expect, it } from "vitest";
import { InvalidNameError, isValidName, NAME_MAX_LENGTH, normalizeName } from "../src/mod.ts";

function rejection(input: string): InvalidNameError {
  try {
    normalizeName(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidNameError);
    return err as InvalidNameError;
  }
  throw new Error(`name ${JSON.stringify(input)} was accepted`);
}

describe("normalizeName", () => {
  it("trims and folds ASCII case", () => {
    expect(normalizeName("Alice")).toBe("alice");
    expect(normalizeName("  Bob_1-X \t")).toBe("bob_1-x");
    expect(normalizeName("0")).toBe("0");
    expect(normalizeName("a".repeat(NAME_MAX_LENGTH))).toBe("a".repeat(16));
    expect(NAME_MAX_LENGTH).toBe(16);
  });

  it("rejects empty and blank names", () => {
    expect(rejection("").message).toMatch(/name is empty/);
    expect(rejection("   \t ").message).toMatch(/only whitespace/);
    expect(rejection("").code).toBe("NAME_INVALID");
  });

  it("rejects long names with their length and never truncates", () => {
    expect(rejection("a".repeat(17)).message).toMatch(/is 17 characters long, the maximum is 16/);
    const huge = rejection("x".repeat(10 * 1024));
    expect(huge.message).toMatch(/is 10240 characters long/);
    expect(huge.message.length).toBeLessThan(200);
  });

  it("says which character is wrong", () => {
    expect(rejection("al.ice").message).toBe(
      `name "al.ice" has '.', use letters, digits, '-' or '_'`,
    );
    expect(rejection("a*").message).toMatch(/has '\*'/);
    expect(rejection("a>").message).toMatch(/has '>'/);
    expect(rejection("../x").message).toMatch(/has '\.'/);
    expect(rejection("a/b").message).toMatch(/has '\/'/);
    expect(rejection("a b").message).toMatch(/has a space/);
    expect(rejection("a@b").message).toMatch(/has '@'/);
  });

  it("rejects unicode look-alikes instead of folding them", () => {
    // Cyrillic 'а' (U+0430) looks like a Latin 'a'.
    expect(rejection("\u0430lice").message).toMatch(/non-ASCII character 'а' \(U\+0430\)/);
    // toLowerCase() would fold the Kelvin sign to an ASCII 'k'.
    expect(rejection("\u212Aate").message).toMatch(/U\+212A/);
    expect(rejection("\uFF41lice").message).toMatch(/U\+FF41/); // fullwidth 'a'
    expect(rejection("\u0130nci").message).toMatch(/U\+0130/); // 'İ' lowercases to "i̇"
    expect(rejection("éve").message).toMatch(/non-ASCII/);
  });

  it("rejects control and invisible characters without printing them", () => {
    expect(rejection("al\u0007ice").message).toMatch(/control character U\+0007/);
    expect(rejection("a\tb").message).toMatch(/control character U\+0009/);
    expect(rejection("a\u0000").message).toMatch(/U\+0000/);
    const zw = rejection("al\u200Bice").message;
    expect(zw).toMatch(/U\+200B/);
    expect(zw).not.toContain("\u200B");
    expect(rejection("a\u202Eb").message).not.toContain("\u202E");
  });

  it("requires a letter or digit first", () => {
    expect(rejection("-bob").message).toMatch(/must start with a letter or a digit/);
    expect(rejection("_bob").message).toMatch(/must start with a letter or a digit/);
  });

  it("has a predicate", () => {
    expect(isValidName("Alice")).toBe(true);
    expect(isValidName("al.ice")).toBe(false);
  });
});
