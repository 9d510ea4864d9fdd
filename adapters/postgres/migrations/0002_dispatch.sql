-- The responder pool and its spatial index.
--
-- pos is the responder's position as a point in three dimensions, on a
-- sphere of the Earth's mean radius (metres, from Go's geo package). The
-- straight-line (chord) distance between two such points grows with their
-- great-circle distance, so the nearest by cube's <-> operator are the
-- nearest on the ground, everywhere: no boxes, no poles, no antimeridian.
-- A GiST index answers "k nearest" by walking the tree (KNN), and
-- btree_gist lets the tenant's equality conditions share that index.
-- Both extensions ship with PostgreSQL (contrib) and are trusted: the
-- database's owner may create them.

CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE responders (
    org_id      text NOT NULL REFERENCES organizations (id),
    environment text NOT NULL CHECK (environment IN ('live', 'test')),
    id          text NOT NULL,
    name        text NOT NULL,
    phone       text,
    lng         double precision NOT NULL,
    lat         double precision NOT NULL,
    pos         cube NOT NULL,
    status      text NOT NULL CHECK (status IN ('available', 'busy', 'offline')),
    incident_id text,
    idle_since  timestamptz,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, environment, id)
);

CREATE INDEX responders_available ON responders USING gist (org_id, environment, pos) WHERE status = 'available';
