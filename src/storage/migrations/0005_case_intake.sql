-- Migration 5: case_intake (filled in by its change).
SELECT 1;
