-- PROD's integrations, written into the real Confluence 6 dump (real-db/confluence-6.x-pg94.sql.xz)
-- after scripts/sql/prod-settings-confluence.sql, so that a sandbox "PROD" has what a production
-- Confluence has and a refresh must neutralise in its copy. The real dump has none of these (no
-- mail server in `bandana`, an empty "AO_A0B856_WEB_HOOK_LISTENER_AO", no `trustedapp`): they are
-- here because the dump lacks them, written as Confluence writes them, with ids from a Hibernate
-- hi/lo block of their own (prod-settings-confluence.sql took block 27 and left next_hi at 28;
-- this file takes block 28, ids 917504..., and leaves next_hi at 29, as Confluence would after
-- using a block).
--
-- What is left in the dump as it is and still matters to a refresh: `clustersafety` (one row, the
-- Data Center cluster-safety number; Confluence keeps no node rows).

-- Mail servers. Confluence's ConfluenceMailServerManager keeps every mail server, outgoing (SMTP)
-- and incoming (POP/IMAP) alike, in ONE bandana value: context _GLOBAL, key
-- `atlassian.confluence.smtp.mail.accounts`, the XStream XML of a LinkedHashMap<Long, MailServer>
-- keyed by the server's id (the time it was created, in milliseconds). Field names are those of
-- atlassian-mail's SMTPMailServerImpl/PopMailServerImpl. Passwords are placeholders.
INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES
    (917504, '_GLOBAL', 'atlassian.confluence.smtp.mail.accounts',
'<linked-hash-map>
  <entry>
    <long>1501320000000</long>
    <com.atlassian.mail.server.impl.SMTPMailServerImpl>
      <id>1501320000000</id>
      <name>PROD SMTP</name>
      <description></description>
      <hostname>smtp.example.com</hostname>
      <username>confluence</username>
      <password>placeholder-not-a-password</password>
      <type>smtp</type>
      <port>587</port>
      <timeout>10000</timeout>
      <tlsRequired>true</tlsRequired>
      <defaultFrom>confluence@example.com</defaultFrom>
      <prefix>[Confluence]</prefix>
      <isSessionServer>false</isSessionServer>
      <removePrecedence>false</removePrecedence>
    </com.atlassian.mail.server.impl.SMTPMailServerImpl>
  </entry>
  <entry>
    <long>1501320060000</long>
    <com.atlassian.mail.server.impl.PopMailServerImpl>
      <id>1501320060000</id>
      <name>Team inbox</name>
      <description>fetched into the mail archive</description>
      <hostname>pop.example.com</hostname>
      <username>team@example.com</username>
      <password>placeholder-not-a-password</password>
      <type>pop</type>
      <port>995</port>
      <timeout>10000</timeout>
      <tlsRequired>false</tlsRequired>
    </com.atlassian.mail.server.impl.PopMailServerImpl>
  </entry>
</linked-hash-map>');

-- A mail account of space TEST (Space tools > Integrations > Mail Accounts, the mail archiving
-- feature): DefaultMailAccountManager keeps a space's accounts in bandana under the space's
-- context (its key) as `atlassian.confluence.space.mailaccounts`, polls them and deletes each
-- message from the server once archived. The XStream class and field names follow MailAccount's
-- getters (hostname, protocol, port, username, folderName, enabled); the refresh removes the row
-- whatever it holds.
INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES
    (917509, 'TEST', 'atlassian.confluence.space.mailaccounts',
'<list>
  <com.atlassian.confluence.mail.archive.DefaultMailAccount>
    <id>1</id>
    <name>TEST archive</name>
    <description>team list, archived into TEST</description>
    <hostname>imap.example.com</hostname>
    <protocol>imaps</protocol>
    <port>993</port>
    <username>test-archive@example.com</username>
    <password>placeholder-not-a-password</password>
    <folderName>INBOX</folderName>
    <enabled>true</enabled>
  </com.atlassian.confluence.mail.archive.DefaultMailAccount>
</list>');

-- A webhook (General Configuration > Webhooks) that calls PROD's automation on every page created
-- or updated. The id comes from the table's own serial, as Active Objects inserts.
INSERT INTO "AO_A0B856_WEB_HOOK_LISTENER_AO"
    ("DESCRIPTION", "ENABLED", "EVENTS", "EXCLUDE_BODY", "FILTERS", "LAST_UPDATED", "LAST_UPDATED_USER", "NAME",
     "PARAMETERS", "REGISTRATION_METHOD", "URL")
VALUES
    ('Page changes to PROD automation', true, 'page_created,page_updated', false, '',
     TIMESTAMP '2017-07-29 10:00:00', '2c9480835b66d1e8015b66d2d7280000', 'PROD automation', NULL, 'REST',
     'https://automation.example.com/hooks/confluence/page');

-- PROD Jira as a trusted application: its public key in `keystore`, the application in
-- `trustedapp` (named by its application id), and the URL and IP restrictions Confluence checks
-- in `trustedapprestriction`.
INSERT INTO keystore (keyid, alias, type, algorithm, keyspec) VALUES
    (917505, 'jira:1234567', 'PUBLIC', 'RSA', 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAplaceholder');
INSERT INTO trustedapp (trustedappid, name, timeout, public_key_id) VALUES (917506, 'jira:1234567', 10000, 917505);
INSERT INTO trustedapprestriction (trustedappid, trustedapprestrictionid, type, restriction) VALUES
    (917506, 917507, 'URL', '/plugins/servlet/streams'),
    (917506, 917508, 'IP', '10.20.30.41');

UPDATE hibernate_unique_key SET next_hi = 29;
