-- Migration 10: case_measures (filled in by its change).
SELECT 1;
