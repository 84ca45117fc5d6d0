-- Projects (Atlas "groups") and teams of an organization, who is in them, and what pending
-- invitations will grant in them. Every membership below points at the organization
-- membership it depends on, so removing a person from the organization removes them from its
-- projects and teams, and nothing can name a project or team of another organization.

CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT projects_name_unique UNIQUE (org_id, name),
    CONSTRAINT projects_in_org UNIQUE (id, org_id)
);

-- roles: space-separated Atlas project role names (GROUP_*), never empty.
CREATE TABLE project_members (
    project_id TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    roles      TEXT NOT NULL CHECK (roles <> ''),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX project_members_by_member ON project_members (org_id, user_id);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT teams_name_unique UNIQUE (org_id, name),
    CONSTRAINT teams_in_org UNIQUE (id, org_id)
);

CREATE TABLE team_members (
    team_id    TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX team_members_by_member ON team_members (org_id, user_id);

-- A team's roles in a project: every member of the team has them there.
CREATE TABLE project_teams (
    project_id TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    roles      TEXT NOT NULL CHECK (roles <> ''),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, team_id),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id) ON DELETE CASCADE
);
CREATE INDEX project_teams_by_team ON project_teams (team_id);

-- A project invitation (Atlas' legacy `/groups/{groupId}/invites`) is an invitation into the
-- project's organization issued through the project; NULL for an organization invitation.
-- Deleting the project deletes its invitations.
ALTER TABLE invitations ADD COLUMN project_id TEXT REFERENCES projects (id) ON DELETE CASCADE;

-- Who invited, when it was not a person: the organization API key's public id or the service
-- account's client id (Atlas shows it as `inviterUsername`).
ALTER TABLE invitations ADD COLUMN inviter_key_id TEXT;
CREATE UNIQUE INDEX invitations_in_org ON invitations (id, org_id);

-- One PENDING invitation per (organization, e-mail) and per project: an address may hold an
-- organization invitation and a project invitation of the same organization at once (Atlas
-- keeps them apart: deleting one leaves the other).
DROP INDEX invitations_one_pending;
CREATE UNIQUE INDEX invitations_one_pending
    ON invitations (org_id, email_normalized, COALESCE(project_id, '')) WHERE state = 'PENDING';

-- What accepting an invitation grants beyond the organization: project roles and teams.
CREATE TABLE invitation_projects (
    invitation_id TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    roles         TEXT NOT NULL CHECK (roles <> ''),
    PRIMARY KEY (invitation_id, project_id),
    FOREIGN KEY (invitation_id, org_id) REFERENCES invitations (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE INDEX invitation_projects_by_project ON invitation_projects (project_id);

CREATE TABLE invitation_teams (
    invitation_id TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    team_id       TEXT NOT NULL,
    PRIMARY KEY (invitation_id, team_id),
    FOREIGN KEY (invitation_id, org_id) REFERENCES invitations (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id) ON DELETE CASCADE
);
CREATE INDEX invitation_teams_by_team ON invitation_teams (team_id);
