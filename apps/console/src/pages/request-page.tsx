import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorAlert, Notice, QueryState } from "../components/alerts.js";
import { formatDurationSeconds } from "../lib/countdown.js";
import { type Target, useTRPC } from "../trpc.js";

type Draft = { targetId: string; minutes: string; reason: string; ticket: string; scopes: readonly string[] };

const EMPTY: Draft = { targetId: "", minutes: "", reason: "", ticket: "", scopes: [] };

/**
 * `/request`: ask for access to a target I may request. Bounds shown in the form come from the target;
 * the API checks them again. Break-glass is not offered: `targets.list` does not say who may use it.
 */
export function RequestPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const targets = useQuery(trpc.targets.list.queryOptions());
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const create = useMutation(
    trpc.requests.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.requests.pathFilter()),
    }),
  );
  const target = targets.data?.find((t) => t.id === draft.targetId);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!target) return;
    const minutes = Number.parseInt(draft.minutes, 10);
    create.mutate({
      targetId: target.id,
      reason: draft.reason.trim(),
      ...(Number.isFinite(minutes) ? { durationSeconds: minutes * 60 } : {}),
      ...(draft.ticket.trim() ? { ticket: draft.ticket.trim() } : {}),
      ...(draft.scopes.length > 0 ? { scopes: [...draft.scopes] } : {}),
    });
  };
  return (
    <>
      <h1>Request access</h1>
      <QueryState query={targets} label="targets">
        {targets.data?.length === 0 ? (
          <p>There is no target you may request.</p>
        ) : (
          <form className="stacked-form" onSubmit={submit}>
            <TargetField targets={targets.data ?? []} draft={draft} setDraft={setDraft} />
            {target && <TargetFields target={target} draft={draft} setDraft={setDraft} />}
            <button type="submit" className="button" disabled={!target || create.isPending}>
              Request access
            </button>
          </form>
        )}
      </QueryState>
      <ErrorAlert error={create.error} />
      {create.data && <CreatedRequest created={create.data} />}
    </>
  );
}

type FieldProps = { readonly draft: Draft; readonly setDraft: (draft: Draft) => void };

function TargetField({ targets, draft, setDraft }: FieldProps & { readonly targets: readonly Target[] }) {
  return (
    <div className="field">
      <label htmlFor="request-target">Target</label>
      <select
        id="request-target"
        required
        value={draft.targetId}
        onChange={(e) => setDraft({ ...EMPTY, reason: draft.reason, targetId: e.target.value })}
      >
        <option value="">Choose a target…</option>
        {targets.map((t) => (
          <option key={t.id} value={t.id}>
            {t.id} — {t.description}
          </option>
        ))}
      </select>
    </div>
  );
}

function TargetFields({ target, draft, setDraft }: FieldProps & { readonly target: Target }) {
  const maxMinutes = Math.floor(target.maxDurationSeconds / 60);
  const needsTicket = target.ticket.required || target.ticket.pattern !== null;
  return (
    <>
      <p className="muted">
        {target.description}. Needs {target.requiredApprovals} approval(s); at most{" "}
        {formatDurationSeconds(target.maxDurationSeconds)}.
      </p>
      <div className="field">
        <label htmlFor="request-duration">Duration (minutes)</label>
        <input
          id="request-duration"
          type="number"
          inputMode="numeric"
          min={1}
          max={maxMinutes}
          placeholder={String(Math.round(target.defaultDurationSeconds / 60))}
          aria-describedby="request-duration-hint"
          value={draft.minutes}
          onChange={(e) => setDraft({ ...draft, minutes: e.target.value })}
        />
        <span id="request-duration-hint" className="hint">
          Empty: the default, {formatDurationSeconds(target.defaultDurationSeconds)}. At most {maxMinutes}.
        </span>
      </div>
      <div className="field">
        <label htmlFor="request-reason">Reason</label>
        <textarea
          id="request-reason"
          required
          minLength={3}
          maxLength={1000}
          rows={3}
          value={draft.reason}
          onChange={(e) => setDraft({ ...draft, reason: e.target.value })}
        />
      </div>
      {needsTicket && (
        <div className="field">
          <label htmlFor="request-ticket">Ticket</label>
          <input
            id="request-ticket"
            required={target.ticket.required}
            maxLength={128}
            aria-describedby={target.ticket.pattern ? "request-ticket-hint" : undefined}
            value={draft.ticket}
            onChange={(e) => setDraft({ ...draft, ticket: e.target.value })}
          />
          {target.ticket.pattern && (
            <span id="request-ticket-hint" className="hint">
              Format: <code>{target.ticket.pattern}</code>
            </span>
          )}
        </div>
      )}
      {target.scopes.length > 0 && <ScopeFields target={target} draft={draft} setDraft={setDraft} />}
    </>
  );
}

function ScopeFields({ target, draft, setDraft }: FieldProps & { readonly target: Target }) {
  const toggle = (name: string, on: boolean) =>
    setDraft({ ...draft, scopes: on ? [...draft.scopes, name] : draft.scopes.filter((s) => s !== name) });
  return (
    <fieldset className="field">
      <legend>Scopes</legend>
      <p className="hint">None chosen: the default ({target.defaultScopes.join(", ") || "none"}).</p>
      {target.scopes.map((scope) => (
        <div key={scope.name} className="checkbox">
          <input
            type="checkbox"
            id={`scope-${scope.name}`}
            checked={draft.scopes.includes(scope.name)}
            onChange={(e) => toggle(scope.name, e.target.checked)}
          />
          <label htmlFor={`scope-${scope.name}`}>
            {scope.name} — {scope.description}
          </label>
        </div>
      ))}
    </fieldset>
  );
}

type Created = {
  readonly id: string;
  readonly state: string;
  readonly autoApproval: { readonly message: string } | null;
};

function CreatedRequest({ created }: { readonly created: Created }) {
  return (
    <Notice>
      <p>
        Request <code>{created.id}</code> is {created.state}.
      </p>
      {created.autoApproval && <p>{created.autoApproval.message}</p>}
    </Notice>
  );
}
