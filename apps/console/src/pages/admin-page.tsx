import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ErrorAlert, Notice, QueryState } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";
import { GrantTable } from "./my-access-page.js";
import { RotationsSection } from "./rotations-section.js";

/** `/admin` (admins): grants whose revocation failed, rotations, and console sessions. */
export function AdminPage() {
  const trpc = useTRPC();
  const debt = useQuery(trpc.grants.revocationDebt.queryOptions({ limit: 100 }));
  return (
    <>
      <h1>Administration</h1>
      <section aria-labelledby="debt-heading">
        <h2 id="debt-heading">Revocation debt</h2>
        <p className="muted">Grants whose revocation failed; the worker retries them.</p>
        <QueryState query={debt} label="revocation debt">
          <GrantTable grants={debt.data ?? []} />
        </QueryState>
      </section>
      <RotationsSection />
      <SessionsSection />
    </>
  );
}

/** A cell's text: scalars as they are, anything else as compact JSON. */
const cell = (value: unknown) =>
  value === null || value === undefined
    ? ""
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);

function SessionsSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.sessions.list.queryOptions());
  const revoke = useMutation(
    trpc.sessions.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() }),
    }),
  );
  const rows = sessions.data ?? [];
  const columns = rows[0] ? Object.keys(rows[0]).filter((key) => key !== "id") : [];
  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Console sessions</h2>
      <ErrorAlert error={revoke.error} />
      {revoke.isSuccess && <Notice>Session revoked.</Notice>}
      <QueryState query={sessions} label="sessions">
        {rows.length === 0 ? (
          <p>No sessions.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Session</th>
                {columns.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.id}>
                  <td>
                    <code>{s.id.slice(0, 8)}</code>
                  </td>
                  {columns.map((c) => (
                    <td key={c}>{cell((s as Record<string, unknown>)[c])}</td>
                  ))}
                  <td>
                    <button
                      type="button"
                      className="button danger"
                      aria-label={`Revoke session ${s.id.slice(0, 8)}`}
                      disabled={revoke.isPending}
                      onClick={() => revoke.mutate({ sessionId: s.id })}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </section>
  );
}
