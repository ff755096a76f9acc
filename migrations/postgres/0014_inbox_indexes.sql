-- The phone's case tabs start from the caller: the cases assigned to them,
-- and the cases of the units they hold a role at (found by unit, then
-- status), instead of testing every open case against their roles.
CREATE INDEX disclosure_cases_assignee ON disclosure_cases (assignee_id, status);
CREATE INDEX disclosure_cases_unit_status ON disclosure_cases (unit_id, status);
