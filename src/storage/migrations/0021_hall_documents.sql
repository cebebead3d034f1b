-- hall_documents: the files of a deliberation hall's policy publicity (政策宣传): a policy's
-- PDF, a notice's scan, a plan's drawing. Kept in the database with their SHA-256, like the
-- votes' scanned proxies, so a backup holds them and nothing on disk can drift. Never changed;
-- removing one is not offered (a publicity record keeps what was published).
CREATE TABLE hall_documents (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    hall_id {int} NOT NULL,
    item_id {int} NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size {int} NOT NULL,
    sha256 TEXT NOT NULL,
    bytes {blob} NOT NULL,
    uploaded_by {int} NOT NULL,
    uploaded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX hall_documents_item ON hall_documents (subdistrict_id, hall_id, item_id);
