-- Migration 7: notifications (filled in by its change).
SELECT 1;
