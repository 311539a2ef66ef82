-- PostgreSQL form of server/src/store/migrations/0005_schedule_facts.sql.
-- 0005: the visit schedule's facts in the projection, as `shared::schedule` reads them from
-- the documents (the one conversion the worker's device uses too); open conflicts, who
-- made each visit and discarded drafts; what devices report of their unsent records.
-- Never edit a migration once released: add a new numbered file instead.
--
-- From this migration on, the schedule columns of proj_children, proj_placements,
-- proj_reviews and the fact_* columns of proj_visits hold the schedule's facts (real
-- dates only, the statutory basis defaulted to standard, intervals as "N days|weeks|
-- months"), not the text as stored: the dashboard reads them back field for field.
-- Rows written before are deleted here, so the server rebuilds the projection from the
-- documents when it starts (`projection::rebuild_if_empty`).

ALTER TABLE proj_placements ADD COLUMN short_breaks_interval TEXT;
ALTER TABLE proj_placements ADD COLUMN other_arrangements_interval TEXT;
ALTER TABLE proj_placements ADD COLUMN local_interval TEXT;

ALTER TABLE proj_visits ADD COLUMN fact_date TEXT;            -- NULL: no real date, no facts
ALTER TABLE proj_visits ADD COLUMN fact_child_seen BIGINT;
ALTER TABLE proj_visits ADD COLUMN fact_virtual BIGINT;
ALTER TABLE proj_visits ADD COLUMN fact_review_meeting BIGINT;
ALTER TABLE proj_visits ADD COLUMN fact_submitted BIGINT;
ALTER TABLE proj_visits ADD COLUMN fact_kind_recorded BIGINT;
ALTER TABLE proj_visits ADD COLUMN fact_made_by TEXT;         -- socialWorker, personalAdviser
ALTER TABLE proj_visits ADD COLUMN fact_discarded BIGINT;
ALTER TABLE proj_visits ADD COLUMN made_by TEXT;              -- as recorded
ALTER TABLE proj_visits ADD COLUMN discarded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE proj_visits ADD COLUMN open_conflicts BIGINT NOT NULL DEFAULT 0;

DELETE FROM proj_children;
DELETE FROM proj_placements;
DELETE FROM proj_reviews;
DELETE FROM proj_visits;
DELETE FROM proj_actions;
DELETE FROM proj_sign_offs;
DELETE FROM proj_amendments;

-- What each device said at its last contact about the records it had not yet sent (not
-- in `devices`, whose changes bump the directory version and make the hub re-read
-- grants): `admin device revoke` warns when records would be lost.
CREATE TABLE device_reports (
    device_id   TEXT   PRIMARY KEY REFERENCES devices (device_id),
    unsent      BIGINT NOT NULL,
    reported_at BIGINT NOT NULL -- server time, ms
);
