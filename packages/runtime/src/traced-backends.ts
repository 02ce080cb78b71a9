import type { Store } from "@leasehold/db";
import type { CredentialProvider, GrantInput } from "@leasehold/providers";
import { carriesTrace, type QueueKey, type QueueProducer, queueRegistry } from "@leasehold/queue";
import { injectTraceContext, SpanKind, withSpan } from "@leasehold/tracing";

/**
 * Spans around what the use cases reach outside themselves: the provider calls, the commits and the
 * enqueues (which put the trace context into the job, so the worker continues it). Wrapped here, where
 * the broker is composed, so the use cases stay free of tracing. With tracing off each span is a no-op.
 */

/** A provider whose backend calls (issue, revoke, expire, …) each get a span: provider kind, grant, target, outcome. */
export function tracedProvider(provider: CredentialProvider): CredentialProvider {
  const span = <T>(operation: string, input: GrantInput, call: () => Promise<T>) =>
    withSpan(
      `provider.${operation}`,
      {
        "leasehold.provider.kind": provider.kind,
        "leasehold.provider.operation": operation,
        "leasehold.grant.id": input.grant.id,
        "leasehold.target.id": input.target.id,
      },
      call,
      { kind: SpanKind.CLIENT },
    );
  const renew = provider.renew?.bind(provider);
  return {
    ...provider,
    issue: (input) => span("issue", input, () => provider.issue(input)),
    discardEarlierAttempts: (input) => span("discard", input, () => provider.discardEarlierAttempts(input)),
    revoke: (input) => span("revoke", input, () => provider.revoke(input)),
    expire: (input) => span("expire", input, () => provider.expire(input)),
    release: (input) => span("release", input, () => provider.release(input)),
    ...(renew ? { renew: (input) => span("renew", input, () => renew(input)) } : {}),
  };
}

/** A store whose transactions (each one a commit of a state change and its audit event) get a span. */
export function tracedStore(store: Store): Store {
  return {
    read: (work) => store.read(work),
    transaction: (work) => withSpan("commit", {}, () => store.transaction(work), { onlyInTrace: true }),
    exclusive: (key, work) => store.exclusive(key, (locked) => work(tracedStore(locked))),
  };
}

/** The job data with the active trace context (the enqueue span's), when there is one. */
function withTrace<P>(payload: P): P {
  const trace = injectTraceContext();
  return trace ? { ...payload, trace } : payload;
}

/**
 * A producer whose issue, revoke and rotation-run jobs get an enqueue span and carry its trace context;
 * other queues (notifications, expiry, schedules) pass straight through, so their timers make no traces.
 */
export function tracedProducer(producer: QueueProducer): QueueProducer {
  const enqueue = <T>(key: QueueKey, jobId: string, work: () => Promise<T>) =>
    withSpan(
      `enqueue ${queueRegistry[key].name}`,
      {
        "messaging.system": "bullmq",
        "messaging.operation.type": "send",
        "messaging.destination.name": queueRegistry[key].name,
        "messaging.message.id": jobId,
      },
      work,
      { kind: SpanKind.PRODUCER },
    );
  return {
    ...producer,
    add: (key, payload, jobId, delayMs) =>
      carriesTrace(key)
        ? enqueue(key, jobId, () => producer.add(key, withTrace(payload), jobId, delayMs))
        : producer.add(key, payload, jobId, delayMs),
  };
}
