import { MAX_WEBHOOK_BYTES, verifyPagerDutyWebhook } from "@leasehold/providers";
import type { FastifyInstance } from "fastify";

/** PagerDuty's Webhooks v3, when leasehold.yaml names their secrets (onCall.pagerduty.webhookSecretsEnv). */
export type PagerDutyWebhooks = {
  readonly secrets: readonly string[];
  /** Ends the grants resting on the incident, once the provider confirms none of theirs is open. */
  readonly incidentResolved: (incidentId: string) => Promise<number>;
};

/**
 * POST /webhooks/pagerduty: a signed `incident.resolved` ends the grants resting on that incident.
 * A webhook only prompts a check: the grants end only when PagerDuty's API says the incident is no
 * longer open, so a replayed or forged event cannot end a grant early. Anything that is not a genuine
 * incident event gets 204 too: answering PagerDuty's other events with an error counts towards it
 * disabling the subscription, and a forger learns nothing.
 */
export async function registerWebhookRoutes(
  app: FastifyInstance,
  pagerduty: PagerDutyWebhooks,
): Promise<void> {
  await app.register(async (scope) => {
    // The signature covers the exact bytes sent: keep the body raw.
    scope.addContentTypeParser(
      "application/json",
      { parseAs: "buffer", bodyLimit: MAX_WEBHOOK_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post("/webhooks/pagerduty", async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const event = verifyPagerDutyWebhook(body, request.headers, pagerduty.secrets);
      if (event?.eventType === "incident.resolved") {
        const ended = await pagerduty.incidentResolved(event.incidentId);
        request.log.info(
          { webhookId: event.webhookId, incidentId: event.incidentId, ended },
          "pagerduty incident resolved",
        );
      }
      return reply.code(204).send();
    });
  });
}
