import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../components/alerts.js";
import { type RenderedBlock, renderBlocks } from "../lib/block-kit.js";
import { useTRPC } from "../trpc.js";

/** `/slack` (local mode): what the bot posted to the Slack stand-in, channels and DMs, as text. */
export function SlackPage() {
  const trpc = useTRPC();
  // New messages appear as the bot sends them; outside local mode there is nothing to poll.
  const slack = useQuery({
    ...trpc.local.slackMessages.queryOptions(),
    refetchInterval: (query) => (query.state.data?.available === false ? false : 5000),
  });
  const messages = slack.data?.messages ?? [];
  return (
    <>
      <h1>Slack (local)</h1>
      <QueryState query={slack} label="Slack messages">
        {slack.data?.available === false ? (
          <p>This page exists in local mode only: there is no Slack stand-in to read from.</p>
        ) : messages.length === 0 ? (
          <p>The bot has not sent anything yet.</p>
        ) : (
          <ol className="slack-messages">
            {messages.map((m) => (
              <li key={`${m.channelId}-${m.ts}`} className="card">
                <p className="muted">
                  {m.isDm ? "Direct message" : `#${m.channelName ?? m.channelId}`} · {m.ts}
                </p>
                {m.blocks.length > 0 ? <Blocks blocks={renderBlocks(m.blocks)} /> : <p>{m.text}</p>}
              </li>
            ))}
          </ol>
        )}
      </QueryState>
    </>
  );
}

function Blocks({ blocks }: { readonly blocks: readonly RenderedBlock[] }) {
  return (
    <div className="slack-blocks">
      {blocks.map((block, index) => (
        // Blocks have no stable id; their order within a message never changes, so the index is one.
        <Block key={index} block={block} />
      ))}
    </div>
  );
}

function Block({ block }: { readonly block: RenderedBlock }) {
  switch (block.kind) {
    case "header":
      return <p className="slack-header">{block.text}</p>;
    case "section":
      return (
        <div className="slack-section">
          {block.text && <p className="prewrap">{block.text}</p>}
          {block.fields.map((field) => (
            <p key={field} className="prewrap">
              {field}
            </p>
          ))}
        </div>
      );
    case "context":
      return <p className="muted">{block.items.join(" · ")}</p>;
    case "actions":
      return (
        <div className="actions-row">
          {block.buttons.map((label) => (
            <button key={label} type="button" className="button secondary" disabled>
              {label}
            </button>
          ))}
        </div>
      );
    case "divider":
      return <hr />;
    case "unsupported":
      return <p className="muted">({block.type} block)</p>;
  }
}
