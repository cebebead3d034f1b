-- Migration 9: routing_rules (filled in by its change).
SELECT 1;
