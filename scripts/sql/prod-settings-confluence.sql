-- PROD's own settings, written into the real Confluence 6 dump (real-db/confluence-6.x-pg94.sql.xz)
-- so that a sandbox "PROD" looks like a production Confluence before a refresh rewrites its copy.
-- The dump is a real installation at http://localhost:8090; what it lacks is PROD's identity and
-- a link to PROD's Jira, so this file only changes values and adds those rows (loaded by
-- scripts/product-db.sh after the dump, before scripts/sql/prod-integrations-confluence.sql).

-- Base URL and title in the global settings (XStream XML in bandana, as Confluence keeps them).
UPDATE bandana
    SET bandanavalue = regexp_replace(
        regexp_replace(bandanavalue, '<baseUrl>[^<]*</baseUrl>', '<baseUrl>https://confluence.example.com</baseUrl>'),
        '<siteTitle>[^<]*</siteTitle>', '<siteTitle>Confluence</siteTitle>')
    WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings';

-- An application link to PROD's Jira, stored as Confluence stores app links (bandana, _GLOBAL,
-- `applinks.global.application.ids` and `applinks.admin.<id>.*`, XStream-encoded values). Ids
-- from the hi/lo block above the dump's (next_hi 27, blocks of 32,768), which is then taken.
INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES
    (884737, '_GLOBAL', 'applinks.global.application.ids', '<list><string>2841b105-5904-3c0a-9710-1ff26ae88206</string></list>'),
    (884738, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.name', '<string>Jira</string>'),
    (884739, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.type',
        '<string>com.atlassian.applinks.application.jira.JiraApplicationTypeImpl</string>'),
    (884740, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.display.url', '<string>https://jira.example.com</string>'),
    (884741, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.rpc.url', '<string>https://jira.example.com</string>'),
    (884742, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.primary', '<string>true</string>');
UPDATE hibernate_unique_key SET next_hi = 28;

-- PROD's own service account for the pipeline (`atlas-relay`, in confluence-administrators and
-- confluence-users of the internal directory), as an operator creates it once in PROD: the smoke
-- tests sign in with it. The password is the sandbox's PROD one (`prod-service-sandbox`, in
-- Atlassian's {PKCS5S2} format, made with Python's hashlib and a fixed salt). A refresh carries
-- it into DEV and UAT, where the refresher gives it the environment's own password before start.
INSERT INTO cwd_user (id, user_name, lower_user_name, active, created_date, updated_date, first_name,
                      lower_first_name, last_name, lower_last_name, display_name, lower_display_name,
                      email_address, lower_email_address, external_id, directory_id, credential)
VALUES (884743, 'atlas-relay', 'atlas-relay', 'T', now(), now(), 'Atlas', 'atlas', 'Relay', 'relay',
        'Atlas Relay pipeline', 'atlas relay pipeline', 'atlas-relay@example.com', 'atlas-relay@example.com',
        NULL, 131073, '{PKCS5S2}AAECAwQFBgcICQoLDA0OD479pu2KNcsKj9DZSIq5kntVUlkEA+FdHZrR7R2XfWKA');
INSERT INTO user_mapping (user_key, username, lower_username)
VALUES ('2c9480835b66d1e8015b66d3a7c00002', 'atlas-relay', 'atlas-relay');
INSERT INTO cwd_membership (id, parent_id, child_group_id, child_user_id) VALUES
    (884744, 196609, NULL, 884743),
    (884745, 196610, NULL, 884743);
