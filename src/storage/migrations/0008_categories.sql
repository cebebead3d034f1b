-- Migration 8: each subdistrict's case category tree, as a versioned document. A subdistrict
-- without rows uses the shipped tree (version 0); the first edit stores a whole copy as
-- version 1. Every change appends the next version (never updated, never deleted), so the
-- rows are the full history, the primary key makes two concurrent edits of one version
-- collide (one wins, the other gets 409), and the newest row is the live tree.
-- `document` is the `cases::category::CategoryTree` as JSON.
CREATE TABLE category_tree_versions (
    subdistrict_id {int} NOT NULL,
    version {int} NOT NULL,
    document TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, version)
){strict};
