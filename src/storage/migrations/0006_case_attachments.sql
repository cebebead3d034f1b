-- Case attachments (photos). The bytes live in the database, so a database backup is a full
-- backup: `original_data` exactly as uploaded (staff only; it may carry EXIF and GPS), and
-- `display_data` / `thumb_data`, re-encoded JPEGs without any metadata (what the public sees).
-- `event_seq` is the timeline event a photo belongs to (NULL: the case as a whole). The same
-- bytes on the same case are one attachment (`sha256` unique per case).
CREATE TABLE case_attachments (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    case_id {int} NOT NULL,
    event_seq {int},
    uploaded_by {int},
    content_type TEXT NOT NULL,
    original_data {blob} NOT NULL,
    display_data {blob} NOT NULL,
    thumb_data {blob} NOT NULL,
    width {int} NOT NULL,
    height {int} NOT NULL,
    original_size {int} NOT NULL,
    display_size {int} NOT NULL,
    thumb_size {int} NOT NULL,
    sha256 TEXT NOT NULL,
    public {int} NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX case_attachments_sha256 ON case_attachments (subdistrict_id, case_id, sha256);
CREATE INDEX case_attachments_case ON case_attachments (subdistrict_id, case_id, created_at);
