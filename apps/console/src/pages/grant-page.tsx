import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../components/alerts.js";
import { Countdown } from "../components/countdown.js";
import { formatDurationSeconds } from "../lib/countdown.js";
import { useTRPC } from "../trpc.js";
import { EventTable } from "./event-table.js";

/** `/grants/:id`: one grant and what happened to it and its request, oldest first. */
export function GrantPage({ grantId }: { readonly grantId: string }) {
  const trpc = useTRPC();
  const grant = useQuery(trpc.grants.get.queryOptions({ grantId }));
  const timeline = useQuery(trpc.grants.timeline.queryOptions({ grantId }));
  const g = grant.data;
  return (
    <>
      <h1>Grant</h1>
      <QueryState query={grant} label="the grant">
        {g && (
          <dl className="facts">
            <dt>Id</dt>
            <dd>
              <code>{g.id}</code>
            </dd>
            <dt>Target</dt>
            <dd>{g.targetId}</dd>
            <dt>Holder</dt>
            <dd>{g.principalId}</dd>
            <dt>State</dt>
            <dd>{g.state}</dd>
            <dt>Duration</dt>
            <dd>{formatDurationSeconds(g.durationSeconds)}</dd>
            <dt>Issued</dt>
            <dd>{g.issuedAt ?? "not yet"}</dd>
            <dt>Expires</dt>
            <dd>
              {g.expiresAt ?? "not yet"}
              {g.state === "active" && (
                <>
                  {" "}
                  (in <Countdown expiresAt={g.expiresAt} />)
                </>
              )}
            </dd>
            {g.endedAt && (
              <>
                <dt>Ended</dt>
                <dd>{g.endedAt}</dd>
              </>
            )}
            {g.lastError && (
              <>
                <dt>Last error</dt>
                <dd>{g.lastError}</dd>
              </>
            )}
          </dl>
        )}
      </QueryState>
      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <QueryState query={timeline} label="the timeline">
          <EventTable
            events={timeline.data?.events ?? []}
            caption="Events about this grant and its request"
          />
        </QueryState>
      </section>
    </>
  );
}
