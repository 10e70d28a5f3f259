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
