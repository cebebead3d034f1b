-- Intake from outside: the group-chat relay and the Open311 settings.
--
-- `chat_groups` are the chat groups a relay bot has reported messages from, each bound (or not
-- yet) to the node whose drafts its messages become. `chat_messages` is the relay log: every
-- message received is kept, whether it became a draft case (`outcome` = 'draft', `case_id`),
-- was chit-chat ('chit_chat'), came from a group not bound yet ('unbound') or could not be
-- opened ('failed', with `note`). A re-sent message (same group and message id) finds its row.
CREATE TABLE chat_groups (
    subdistrict_id {int} NOT NULL,
    group_id TEXT NOT NULL,
    group_name TEXT NOT NULL DEFAULT '',
    node_id {int},
    bound_by {int},
    bound_at {int},
    first_seen_at {int} NOT NULL,
    last_seen_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, group_id)
){strict};

CREATE TABLE chat_messages (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    group_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sender_id TEXT NOT NULL DEFAULT '',
    sender_name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    images_json TEXT NOT NULL DEFAULT '[]',
    sent_at {int} NOT NULL,
    received_at {int} NOT NULL,
    outcome TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    case_id {int},
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX chat_messages_source ON chat_messages (subdistrict_id, group_id, message_id);
CREATE INDEX chat_messages_group ON chat_messages (subdistrict_id, group_id, received_at);

-- Where Open311 requests without an `address_id` go: the default intake node and the
-- bounding box (integer microdegrees) a request's lat/long must fall in.
CREATE TABLE open311_settings (
    subdistrict_id {int} NOT NULL,
    default_node_id {int},
    min_lat_e6 {int},
    max_lat_e6 {int},
    min_lng_e6 {int},
    max_lng_e6 {int},
    updated_by {int},
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id)
){strict};
