-- Migration 9: routing rules and the deadline watcher's memory.
--
-- routing_rules: which unit gets a category's cases in a place. `category_prefix` covers a
-- category and its subcategories at a '.' boundary ('' = every category); `node_id` is the
-- root of the subtree the rule applies in (NULL = the whole subdistrict); `unit_id` is a node
-- (grid, community, village, subdistrict) or an organisation. See cases::routing::rules.
CREATE TABLE routing_rules (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    category_prefix TEXT NOT NULL,
    node_id {int},
    unit_id {int} NOT NULL,
    priority {int} NOT NULL DEFAULT 0,
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};

-- case_alerts: each deadline warning or escalation the watcher has made, once per case, kind
-- ('due_soon' level 0, 'escalated' level 1 = community, 2 = subdistrict) and clock (the
-- instant the deadline's clock started), written in the same transaction as its notices.
CREATE TABLE case_alerts (
    subdistrict_id {int} NOT NULL,
    case_id {int} NOT NULL,
    kind TEXT NOT NULL,
    level {int} NOT NULL,
    clock_start {int} NOT NULL,
    unit_id {int},
    at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, case_id, kind, level, clock_start)
){strict};
