-- Years of the holiday calendar loaded at run time (the State Council's
-- yearly notice, imported by a security administrator). For its year a row
-- wins over the calendar compiled into the build.
CREATE TABLE calendar_years (
    year         INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    -- The arrangement as JSON: {"holidays": {"YYYY-MM-DD": name}, "workdays": {...}}.
    arrangement  TEXT NOT NULL,
    -- Who loaded it: a user id, or `cli` for `gov-server calendar import`.
    imported_by  TEXT NOT NULL,
    imported_at  TIMESTAMP NOT NULL
);

-- The weekly reminder that next year's calendar is missing: one row per
-- year and ISO week, so that several instances send it once.
CREATE TABLE calendar_reminders (
    year     INTEGER NOT NULL,
    week     TEXT NOT NULL,
    sent_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (year, week)
);
