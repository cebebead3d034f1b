-- The maintenance fund's journal is append-only: a mistake is corrected by a reversing
-- posting, never by an UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION fund_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$;
CREATE TRIGGER fund_postings_no_update BEFORE UPDATE OR DELETE ON fund_postings
FOR EACH ROW EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER fund_postings_no_truncate BEFORE TRUNCATE ON fund_postings
FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER fund_lines_no_update BEFORE UPDATE OR DELETE ON fund_lines
FOR EACH ROW EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER fund_lines_no_truncate BEFORE TRUNCATE ON fund_lines
FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse();
