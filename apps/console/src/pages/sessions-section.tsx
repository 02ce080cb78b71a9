import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ErrorAlert, Notice, QueryState } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";

/** Admins: the console's open sessions (never their cookie values), and ending one at once. */
export function SessionsSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.sessions.list.queryOptions({ limit: 200 }));
  const revoke = useMutation(
    trpc.sessions.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() }),
    }),
  );
  const rows = sessions.data ?? [];
  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Console sessions</h2>
      <ErrorAlert error={revoke.error} />
      {revoke.isSuccess && <Notice>Session revoked.</Notice>}
      <QueryState query={sessions} label="sessions">
        {rows.length === 0 ? (
          <p>No open sessions.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Provider</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last seen</th>
                <th scope="col">Expires</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.id}>
                  <td>{s.principal.id}</td>
                  <td>{s.principal.provider}</td>
                  <td>{s.authTime ?? s.createdAt}</td>
                  <td>{s.lastSeenAt}</td>
                  <td>{s.expiresAt}</td>
                  <td>
                    <button
                      type="button"
                      className="button danger"
                      aria-label={`Revoke session of ${s.principal.id} (${s.id.slice(0, 8)})`}
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
