-- Migration 6: case_attachments (filled in by its change).
SELECT 1;
