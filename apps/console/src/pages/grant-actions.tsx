import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { ErrorAlert, Notice } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";

const EXTEND_CHOICES = [15, 30, 60, 120] as const;

/** Refreshes every grant query after a change (lists, single grants and their timelines). */
function useInvalidateGrants() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries(trpc.grants.pathFilter());
}

/** Moves an active grant's deadline, within the target's maximum. */
export function ExtendForm({ grantId }: { readonly grantId: string }) {
  const trpc = useTRPC();
  const id = useId();
  const invalidate = useInvalidateGrants();
  const [minutes, setMinutes] = useState<number>(30);
  const extend = useMutation(trpc.grants.extend.mutationOptions({ onSuccess: invalidate }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    extend.mutate({ grantId, extendBySeconds: minutes * 60 });
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label htmlFor={`${id}-by`}>Extend by (minutes)</label>
      <select id={`${id}-by`} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
        {EXTEND_CHOICES.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
      <button type="submit" className="button secondary" disabled={extend.isPending}>
        Extend
      </button>
      {extend.isSuccess && (
        <Notice>Extended until {extend.data.expiresAt}. Fetch the credentials again.</Notice>
      )}
      <ErrorAlert error={extend.error} />
    </form>
  );
}

/** Ends a grant now; the reason is recorded in the audit trail. */
export function RevokeForm({ grantId }: { readonly grantId: string }) {
  const trpc = useTRPC();
  const id = useId();
  const invalidate = useInvalidateGrants();
  const [reason, setReason] = useState("");
  const revoke = useMutation(trpc.grants.revoke.mutationOptions({ onSuccess: invalidate }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = reason.trim();
    revoke.mutate(trimmed ? { grantId, reason: trimmed } : { grantId });
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label htmlFor={`${id}-reason`}>Reason for revoking</label>
      <input id={`${id}-reason`} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" className="button danger" disabled={revoke.isPending}>
        Revoke
      </button>
      {revoke.isSuccess && <Notice>Revocation started: the grant is {revoke.data.state}.</Notice>}
      <ErrorAlert error={revoke.error} />
    </form>
  );
}
