-- joint_office: placeholder, filled by its issue-5 slice.
SELECT 1;
