-- Migration 8: categories (filled in by its change).
SELECT 1;
