import type { Store } from "@leasehold/db";
import type { Clock, DirectMessage, TypedAuditEvent } from "@leasehold/domain";
import type { Logger, TargetCatalog } from "./broker-deps.js";
import type { Messenger, NotificationQueue } from "./messenger.js";

/** What every kind of notice needs. */
export type NoticeDeps = {
  readonly store: Store;
  readonly targets: TargetCatalog;
  readonly messenger: Messenger;
  readonly queue: NotificationQueue;
  /** Where revocation debt and failed or overdue rotations are announced, besides a target's own channel. */
  readonly alertsChannel: string | undefined;
  readonly clock: Clock;
  readonly log: Logger;
};

/** The typed audit events about one kind of subject. */
export type EventOf<S extends TypedAuditEvent["subjectType"]> = Extract<TypedAuditEvent, { subjectType: S }>;

/** A direct message, or a log line when the person has no account on the messenger. */
export const directMessageOrSkip =
  ({ messenger, log }: Pick<NoticeDeps, "messenger" | "log">) =>
  async (principalId: string, message: DirectMessage): Promise<void> => {
    if ((await messenger.directMessage(principalId, message)) === "no-recipient") {
      log.info({ principal: principalId }, "no messaging account for this principal; direct message skipped");
    }
  };
