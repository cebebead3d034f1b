-- vote_electorates: a vote's frozen electorate (serde JSON of `electorate::Electorate`, a few
-- MB for a large estate), written once at opening and never changed. It lives outside
-- `votes` because every ballot moves the vote's head (`chain_head`, `ballot_count`): in the
-- same row, each such update would rewrite the whole electorate.
CREATE TABLE vote_electorates (
    subdistrict_id {int} NOT NULL,
    vote_id {int} NOT NULL,
    digest TEXT NOT NULL,
    electorate TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, vote_id)
){strict};
INSERT INTO vote_electorates (subdistrict_id, vote_id, digest, electorate)
    SELECT subdistrict_id, id, electorate_digest, electorate FROM votes
    WHERE electorate IS NOT NULL AND electorate_digest IS NOT NULL;
UPDATE votes SET electorate = NULL WHERE electorate IS NOT NULL;
