-- PROD's integrations, written into the real Jira 8 dump (real-db/jira-8.x-pg11.sql.xz) after
-- scripts/sql/prod-settings-jira.sql, so that a sandbox "PROD" has what a production Jira has and
-- a refresh must neutralise in its copy. The real dump has none of these rows (its `mailserver`,
-- `trustedapp` and "AO_4AEACD_WEBHOOK_DAO" are empty, its only `oauthconsumer` is Jira's own
-- __HOST_SERVICE__ and its services are Jira's defaults): they are here because the dump lacks
-- them, written as Jira writes them, with ids clear of the dump's and of prod-settings-jira.sql's,
-- and the entity sequences (`sequence_value_item`, OfBiz's banks of 100) moved past them as Jira
-- would.
--
-- What is left in the dump as it is and still matters to a refresh: `clusternode` (two Data
-- Center nodes, jira-node1/jira-node2) and `clusternodeheartbeat`, and the licence in
-- `productlicense` (id 10001).

-- Outgoing mail: PROD's SMTP server (Administration > System > Outgoing Mail).
-- Incoming mail: the IMAP mailbox Jira fetches support mail from (Incoming Mail), used by the
-- mail handler below. Jira keeps both in `mailserver`, told apart by server_type; the password
-- is stored in clear by Jira (a placeholder here).
INSERT INTO mailserver (id, name, description, mailfrom, prefix, smtp_port, protocol, server_type, servername,
                        jndilocation, mailusername, mailpassword, istlsrequired, timeout, socks_port, socks_host)
VALUES
    (10000, 'PROD SMTP', 'Outgoing notifications', 'jira@example.com', '[JIRA]', '587', 'smtp', 'smtp',
     'smtp.example.com', NULL, 'jira', 'placeholder-not-a-password', 'true', 10000, NULL, NULL),
    (10001, 'Support mailbox', 'support@example.com, fetched by the mail handler', NULL, NULL, '993', 'imaps',
     'imap', 'imap.example.com', NULL, 'support@example.com', 'placeholder-not-a-password', 'false', 10000,
     NULL, NULL);
-- The dump has no MailServer bank yet: Jira would create it at 10000 and take a bank of 100.
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('MailServer', 10100);

-- The mail handler: a MailFetcherService (Incoming Mail > Mail Handlers) that drains the IMAP
-- mailbox every minute and creates or comments issues in project TEST. Its parameters are
-- application properties of entity 'ServiceConfig' (entity_id = the service's id), as Jira's
-- service configuration stores them: `handler`, `handler.params`, `popserver` (the mailserver
-- id, for POP and IMAP alike), `forwardEmail`, `foldername`.
INSERT INTO serviceconfig (id, delaytime, clazz, servicename, cron_expression) VALUES
    (10300, 60000, 'com.atlassian.jira.service.services.mail.MailFetcherService', 'Support mail handler',
     '0 * * * * ?');
UPDATE sequence_value_item SET seq_id = 10400 WHERE seq_name = 'ServiceConfig';

-- Property ids above prod-settings-jira.sql's (11010-11015, OSPropertyEntry moved to 11100).
INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype) VALUES
    (11100, 'ServiceConfig', 10300, 'handler', 5),
    (11101, 'ServiceConfig', 10300, 'handler.params', 5),
    (11102, 'ServiceConfig', 10300, 'popserver', 5),
    (11103, 'ServiceConfig', 10300, 'forwardEmail', 5),
    (11104, 'ServiceConfig', 10300, 'foldername', 5);
INSERT INTO propertystring (id, propertyvalue) VALUES
    (11100, 'com.atlassian.jira.service.util.handler.CreateOrCommentHandler'),
    (11101, 'project=TEST,issuetype=10000,createusers=false,notifyusers=true,ccassignee=true,catchemail=support@example.com,bulk=ignore'),
    (11102, '10001'),
    (11103, 'jira-admins@example.com'),
    (11104, 'INBOX');
UPDATE sequence_value_item SET seq_id = 11200 WHERE seq_name = 'OSPropertyEntry';

-- A webhook (Administration > System > WebHooks) that calls PROD's automation on every issue
-- created or updated: a copy of PROD would call it too. The id comes from the table's own
-- serial, as Active Objects inserts.
INSERT INTO "AO_4AEACD_WEBHOOK_DAO"
    ("ENABLED", "ENCODED_EVENTS", "FILTER", "JQL", "LAST_UPDATED", "LAST_UPDATED_USER", "NAME",
     "REGISTRATION_METHOD", "URL", "PARAMETERS", "EXCLUDE_ISSUE_DETAILS")
VALUES
    (true, 'jira:issue_created,jira:issue_updated', '', '', TIMESTAMP '2020-07-29 10:00:00', 'JIRAUSER10000',
     'PROD automation', 'REST', 'https://automation.example.com/hooks/jira/issue', NULL, false);

-- PROD Confluence as a trusted application (the old Trusted Apps authentication of application
-- links): Jira accepts requests signed with this key from PROD Confluence's address.
INSERT INTO trustedapp (id, application_id, name, public_key, ip_match, url_match, timeout, created, created_by,
                        updated, updated_by)
VALUES
    (10000, 'confluence:5798632', 'Confluence', 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAplaceholder',
     '10.20.30.40', '/sr/jira.issueviews:searchrequest', 10000, TIMESTAMP WITH TIME ZONE '2020-07-29 10:00:00+00',
     'pengwinn', TIMESTAMP WITH TIME ZONE '2020-07-29 10:00:00+00', 'pengwinn');
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('TrustedApplication', 10100);

-- The OAuth consumer Jira uses to call PROD Confluence through the application link (consumer
-- side; Jira's own __HOST_SERVICE__ row, id 10100, is the dump's and stays) ...
INSERT INTO oauthconsumer (id, created, consumername, consumer_key, consumerservice, public_key, private_key,
                           description, callback, signature_method, shared_secret)
VALUES
    (10200, TIMESTAMP WITH TIME ZONE '2020-07-29 10:00:00+00', 'Confluence', 'confluence:5798632',
     'applinks-0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e', 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAplaceholder',
     NULL, 'Atlassian Confluence at https://confluence.example.com',
     'https://confluence.example.com/plugins/servlet/oauth/authorize', 'RSA_SHA1', NULL);
UPDATE sequence_value_item SET seq_id = 10300 WHERE seq_name = 'OAuthConsumer';

-- ... and PROD Confluence registered as a consumer of Jira (service-provider side), with its
-- callback on PROD Confluence.
INSERT INTO oauthspconsumer (id, created, consumer_key, consumername, public_key, description, callback,
                             two_l_o_allowed, executing_two_l_o_user, two_l_o_impersonation_allowed,
                             three_l_o_allowed)
VALUES
    (10000, TIMESTAMP WITH TIME ZONE '2020-07-29 10:00:00+00', 'confluence:5798632', 'Confluence',
     'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAplaceholder', 'Atlassian Confluence',
     'https://confluence.example.com/plugins/servlet/applinks/oauth/login-dance/access', 'true', NULL, 'false',
     'true');
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('OAuthServiceProviderConsumer', 10100);
