import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SLACK_IDS } from "@leasehold/slack";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const manifest = parse(
  readFileSync(fileURLToPath(new URL("../../../infra/slack/manifest.yaml", import.meta.url)), "utf8"),
) as {
  features: { slash_commands: { command: string }[]; shortcuts: { callback_id: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean } };
};

describe("infra/slack/manifest.yaml", () => {
  it("declares the command, shortcut, event and scopes the bot uses", () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([SLACK_IDS.command]);
    expect(manifest.features.shortcuts.map((s) => s.callback_id)).toEqual([SLACK_IDS.shortcut]);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(["app_home_opened"]);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual([
      "chat:write",
      "commands",
      "users:read",
      "users:read.email",
    ]);
  });
});
