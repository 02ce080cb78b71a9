import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../components/alerts.js";
import { Countdown } from "../components/countdown.js";
import { formatDurationSeconds } from "../lib/countdown.js";
import { Link } from "../navigation.js";
import { type AccessRequest, type Grant, useTRPC } from "../trpc.js";
import { CancelButton } from "./cancel-button.js";
import { CredentialsPanel } from "./credentials-panel.js";
import { ExtendForm, RevokeForm } from "./grant-actions.js";

/** `/`: my grants (active ones with a countdown and their actions) and my requests. */
export function MyAccessPage() {
  const trpc = useTRPC();
  // Refreshed now and then: the worker issues, expires and revokes grants on its own.
  const grants = useQuery({ ...trpc.grants.list.queryOptions({ limit: 100 }), refetchInterval: 30_000 });
  const requests = useQuery(trpc.requests.list.queryOptions({ view: "mine", limit: 50 }));
  const targets = useQuery(trpc.targets.list.queryOptions());
  const kindOf = (targetId: string) => targets.data?.find((t) => t.id === targetId)?.kind ?? "";
  const active = grants.data?.filter((g) => g.state === "active") ?? [];
  const others = grants.data?.filter((g) => g.state !== "active") ?? [];
  return (
    <>
      <h1>My access</h1>
      <section aria-labelledby="active-heading">
        <h2 id="active-heading">Active grants</h2>
        <QueryState query={grants} label="grants">
          {active.length === 0 ? (
            <p>
              No active grants: <Link to="/request">ask for access</Link>.
            </p>
          ) : (
            active.map((grant) => (
              <ActiveGrant key={grant.id} grant={grant} targetKind={kindOf(grant.targetId)} />
            ))
          )}
        </QueryState>
      </section>
      <section aria-labelledby="requests-heading">
        <h2 id="requests-heading">My requests</h2>
        <QueryState query={requests} label="requests">
          <RequestTable requests={requests.data ?? []} />
        </QueryState>
      </section>
      <section aria-labelledby="past-heading">
        <h2 id="past-heading">Other grants</h2>
        <QueryState query={grants} label="grants">
          <GrantTable grants={others} />
        </QueryState>
      </section>
    </>
  );
}

function ActiveGrant({ grant, targetKind }: { readonly grant: Grant; readonly targetKind: string }) {
  const headingId = `grant-${grant.id}`;
  return (
    <article className="card" aria-labelledby={headingId} data-testid={`grant-${grant.id}`}>
      <h3 id={headingId}>{grant.targetId}</h3>
      <p>
        Expires in <Countdown expiresAt={grant.expiresAt} /> ·{" "}
        <Link to={`/grants/${grant.id}`}>Grant {grant.id}</Link>
      </p>
      <CredentialsPanel grantId={grant.id} targetKind={targetKind} />
      <div className="actions-row">
        <ExtendForm grantId={grant.id} />
        <RevokeForm grantId={grant.id} />
      </div>
    </article>
  );
}

export function GrantTable({ grants }: { readonly grants: readonly Grant[] }) {
  if (grants.length === 0) return <p>None.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Target</th>
          <th scope="col">State</th>
          <th scope="col">Duration</th>
          <th scope="col">Created</th>
          <th scope="col">Grant</th>
        </tr>
      </thead>
      <tbody>
        {grants.map((g) => (
          <tr key={g.id}>
            <td>{g.targetId}</td>
            <td>{g.state}</td>
            <td>{formatDurationSeconds(g.durationSeconds)}</td>
            <td>{g.createdAt}</td>
            <td>
              <Link to={`/grants/${g.id}`}>{g.id.slice(0, 8)}</Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RequestTable({ requests }: { readonly requests: readonly AccessRequest[] }) {
  if (requests.length === 0) return <p>No requests yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Target</th>
          <th scope="col">State</th>
          <th scope="col">Duration</th>
          <th scope="col">Approvals</th>
          <th scope="col">Reason</th>
          <th scope="col">Created</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody>
        {requests.map((r) => (
          <tr key={r.id}>
            <td>{r.targetId}</td>
            <td>{r.state}</td>
            <td>{formatDurationSeconds(r.durationSeconds)}</td>
            <td>
              {r.approvals.length}/{r.requiredApprovals}
            </td>
            <td>{r.reason}</td>
            <td>{r.createdAt}</td>
            <td>{r.state === "pending" && <CancelButton requestId={r.id} />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
