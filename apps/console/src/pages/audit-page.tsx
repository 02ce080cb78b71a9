import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { QueryState } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";
import { EventTable } from "./event-table.js";

const PAGE = 50;
/** How far back from the head the last checkpoint is looked for (the API's page limit). */
const CHECKPOINT_WINDOW = 500;

/** `/audit` (admins and auditors): whether the hash chain verifies, its last signed checkpoint, and the events. */
export function AuditPage() {
  const trpc = useTRPC();
  const verify = useQuery(trpc.audit.verify.queryOptions({}));
  return (
    <>
      <h1>Audit trail</h1>
      <section aria-labelledby="verify-heading">
        <h2 id="verify-heading">Integrity</h2>
        <QueryState query={verify} label="the verification">
          {verify.data && (
            <>
              <p className={verify.data.ok ? "status-ok" : "status-broken"}>
                <strong>{verify.data.ok ? "Chain verified (ok)" : "Chain broken"}</strong>:{" "}
                {verify.data.events} events checked.
              </p>
              <p>
                Head: #{verify.data.head.seq} <code className="hash">{verify.data.head.hash}</code>
              </p>
              {verify.data.problems.length > 0 && (
                <ul className="problems">
                  {verify.data.problems.map((p) => (
                    <li key={`${p.seq}-${p.problem}`}>
                      #{p.seq}: {p.problem}
                    </li>
                  ))}
                </ul>
              )}
              <LastCheckpoint headSeq={verify.data.head.seq} />
            </>
          )}
        </QueryState>
      </section>
      <EventPages headSeq={verify.data?.head.seq} />
    </>
  );
}

function LastCheckpoint({ headSeq }: { readonly headSeq: number }) {
  const trpc = useTRPC();
  const recent = useQuery(
    trpc.audit.list.queryOptions({
      afterSeq: Math.max(0, headSeq - CHECKPOINT_WINDOW),
      limit: CHECKPOINT_WINDOW,
    }),
  );
  const checkpoint = recent.data?.filter((e) => e.action === "audit.checkpoint").at(-1);
  return (
    <QueryState query={recent} label="the last checkpoint">
      {checkpoint ? (
        <p>
          Last signed checkpoint: event #{checkpoint.seq} at{" "}
          <time dateTime={checkpoint.at}>{checkpoint.at}</time>{" "}
          <code className="data">{JSON.stringify(checkpoint.data)}</code>
        </p>
      ) : (
        <p>No signed checkpoint among the last {CHECKPOINT_WINDOW} events.</p>
      )}
    </QueryState>
  );
}

function EventPages({ headSeq }: { readonly headSeq: number | undefined }) {
  const trpc = useTRPC();
  // Each entry is the `afterSeq` of a page already seen, so "Previous" can go back.
  const [starts, setStarts] = useState<readonly number[]>([0]);
  const afterSeq = starts.at(-1) ?? 0;
  const events = useQuery(trpc.audit.list.queryOptions({ afterSeq, limit: PAGE }));
  const last = events.data?.at(-1)?.seq;
  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      <QueryState query={events} label="events">
        <EventTable events={events.data ?? []} caption={`Events after #${afterSeq}, oldest first`} />
      </QueryState>
      <nav aria-label="Event pages" className="actions-row">
        <button
          type="button"
          className="button secondary"
          disabled={starts.length < 2}
          onClick={() => setStarts(starts.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          className="button secondary"
          disabled={last === undefined || (events.data?.length ?? 0) < PAGE}
          onClick={() => last !== undefined && setStarts([...starts, last])}
        >
          Next page
        </button>
        <button
          type="button"
          className="button secondary"
          disabled={headSeq === undefined}
          onClick={() => headSeq !== undefined && setStarts([...starts, Math.max(0, headSeq - PAGE)])}
        >
          Latest events
        </button>
      </nav>
    </section>
  );
}
