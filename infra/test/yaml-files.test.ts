import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { infraFiles, readInfra } from "./support.js";

describe("YAML files under infra/", () => {
  const files = infraFiles((path) => /\.ya?ml$/.test(path));

  it("finds the compose file, the Kubernetes manifests and the Slack manifest", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "compose.yaml",
        "kubernetes/api.yaml",
        "kubernetes/configmap.yaml",
        "kubernetes/namespace.yaml",
        "kubernetes/networkpolicies.yaml",
        "kubernetes/slack-bot.yaml",
        "kubernetes/worker.yaml",
        "slack/manifest.yaml",
      ]),
    );
  });

  it.each(files)("%s parses, every document of it, without warnings", (file) => {
    const documents = parseAllDocuments(readInfra(file), { uniqueKeys: true, merge: true });
    expect(Array.isArray(documents), "a YAML stream").toBe(true);
    if (!Array.isArray(documents)) return;
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      expect(document.errors.map((e) => e.message)).toEqual([]);
      expect(document.warnings.map((w) => w.message)).toEqual([]);
      expect(document.toJS()).not.toBeNull();
    }
  });

  it("the check rejects a broken document (so the test above can fail)", () => {
    const [document] = parseAllDocuments("a: [1, 2\nb: c\n", { uniqueKeys: true });
    expect(document?.errors.length).toBeGreaterThan(0);
    const [duplicate] = parseAllDocuments("a: 1\na: 2\n", { uniqueKeys: true });
    expect(duplicate?.errors.length).toBeGreaterThan(0);
  });
});
