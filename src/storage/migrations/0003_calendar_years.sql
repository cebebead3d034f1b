-- Working-day calendars entered by administrators, one text per year (cases::calendar
-- parses it). A stored year replaces the shipped text of that year.
CREATE TABLE calendar_years (
    subdistrict_id {int} NOT NULL,
    year {int} NOT NULL,
    text TEXT NOT NULL,
    updated_by {int},
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, year)
){strict};
