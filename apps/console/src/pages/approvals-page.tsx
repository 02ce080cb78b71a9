import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { ErrorAlert, Notice, QueryState } from "../components/alerts.js";
import { formatDurationSeconds } from "../lib/countdown.js";
import { type AccessRequest, useTRPC } from "../trpc.js";
import { GrantTable } from "./my-access-page.js";

/** `/approvals`: pending requests I may review; `?request=<id>` highlights one (the Slack bot links here). */
export function ApprovalsPage({ highlight }: { readonly highlight: string | null }) {
  const trpc = useTRPC();
  const pending = useQuery(trpc.requests.list.queryOptions({ view: "to-review", limit: 100 }));
  const missing = highlight && pending.data && !pending.data.some((r) => r.id === highlight);
  // A linked request outside the list (a Slack link, your own request) is still shown while pending:
  // the API, not the console, decides who may review it, and its refusal is shown as it words it.
  const linked = useQuery({
    ...trpc.requests.get.queryOptions({ requestId: highlight ?? "" }),
    enabled: Boolean(missing),
  });
  return (
    <>
      <h1>Approvals</h1>
      <QueryState query={pending} label="requests to review">
        {missing &&
          (linked.data?.state === "pending" ? (
            <ReviewCard request={linked.data} highlighted />
          ) : (
            <Notice>Request {highlight} is not waiting for your review (it may be decided already).</Notice>
          ))}
        {pending.data?.length === 0 ? (
          <p>Nothing waits for your review.</p>
        ) : (
          pending.data?.map((request) => (
            <ReviewCard key={request.id} request={request} highlighted={request.id === highlight} />
          ))
        )}
      </QueryState>
    </>
  );
}

function ReviewCard({
  request,
  highlighted,
}: {
  readonly request: AccessRequest;
  readonly highlighted: boolean;
}) {
  const headingId = `request-${request.id}`;
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (highlighted) ref.current?.scrollIntoView({ block: "start" });
  }, [highlighted]);
  return (
    <article
      ref={ref}
      className={highlighted ? "card highlight" : "card"}
      aria-labelledby={headingId}
      aria-current={highlighted ? "true" : undefined}
      data-testid={`request-${request.id}`}
    >
      <h2 id={headingId}>
        {request.requesterId} asks for {request.targetId}
      </h2>
      <dl className="facts">
        <dt>Requester</dt>
        <dd>{request.requesterId}</dd>
        <dt>Reason</dt>
        <dd className="prewrap">{request.reason}</dd>
        <dt>Ticket</dt>
        <dd>{request.ticket ?? "none"}</dd>
        <dt>Duration</dt>
        <dd>{formatDurationSeconds(request.durationSeconds)}</dd>
        <dt>Scopes</dt>
        <dd>{request.scopes.length > 0 ? request.scopes.join(", ") : "default"}</dd>
        <dt>Approvals</dt>
        <dd>
          {request.approvals.length} of {request.requiredApprovals}
          {request.approvals.length > 0 && ` (${request.approvals.join(", ")})`}
        </dd>
      </dl>
      <RequesterHistory requestId={request.id} />
      <ReviewForm requestId={request.id} />
    </article>
  );
}

function RequesterHistory({ requestId }: { readonly requestId: string }) {
  const trpc = useTRPC();
  const history = useQuery(trpc.requests.history.queryOptions({ requestId }));
  return (
    <section className="history" aria-labelledby={`history-${requestId}`}>
      <h3 id={`history-${requestId}`}>Requester's history on this target</h3>
      <QueryState query={history} label="history">
        <GrantTable grants={history.data?.grants ?? []} />
      </QueryState>
    </section>
  );
}

function ReviewForm({ requestId }: { readonly requestId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [comment, setComment] = useState("");
  const review = useMutation(
    trpc.reviews.submit.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.requests.pathFilter()),
    }),
  );
  const decide = (decision: "approve" | "deny") => (event: FormEvent) => {
    event.preventDefault();
    const text = comment.trim();
    review.mutate({ requestId, decision, ...(text ? { comment: text } : {}) });
  };
  const commentId = `comment-${requestId}`;
  return (
    <form className="stacked-form" onSubmit={decide("approve")}>
      <div className="field">
        <label htmlFor={commentId}>Comment</label>
        <textarea
          id={commentId}
          rows={2}
          maxLength={500}
          aria-describedby={`${commentId}-hint`}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
        <span id={`${commentId}-hint`} className="hint">
          Required to deny.
        </span>
      </div>
      <div className="actions-row">
        <button type="submit" className="button" disabled={review.isPending}>
          Approve
        </button>
        <button type="button" className="button danger" disabled={review.isPending} onClick={decide("deny")}>
          Deny
        </button>
      </div>
      {review.data && <Notice>Recorded: the request is {review.data.request.state}.</Notice>}
      <ErrorAlert error={review.error} returnTo={`/approvals?request=${requestId}`} />
    </form>
  );
}
