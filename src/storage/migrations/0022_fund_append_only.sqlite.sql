-- The maintenance fund's journal is append-only: a mistake is corrected by a reversing
-- posting, never by an UPDATE or DELETE, whoever asks.
CREATE TRIGGER fund_postings_no_update BEFORE UPDATE ON fund_postings
BEGIN SELECT RAISE(ABORT, 'fund_postings is append-only'); END;
CREATE TRIGGER fund_postings_no_delete BEFORE DELETE ON fund_postings
BEGIN SELECT RAISE(ABORT, 'fund_postings is append-only'); END;
CREATE TRIGGER fund_lines_no_update BEFORE UPDATE ON fund_lines
BEGIN SELECT RAISE(ABORT, 'fund_lines is append-only'); END;
CREATE TRIGGER fund_lines_no_delete BEFORE DELETE ON fund_lines
BEGIN SELECT RAISE(ABORT, 'fund_lines is append-only'); END;
