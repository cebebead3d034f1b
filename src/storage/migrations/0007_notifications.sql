-- Migration 7: notifications. Each user's in-app inbox, the group-chat robot webhooks of a
-- subdistrict, and the durable outbox of their deliveries. Nothing is ever deleted from the
-- outbox: a delivery ends `delivered`, or `failed` after its attempts (still shown to admins,
-- who may retry it).

-- One notice in one user's inbox (texts in both languages; `link` is a site path).
CREATE TABLE inbox (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    user_id {int} NOT NULL,
    kind TEXT NOT NULL,
    case_id {int},
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    body_en TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at {int} NOT NULL,
    read_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX inbox_user ON inbox (subdistrict_id, user_id, created_at);
CREATE INDEX inbox_unread ON inbox (subdistrict_id, user_id, read_at);

-- A group-chat robot. format: wecom, dingtalk, feishu, generic. It is subscribed to a node
-- (and so its whole subtree: the node's path is a prefix) or to an organisation, and to the
-- notice kinds in `kinds` (comma-separated; empty = every kind; `case.*` = a prefix).
-- `secret` signs DingTalk/Feishu/generic requests; it is never shown back in full.
CREATE TABLE webhooks (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT,
    node_id {int},
    org_id {int},
    kinds TEXT NOT NULL DEFAULT '',
    enabled {int} NOT NULL DEFAULT 1,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX webhooks_name ON webhooks (subdistrict_id, name);

-- One delivery of one notice to one webhook. state: pending, delivered, failed.
-- `next_attempt_at` is when a pending row is due; a worker claiming it moves it into the
-- future (its lease) and writes its `claim` token, so a crashed worker's claim expires.
CREATE TABLE outbox (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    webhook_id {int} NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    next_attempt_at {int} NOT NULL,
    claim TEXT,
    last_attempt_at {int},
    last_status {int},
    last_error TEXT,
    created_at {int} NOT NULL,
    delivered_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX outbox_due ON outbox (subdistrict_id, state, next_attempt_at);
CREATE INDEX outbox_webhook ON outbox (subdistrict_id, webhook_id, created_at);
