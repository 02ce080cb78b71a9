import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ErrorAlert, Notice, QueryState } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";

/** Rotations of long-lived secrets: their last run, Run now, Dry run, and recent runs. */
export function RotationsSection() {
  const trpc = useTRPC();
  const rotations = useQuery(trpc.rotations.list.queryOptions());
  return (
    <section aria-labelledby="rotations-heading">
      <h2 id="rotations-heading">Rotations</h2>
      <QueryState query={rotations} label="rotations">
        {rotations.data?.length === 0 ? (
          <p>No rotations are configured.</p>
        ) : (
          rotations.data?.map((r) => (
            <article key={r.id} className="card" aria-labelledby={`rotation-${r.id}`}>
              <h3 id={`rotation-${r.id}`}>{r.id}</h3>
              <p>
                {r.kind} · schedule <code>{r.schedule.cron}</code>
                {r.schedule.jitterSeconds > 0 && ` (± ${r.schedule.jitterSeconds}s)`} · {r.targetDescription}
              </p>
              <p>
                Last run:{" "}
                {r.lastRun ? `${r.lastRun.state} (started ${r.lastRun.startedAt ?? "not yet"})` : "never"}
              </p>
              <RotationActions rotationId={r.id} />
            </article>
          ))
        )}
      </QueryState>
    </section>
  );
}

function RotationActions({ rotationId }: { readonly rotationId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries(trpc.rotations.pathFilter());
  const run = useMutation(trpc.rotations.run.mutationOptions({ onSuccess: refresh }));
  const dryRun = useMutation(trpc.rotations.dryRun.mutationOptions());
  const runs = useQuery(trpc.rotations.runs.queryOptions({ rotationId, limit: 10 }));
  return (
    <>
      <div className="actions-row">
        <button
          type="button"
          className="button"
          disabled={run.isPending}
          onClick={() => run.mutate({ rotationId })}
        >
          Run
        </button>
        <button
          type="button"
          className="button secondary"
          disabled={dryRun.isPending}
          onClick={() => dryRun.mutate({ rotationId })}
        >
          Dry run
        </button>
      </div>
      {run.data && (
        <Notice>
          Run {run.data.id} queued ({run.data.state}).
        </Notice>
      )}
      {dryRun.data !== undefined && (
        <Notice>
          <p>Dry run result:</p>
          <pre>
            <code>{JSON.stringify(dryRun.data, null, 2)}</code>
          </pre>
        </Notice>
      )}
      <ErrorAlert error={run.error ?? dryRun.error} />
      <details>
        <summary>Recent runs</summary>
        <QueryState query={runs} label="runs">
          {runs.data?.length === 0 ? (
            <p>No runs yet.</p>
          ) : (
            <ul>
              {runs.data?.map((r) => (
                <li key={r.id}>
                  {r.startedAt ?? "queued"}: {r.state} (step {r.step}, {r.triggeredBy})
                  {r.lastError && ` — ${r.lastError}`}
                </li>
              ))}
            </ul>
          )}
        </QueryState>
      </details>
    </>
  );
}
