-- Intake details of a case: anonymity, a map point (integer microdegrees), a free-text place,
-- when an offline contact really happened, who spoke (the phone sealed, only its mask shown),
-- the category's extra fields (Open311 attributes) and where a relayed message came from.
ALTER TABLE cases ADD COLUMN anonymous {int} NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN lat_e6 {int};
ALTER TABLE cases ADD COLUMN lng_e6 {int};
ALTER TABLE cases ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN occurred_at {int};
ALTER TABLE cases ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN contact_phone_mask TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN contact_phone_sealed {blob};
ALTER TABLE cases ADD COLUMN attributes_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';

-- The case's place as its materialised tree path (copied from `nodes`; paths never change),
-- so lists filter a subtree by a range on an index instead of joining every case to its node.
ALTER TABLE cases ADD COLUMN node_path TEXT NOT NULL DEFAULT '';
UPDATE cases SET node_path = (SELECT n.path FROM nodes n
    WHERE n.subdistrict_id = cases.subdistrict_id AND n.id = cases.node_id);
CREATE INDEX cases_path_created ON cases (subdistrict_id, node_path, created_at);
CREATE INDEX cases_created ON cases (subdistrict_id, created_at);
