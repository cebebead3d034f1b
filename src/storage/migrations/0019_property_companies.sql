-- property_companies: placeholder, filled by its issue-5 slice.
SELECT 1;
