import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";
import { GrantTable } from "./my-access-page.js";
import { RotationsSection } from "./rotations-section.js";
import { SessionsSection } from "./sessions-section.js";

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
