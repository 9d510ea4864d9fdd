-- A console session's credential is a key whose parent_key_id is the API
-- key that started it (auth.APIKey.ParentKeyID): authentication refuses a
-- session whose key was revoked or expired, revoking a key revokes its
-- sessions in the same transaction, and the records of ended sessions are
-- deleted after a while (auth.Store.PurgeSessions). API keys have none.
-- A session is never a parent; should one be deleted that is (a key store
-- written by hand), its sessions, ended with it, go too.
ALTER TABLE api_keys ADD COLUMN parent_key_id TEXT REFERENCES api_keys (id) ON DELETE CASCADE;

-- Sessions started before this release recorded their key only in their
-- name, "Console session of key_…": a key of the same tenant, whose scopes
-- a session copied exactly, started before it. Those get their parent, so
-- they end with their key and are purged like the others.
UPDATE api_keys SET parent_key_id = substr(name, 20)
WHERE name LIKE 'Console session of key\_%' ESCAPE '\' AND expires_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM api_keys p WHERE p.id = substr(api_keys.name, 20) AND p.org_id = api_keys.org_id
        AND p.environment = api_keys.environment AND p.scopes = api_keys.scopes AND p.created_at <= api_keys.created_at);

-- The sessions of a key, for the revocation's cascade (and the foreign key).
CREATE INDEX api_keys_parent ON api_keys (parent_key_id) WHERE parent_key_id IS NOT NULL;
-- Sessions by when they expire and when they were revoked: what the purge
-- deletes, found without reading the API keys.
CREATE INDEX api_keys_session_expires ON api_keys (expires_at) WHERE parent_key_id IS NOT NULL;
CREATE INDEX api_keys_session_revoked ON api_keys (revoked_at) WHERE parent_key_id IS NOT NULL;
