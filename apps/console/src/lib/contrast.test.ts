import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { contrastRatio, cssColours } from "./contrast.js";

const css = readFileSync(new URL("../styles.css", import.meta.url), "utf8");
const colours = cssColours(css);
const colour = (name: string) => {
  const value = colours.get(name);
  if (!value) throw new Error(`styles.css has no --${name}`);
  return value;
};

describe("contrastRatio", () => {
  it("matches WCAG's reference values", () => {
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#ffffff", "#ffffff")).toBe(1);
    expect(contrastRatio("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });
});

describe("the console's palette", () => {
  // Every text colour on every background the stylesheet puts it on.
  const textPairs: [string, string][] = [
    ["text", "bg"],
    ["text", "panel"],
    ["text", "highlight-bg"],
    ["text", "error-bg"],
    ["muted", "bg"],
    ["muted", "panel"],
    ["muted", "error-bg"],
    ["muted", "highlight-bg"],
    ["primary", "bg"],
    ["primary", "panel"],
    ["primary", "highlight-bg"],
    ["primary", "error-bg"],
    ["on-primary", "primary"],
    ["on-primary", "primary-dark"],
    ["on-primary", "danger"],
    ["disabled-text", "disabled-bg"],
    ["ok", "bg"],
    ["danger", "bg"],
    ["bg", "text"],
  ];

  it.each(textPairs)("text in --%s on --%s has at least 4.5:1", (fg, bg) => {
    expect(contrastRatio(colour(fg), colour(bg))).toBeGreaterThanOrEqual(4.5);
  });

  it("draws the focus ring and borders at least 3:1 against their backgrounds", () => {
    for (const bg of ["bg", "panel", "highlight-bg"]) {
      expect(contrastRatio(colour("focus"), colour(bg))).toBeGreaterThanOrEqual(3);
      expect(contrastRatio(colour("border"), colour(bg))).toBeGreaterThanOrEqual(3);
    }
  });
});
