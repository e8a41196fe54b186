-- The endurance race planner: an event's planner settings and plan state, its crews (cars) with their
-- drivers and spotters, the stints of each crew, admins' car overrides, what each member was last sent
-- when the plan was published, and each member's iCal feed generation. Also what a registration adds
-- for the planner: preferred hours, captain volunteers, "avoid my night".
-- Times are Unix SECONDS (UTC), as in the events tables.

CREATE TABLE event_plans (
    event_id            BIGINT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    settings            TEXT NOT NULL,              -- JSON (planner::Settings)
    revision            BIGINT NOT NULL DEFAULT 0, -- bumped by every change; edits name the one they saw
    unassigned          TEXT NOT NULL DEFAULT '[]', -- JSON: stage 1's reasons for members left out
    published_revision  BIGINT,
    published_at        BIGINT,
    announce_request_id TEXT,                       -- the bridge request of the last announcement
    announce_message_id TEXT,                       -- its Discord message: edited in place on re-publish
    green_flag_at       BIGINT,                    -- race day: the real start
    updated_at          BIGINT NOT NULL
);

CREATE TABLE event_crews (
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    crew       BIGINT NOT NULL CHECK (crew >= 0),  -- 0-based: "Car 1" is crew 0
    car_number TEXT NOT NULL DEFAULT '',
    captain_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    solve_error TEXT,  -- JSON {"code","args"}: why stage 2 could not plan this crew
    PRIMARY KEY (event_id, crew)
);

CREATE TABLE event_crew_members (
    event_id BIGINT NOT NULL,
    crew     BIGINT NOT NULL,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('driver', 'spotter')),
    PRIMARY KEY (event_id, user_id),
    FOREIGN KEY (event_id, crew) REFERENCES event_crews (event_id, crew) ON DELETE CASCADE
);

CREATE TABLE event_stints (
    event_id     BIGINT NOT NULL,
    crew         BIGINT NOT NULL,
    stint        BIGINT NOT NULL CHECK (stint >= 0),
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    laps         BIGINT NOT NULL,
    driver_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    spotter_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    locked       BIGINT NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    actual_start BIGINT,
    actual_end   BIGINT,
    PRIMARY KEY (event_id, crew, stint),
    FOREIGN KEY (event_id, crew) REFERENCES event_crews (event_id, crew) ON DELETE CASCADE
);
CREATE INDEX event_stints_by_start ON event_stints (starts_at);

-- A member seated without Garage61 laps in the event's car, on an admin's word (who and when).
CREATE TABLE event_car_overrides (
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- What each member's last itinerary DM said (a digest): a re-publish messages only those it changes.
CREATE TABLE event_plan_sent (
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest   TEXT NOT NULL,
    sent_at  BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- The iCal feed URL of a member carries HMAC(user, generation); a new generation revokes the old URL.
CREATE TABLE ical_feeds (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL DEFAULT 1
);

ALTER TABLE event_availability ADD COLUMN preferred BIGINT NOT NULL DEFAULT 0 CHECK (preferred IN (0, 1));
ALTER TABLE event_registrations ADD COLUMN captain_volunteer BIGINT NOT NULL DEFAULT 0 CHECK (captain_volunteer IN (0, 1));
ALTER TABLE event_registrations ADD COLUMN avoid_night BIGINT NOT NULL DEFAULT 0 CHECK (avoid_night IN (0, 1));
