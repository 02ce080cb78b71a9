/**
 * Schema migrations, applied in order, each once, each in its own transaction. Never edit one that
 * has shipped: add a new one. Kept as TypeScript strings so the build ships them with the code.
 */
export const migrations: readonly { readonly id: string; readonly sql: string }[] = [
  {
    id: "0001_core",
    sql: `
CREATE TABLE access_requests (
  id                 uuid PRIMARY KEY,
  target_id          text NOT NULL,
  requester_id       text NOT NULL,
  reason             text NOT NULL,
  ticket             text,
  duration_seconds   integer NOT NULL CHECK (duration_seconds > 0),
  required_approvals integer NOT NULL CHECK (required_approvals BETWEEN 1 AND 10),
  state              text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'cancelled', 'expired')),
  created_at         timestamptz NOT NULL,
  pending_until      timestamptz NOT NULL,
  decided_at         timestamptz,
  CHECK ((state = 'pending') = (decided_at IS NULL))
);
CREATE INDEX access_requests_by_requester ON access_requests (requester_id, created_at DESC);
CREATE INDEX access_requests_pending ON access_requests (pending_until) WHERE state = 'pending';
-- One pending request per requester and target; a second one is refused, not queued.
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (requester_id, target_id) WHERE state = 'pending';

-- One review per reviewer per request: a second click by the same approver cannot count twice.
CREATE TABLE reviews (
  request_id  uuid NOT NULL REFERENCES access_requests (id),
  reviewer_id text NOT NULL,
  decision    text NOT NULL CHECK (decision IN ('approve', 'deny')),
  comment     text,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (request_id, reviewer_id)
);

CREATE TABLE grants (
  id               uuid PRIMARY KEY,
  -- At most one grant per request (invariant 4); NULL for workload leases.
  request_id       uuid UNIQUE REFERENCES access_requests (id),
  target_id        text NOT NULL,
  principal_id     text NOT NULL,
  state            text NOT NULL CHECK (state IN
                     ('issuing', 'active', 'revoking', 'revoked', 'expired', 'failed', 'revocation_failed')),
  duration_seconds integer NOT NULL CHECK (duration_seconds > 0),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  issued_at        timestamptz,
  expires_at       timestamptz,
  ended_at         timestamptz,
  provider_ref     jsonb,
  issue_attempts   integer NOT NULL DEFAULT 0,
  last_error       text,
  -- Sealed (AES-256-GCM) credential; present only while the grant is active.
  credential       bytea,
  -- Set when the provider finished its clean-up after the natural deadline (e.g. pruning an STS deny).
  released_at      timestamptz,
  CHECK (credential IS NULL OR state = 'active'),
  CHECK (state IN ('issuing', 'failed') OR expires_at IS NOT NULL)
);
CREATE INDEX grants_by_principal ON grants (principal_id, created_at DESC);
-- The sweep's queries: grants that may still work, by deadline, and grants in transit.
CREATE INDEX grants_live_by_deadline ON grants (expires_at) WHERE state IN ('active', 'revocation_failed');
CREATE INDEX grants_in_transit ON grants (updated_at) WHERE state IN ('issuing', 'revoking');
CREATE INDEX grants_unreleased ON grants (expires_at)
  WHERE state IN ('revoked', 'expired', 'failed') AND released_at IS NULL;

-- Append-only, HMAC-chained audit trail. audit_head holds the newest event's seq and hash; its row
-- lock serializes writers so the chain has no forks, and it exposes truncation of the newest events.
CREATE TABLE audit_events (
  seq          bigint PRIMARY KEY,
  at           timestamptz NOT NULL,
  actor        text NOT NULL,
  action       text NOT NULL,
  subject_type text NOT NULL,
  subject_id   text NOT NULL,
  data         jsonb NOT NULL,
  prev_hash    text NOT NULL,
  hash         text NOT NULL
);
CREATE INDEX audit_events_by_subject ON audit_events (subject_id, seq);

CREATE TABLE audit_head (
  id   integer PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
`,
  },
  {
    id: "0002_notifications",
    sql: `
-- The Slack message that shows a request to its approvers, so every decision edits it in place.
CREATE TABLE slack_request_messages (
  request_id uuid PRIMARY KEY REFERENCES access_requests (id),
  channel    text NOT NULL,
  ts         text NOT NULL,
  created_at timestamptz NOT NULL
);

-- How far each consumer of the audit trail has read (notifications are derived from audit events).
CREATE TABLE audit_cursors (
  name text PRIMARY KEY,
  seq  bigint NOT NULL
);
`,
  },
  {
    id: "0003_rotations",
    sql: `
-- One row per rotation run. The run id is the ClientRequestToken Secrets Manager sees, so every
-- step of a retried run names the same pending version.
CREATE TABLE rotation_runs (
  id            uuid PRIMARY KEY,
  rotation_id   text NOT NULL,
  -- What started it: the schedule's tick (unique per rotation, so a tick runs once) or a person.
  trigger_key   text NOT NULL,
  triggered_by  text NOT NULL,
  state         text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
  step          text NOT NULL CHECK (step IN ('create', 'set', 'test', 'finish', 'done')),
  attempts      integer NOT NULL DEFAULT 0,
  -- The new secret, sealed, between "create" and "done" (needed to resume after a crash); then wiped.
  pending       bytea,
  steps         jsonb NOT NULL DEFAULT '[]'::jsonb,
  last_error    text,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  UNIQUE (rotation_id, trigger_key),
  CHECK (pending IS NULL OR state = 'running')
);
CREATE INDEX rotation_runs_by_rotation ON rotation_runs (rotation_id, started_at DESC);
`,
  },
  {
    id: "0004_audit_head_mac",
    sql: `
-- HMAC of the head's seq and hash under a key derived from the master key (audit-head.ts). NULL on an
-- existing installation until its next audited action, and on the empty trail's head, which needs none.
ALTER TABLE audit_head ADD COLUMN mac text;
`,
  },
  {
    id: "0005_grant_mac",
    sql: `
-- HMAC of the grant's security-relevant fields under a key derived from the master key (grant-seal.ts).
-- Rows from before it have none: they are neither issued nor delivered again.
ALTER TABLE grants ADD COLUMN mac text;
`,
  },
  {
    id: "0006_expiring_keys",
    sql: `
-- Short-lived keys for what the Redis backend keeps in Redis: Slack request signatures already accepted
-- (claimed once) and rate-limit counts (one per principal, use case and window). A row whose
-- expires_at has passed counts as absent; each write also deletes a few expired rows
-- (expiring-key-repo.ts), so the table holds about the live keys and no timer is needed.
CREATE TABLE expiring_keys (
  key        text PRIMARY KEY,
  count      integer NOT NULL CHECK (count > 0),
  expires_at timestamptz NOT NULL
);
CREATE INDEX expiring_keys_by_expiry ON expiring_keys (expires_at);
`,
  },
  {
    id: "0007_request_scopes",
    sql: `
-- The target's scopes a request asked for (names; what each does is in leasehold.yaml). The issuer
-- reads them with the request and checks them against the request.created audit event, so a database
-- writer cannot widen what gets issued. Requests from before it asked for none: the whole target.
ALTER TABLE access_requests ADD COLUMN scopes text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(scopes) <= 10);
`,
  },
  {
    id: "0008_request_escalation",
    sql: `
-- Escalation of unanswered requests (escalation.ts in the domain): how many levels up a request has
-- moved, and when it next moves if still undecided (NULL: never). The sweep moves it with a
-- conditional UPDATE on (escalation_level, state, escalate_at), so two workers never both take a step.
ALTER TABLE access_requests
  ADD COLUMN escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 5),
  ADD COLUMN escalate_at timestamptz;
CREATE INDEX access_requests_escalation_due ON access_requests (escalate_at)
  WHERE state = 'pending' AND escalate_at IS NOT NULL;

-- The Slack message that re-posted a request to an escalation level's channel, so each later event
-- edits it in place too, and a repeated delivery of the escalation does not post it again.
CREATE TABLE slack_escalation_messages (
  request_id uuid NOT NULL REFERENCES access_requests (id),
  level      integer NOT NULL CHECK (level BETWEEN 1 AND 5),
  channel    text NOT NULL,
  ts         text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (request_id, level)
);
`,
  },
  {
    id: "0009_break_glass",
    sql: `
-- Break-glass (break-glass.ts in the domain): a request approved by policy as it is made, with no
-- approver; it is never pending. Its grant comes from the same transaction.
ALTER TABLE access_requests ADD COLUMN break_glass boolean NOT NULL DEFAULT false;
ALTER TABLE access_requests ADD CONSTRAINT access_requests_break_glass_approved
  CHECK (NOT break_glass OR state = 'approved');
CREATE INDEX access_requests_break_glass ON access_requests (requester_id, created_at DESC) WHERE break_glass;

-- The one review of a break-glass, by an approver who is not its requester (the requester is copied
-- here so the database itself refuses a self-review). A break-glass without a row is an open item,
-- and blocks its requester's next break-glass; the check runs under the requester's advisory lock in
-- the creating transaction, so two concurrent break-glasses cannot both pass it.
CREATE TABLE break_glass_reviews (
  request_id   uuid PRIMARY KEY REFERENCES access_requests (id),
  requester_id text NOT NULL,
  reviewer_id  text NOT NULL CHECK (lower(reviewer_id) <> lower(requester_id)),
  verdict      text NOT NULL CHECK (verdict IN ('justified', 'unjustified')),
  comment      text,
  reviewed_at  timestamptz NOT NULL
);

-- Where each break-glass was broadcast (the alerts channel and the target's approvers' channel), so
-- its review rewrites each post in place and a repeated delivery does not post it twice.
CREATE TABLE slack_break_glass_messages (
  request_id uuid NOT NULL REFERENCES access_requests (id),
  channel    text NOT NULL,
  ts         text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (request_id, channel)
);
`,
  },
  {
    id: "0010_auto_approval",
    sql: `
-- Requests approved by policy rather than by people (on call, on an incident, pre-approved): the
-- policies that approved it. Counted per requester and target for autoApprove.maxPerDay.
ALTER TABLE access_requests ADD COLUMN approved_by_policy text[];
CREATE INDEX access_requests_auto_approved ON access_requests (requester_id, target_id, created_at)
  WHERE approved_by_policy IS NOT NULL;

-- A grant approved because its holder was on an incident ends when the incident resolves: the
-- incidents it rests on, polled by the sweep and matched by PagerDuty's webhooks.
CREATE TABLE grant_incidents (
  grant_id    uuid NOT NULL REFERENCES grants (id),
  provider    text NOT NULL CHECK (provider IN ('pagerduty', 'opsgenie')),
  service     text NOT NULL,
  incident_id text NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (grant_id, incident_id)
);
CREATE INDEX grant_incidents_by_incident ON grant_incidents (provider, incident_id);
`,
  },
  {
    id: "0011_pre_approvals",
    sql: `
-- Pre-approval windows (pre-approval.ts in the domain): an approver lets one person have one target
-- during [starts_at, ends_at) without being asked again. Withdrawn by setting revoked_at/revoked_by,
-- never by deleting the row, so the record of who pre-approved whom stays.
CREATE TABLE pre_approvals (
  id           uuid PRIMARY KEY,
  target_id    text NOT NULL,
  principal_id text NOT NULL,
  approver_id  text NOT NULL,
  reason       text NOT NULL,
  starts_at    timestamptz NOT NULL,
  ends_at      timestamptz NOT NULL,
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  revoked_by   text,
  CHECK (ends_at > starts_at),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
-- The auto-approval's question, asked on every request: does a window cover this person, target, now?
CREATE INDEX pre_approvals_lookup ON pre_approvals (principal_id, target_id, ends_at);
CREATE INDEX pre_approvals_by_target ON pre_approvals (target_id, created_at DESC);
`,
  },
  {
    id: "0012_audit_sink_cursors",
    sql: `
-- How far each audit sink (leasehold.yaml's auditSinks, by name) has durably received the trail: the
-- export moves seq only after the sink accepted every event up to it. A failing sink keeps its seq and
-- records why and since when; alerted_at remembers that its one alert for this outage went out.
CREATE TABLE audit_sink_cursors (
  sink          text PRIMARY KEY,
  seq           bigint NOT NULL CHECK (seq >= 0),
  updated_at    timestamptz NOT NULL,
  last_error    text,
  failing_since timestamptz,
  alerted_at    timestamptz
);
`,
  },
  {
    id: "0013_web_sessions",
    sql: `
-- The console's sign-in sessions (apps/api auth/). The browser's cookie holds a random id; only its
-- SHA-256 is kept, so a copy of this table cannot be replayed as a cookie. The CSRF token is derived
-- from the cookie's id and kept as a hash too. "id" is the public handle admins list and revoke by.
-- A session ends by setting ended_at/ended_by (sign-out, revocation), never by deleting the row.
CREATE TABLE web_sessions (
  id_hash      bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
  id           uuid NOT NULL UNIQUE,
  principal    jsonb NOT NULL,
  csrf_hash    bytea NOT NULL CHECK (octet_length(csrf_hash) = 32),
  auth_time    timestamptz,
  acr          text,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  ended_at     timestamptz,
  ended_by     text,
  CHECK (expires_at > created_at),
  CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
-- The admins' listing: sessions still open, newest first.
CREATE INDEX web_sessions_open ON web_sessions (created_at DESC) WHERE ended_at IS NULL;

-- Sign-ins in flight (GET /auth/login until /auth/callback), shared by every API replica: keyed by the
-- SHA-256 of the random handle in the browser's leasehold-login cookie, taken (deleted) once, living
-- ten minutes; each new one deletes a few expired ones, so the table stays small.
CREATE TABLE web_logins (
  handle_hash   bytea PRIMARY KEY CHECK (octet_length(handle_hash) = 32),
  state         text NOT NULL,
  nonce         text NOT NULL,
  code_verifier text NOT NULL,
  return_to     text NOT NULL,
  max_age       integer,
  acr           text,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX web_logins_expiry ON web_logins (expires_at);
`,
  },
  {
    id: "0014_audit_key_ids",
    sql: `
-- The id of the master key whose chain key links each event, and the head's (audit-log.ts): NULL on
-- what was written before master keys had ids; a key change is an event of its own (audit.key_changed).
ALTER TABLE audit_events ADD COLUMN key_id text;
ALTER TABLE audit_head ADD COLUMN key_id text;
`,
  },
  {
    id: "0015_vault_secret_ids",
    sql: `
-- Leasehold's own Vault AppRole secret ids, the secret store of the rotation vault-approle-secret-id
-- (vault-secret-id-rotation.ts in the broker). VAULT_SECRET_ID is the bootstrap, never stored; each run
-- adds a 'pending' row (its id is the run's id), makes it 'current' (the one every replica logs in with)
-- and the one before 'retired', wiping its sealed value: the run keeps what it needs to destroy the old
-- one in Vault. A pending row of a run that failed is retired by the next run. Rows are never deleted:
-- they are the record of which secret id was used when. The sealed value (secret id and accessor) is
-- encrypted with the credential key, bound to the row and to VAULT_ROLE_ID.
CREATE TABLE vault_secret_ids (
  id         uuid PRIMARY KEY,
  state      text NOT NULL CHECK (state IN ('pending', 'current', 'retired')),
  sealed     bytea,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK ((sealed IS NULL) = (state = 'retired'))
);
-- At most one current and one pending: two runs rotating at once cannot both win.
CREATE UNIQUE INDEX vault_secret_ids_one_each ON vault_secret_ids (state) WHERE state IN ('pending', 'current');
`,
  },
  {
    id: "0016_live_row_indexes",
    sql: `
-- Reads that run on every grant, lease, revocation, sweep or scrape, each limited to the rows that
-- matter: grants and rotation runs are never deleted, so without these each read the table whole, or
-- a principal's or a rotation's whole history. Times are EXPLAIN ANALYZE on PostgreSQL 15 with 200,000
-- ended grants or runs, before and after. Building them reads each table once and holds off writes to
-- it (72 ms for the slowest over 200,000 grants; 327 ms over 200,000 runs); IF NOT EXISTS lets an
-- installation build them beforehand with CREATE INDEX CONCURRENTLY under these names and definitions.

-- The caps' counts before every grant and lease (caps.ts in the broker), under the locks that put that
-- principal's or that target's next lease in line: 4 ms and 25 ms, then 0.1 ms. The target's count is
-- served by grants_live_by_target.
CREATE INDEX IF NOT EXISTS grants_held_by_principal ON grants (principal_id) WHERE state IN ('issuing', 'active');
-- The metrics' gauges of grants that may still work, on every scrape (health-counts.ts): 58 ms, then 0.3 ms.
CREATE INDEX IF NOT EXISTS grants_live_by_target ON grants (target_id, state)
  WHERE state IN ('issuing', 'active', 'revoking', 'revocation_failed');
-- What a shared AWS role must deny or keep serving, on every revocation and release under the role's
-- lock (listForDenials): 46 ms, then 0.1 ms. A grant leaves it once its clean-up ran.
CREATE INDEX IF NOT EXISTS grants_for_denials ON grants (target_id)
  WHERE released_at IS NULL AND state IN ('issuing', 'active', 'revoking', 'revoked', 'revocation_failed');
-- Runs whose job may be lost, every sweep (listStalled): 58 ms, then 0.02 ms.
CREATE INDEX IF NOT EXISTS rotation_runs_running ON rotation_runs (started_at) WHERE state = 'running';
-- A rotation's last success, every minute for each rotation (the overdue check) and on every scrape:
-- its whole history (12 ms for 10,000 runs), then one row.
CREATE INDEX IF NOT EXISTS rotation_runs_last_success ON rotation_runs (rotation_id, finished_at DESC)
  WHERE state = 'succeeded';
`,
  },
];
